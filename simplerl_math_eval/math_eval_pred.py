"""Command line: grade prediction-{i}.jsonl files and print pass@k / maj@k / average tables.

Run from inside simplerl_math_eval/, e.g.
    python math_eval_pred.py --data_names olympiadbench --k 32 --num_questions 675 \\
        --evaluation_mode pass --res_dir results/OlympiadBench
"""

import argparse
import json
import re
import sys
from contextlib import nullcontext
from pathlib import Path

try:
    import simplerl_math_eval  # noqa: F401
except ImportError:  # not pip-installed: import the package from the folder this script lives in
    sys.path.append(str(Path(__file__).resolve().parent.parent))

from rast_benchmarks.versions import package_versions
from tqdm import tqdm

from simplerl_math_eval import original
from simplerl_math_eval.evaluate import (
    check_benchmark,
    compute_metrics,
    extraction_disagreements,
    grade_runs,
    grader_disagreements,
    mean_rates,
    read_runs,
    recovery_rates,
    select_problems,
    write_jsonl,
    write_outputs,
)
from simplerl_math_eval.grader import DEFAULT_TIMEOUT, Grader

GRADER_DISAGREEMENTS = "grader_disagreements.jsonl"
EXTRACTION_DISAGREEMENTS = "extraction_disagreements.jsonl"


# Distributions that decide a score: the grader, its symbolic backends, the benchmark registry.
GRADING_PACKAGES = ("simplerl-math-eval", "rast-benchmarks", "math-verify", "latex2sympy2_extended", "sympy", "numpy")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data_names", required=True,
                        help="benchmark name (or comma-separated names, one per --res_dir)")
    parser.add_argument("--res_dir", nargs="+", default=[],
                        help="one or more results directories holding prediction-{i}.jsonl (one table row each)")
    parser.add_argument("--manifest", help="also the results directories listed in this file, one per line "
                                           "(as run.py --manifest writes them)")
    parser.add_argument("--base_dir", nargs="+", default=[],
                        help="the base model alone, one results directory per benchmark (in --data_names order): "
                             "with --rl_dir, prints the recovery rate (RAST - base) / (RL - base) of every --res_dir")
    parser.add_argument("--rl_dir", nargs="+", default=[],
                        help="the RL-tuned large model, one results directory per benchmark (in --data_names order)")
    parser.add_argument("--k", type=int, required=True, help="number of runs: prediction-0 .. prediction-{k-1}")
    parser.add_argument("--num_questions", type=int, default=None,
                        help="evaluate only the first N problems (files must hold N lines or the full benchmark)")
    parser.add_argument("--evaluation_mode", choices=["average", "pass", "majority"], default="pass",
                        help="which metric columns to print (pass@k and average are always in metrics.json)")
    parser.add_argument("--data_dir", default=None, help="local benchmark folder laid out as DIR/{name}/test.jsonl")
    parser.add_argument("--legacy_pass_at_k", action="store_true",
                        help="also report the original project's pass@k (k runs drawn at random, seeded by --seed)")
    parser.add_argument("--seed", type=int, default=0, help="seed for --legacy_pass_at_k and sampled majority@k")
    parser.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT,
                        help="hard time limit in seconds per symbolic comparison (timed out = wrong)")
    parser.add_argument("--workers", type=int, default=None, help="processes for symbolic comparisons")
    parser.add_argument("--show_answers", action="store_true",
                        help="also print, per problem, the gold answer and each run's extracted answer (x = wrong), "
                             f"and write the samples whose extraction differs between ours, the original project's "
                             f"and math-verify's to {EXTRACTION_DISAGREEMENTS} in the results directory")
    parser.add_argument("--grader", choices=["ours", "original"], default="ours",
                        help="original: also score with the Qwen2.5-Math/SimpleRL extraction and rules (3 s limit), "
                             f"one more table row per directory, disagreements in {GRADER_DISAGREEMENTS}")
    args = parser.parse_args(argv)
    if args.manifest:
        try:
            args.res_dir += [line for line in Path(args.manifest).read_text(encoding="utf-8").splitlines() if line]
        except OSError as error:
            parser.error(f"--manifest {args.manifest}: {error.strerror}")
    if not args.res_dir:
        parser.error("give --res_dir or --manifest")
    return args


def table_ks(k: int) -> list[int]:
    """1, 2, 4, ... up to k, and k itself."""
    ks = [2**i for i in range(k.bit_length()) if 2**i <= k]
    return ks if ks[-1] == k else ks + [k]


def format_table(rows: list[tuple[str, dict]], ks: list[int], mode: str, legacy: bool) -> str:
    """An aligned text table, one row per results directory."""
    if mode == "pass":
        key = "legacy_pass@k" if legacy else "pass@k"
        columns = [(f"{'legacy ' if legacy else ''}pass@{k}", key, str(k)) for k in ks]
    elif mode == "majority":
        columns = [(f"maj@{k}", "maj@k", str(k)) for k in ks]
    else:
        columns = []
    header = ["res_dir"] + [name for name, _, _ in columns] + ["average±std", "problems", "timeouts"]
    lines = []
    for res_dir, m in rows:
        cells = [f"{100 * m[key][k]:.1f}" for _, key, k in columns]
        cells.append(f"{100 * m['average']:.1f}±{100 * m['average_std']:.1f}")
        lines.append([res_dir] + cells + [str(m["num_problems"]), str(m["timeouts"])])
    widths = [max(len(r[i]) for r in [header] + lines) for i in range(len(header))]

    def render(row: list[str]) -> str:
        return "  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths)))

    return "\n".join([render(header), "  ".join("-" * w for w in widths)] + [render(r) for r in lines])


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")


def printable(text: str) -> str:
    """``text`` with control characters (terminal escape sequences, line breaks, bidirectional overrides) written
    as escapes (``\\x1b``, ``\\n``, ``\\u202e``), so model text printed to a terminal cannot act on it."""
    return _CONTROL.sub(lambda m: repr(m.group())[1:-1], text)


def format_answers(res_dir: str, graded) -> str:
    """Per problem: the gold answer, then each run's extracted answer, marked x when wrong."""
    lines = [f"answers in {res_dir}:"]
    for j, idx in enumerate(graded.idxs):
        answers = [printable(p) + ("" if ok else " x") for p, ok in zip(graded.predictions[j], graded.correct[j])]
        lines.append(f"  [{idx}] gold {graded.golds[j]!r}: " + " | ".join(answers))
    return "\n".join(lines)


def format_rates(rows: list[tuple[str, dict]], ks: list[int], mode: str) -> str:
    """The recovery rate table: one row per results directory (n/a where RL = base)."""
    key, name = ("maj@k", "maj") if mode == "majority" else ("pass@k", "pass")
    header = ["recovery rate", "average"] + [f"{name}@{k}" for k in ks]

    def cell(value: float | None) -> str:
        return "n/a" if value is None else f"{100 * value:.1f}%"

    lines = [[label, cell(r["average"])] + [cell(r.get(key, {}).get(str(k))) for k in ks] for label, r in rows]
    widths = [max(len(row[i]) for row in [header] + lines) for i in range(len(header))]
    return "\n".join("  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths)))
                     for row in [header] + lines)


def _references(args: argparse.Namespace, names: list[str]) -> dict[str, dict[str, str]]:
    """benchmark -> {"base": dir, "rl": dir} from --base_dir / --rl_dir (one each per benchmark)."""
    if not (args.base_dir or args.rl_dir):
        return {}
    benchmarks = list(dict.fromkeys(names))
    for flag, dirs in (("--base_dir", args.base_dir), ("--rl_dir", args.rl_dir)):
        if len(dirs) != len(benchmarks):
            raise ValueError(f"{flag} has {len(dirs)} directories for {len(benchmarks)} benchmarks "
                             f"({', '.join(benchmarks)}); give one per benchmark, in --data_names order")
    return {b: {"base": base, "rl": rl} for b, base, rl in zip(benchmarks, args.base_dir, args.rl_dir)}


def run(args: argparse.Namespace) -> str:
    """Evaluate every results directory; write their outputs and return the table."""
    from rast_benchmarks import canonical_name

    names = [canonical_name(n.strip()) for n in args.data_names.split(",")]
    if len(names) not in (1, len(args.res_dir)):
        raise ValueError(f"--data_names has {len(names)} names for {len(args.res_dir)} --res_dir; "
                         "give 1 or one per dir")
    if args.k < 1 or (args.num_questions is not None and args.num_questions < 1):
        raise ValueError("--k and --num_questions must be positive")
    names = names * len(args.res_dir) if len(names) == 1 else names
    ks = table_ks(args.k)
    references = _references(args, names)
    reference_dirs = [(d, b, f"--{role}_dir") for b, dirs in references.items() for role, d in dirs.items()]
    prepared = []
    for res_dir, name, flag in [(d, n, "--res_dir") for d, n in zip(args.res_dir, names)] + reference_dirs:
        # check every input before the slow part
        try:
            check_benchmark(Path(res_dir), name, flag)
            runs = read_runs(Path(res_dir), args.k)
        except FileNotFoundError as error:
            raise FileNotFoundError(f"{flag} {error}") from None
        prepared.append((res_dir, name, *select_problems(Path(res_dir), runs, name, args.num_questions, args.data_dir)))
    rows, shown, notes, by_dir = [], [], [], {}
    with_majority = args.evaluation_mode == "majority"
    original_rules = args.grader == "original"  # their workers start only when asked for
    with (Grader(args.timeout, args.workers) as grader,
          Grader(original.TIMEOUT, args.workers, compare=original.original_equal, fast=None) if original_rules
          else nullcontext() as original_grader):
        for res_dir, name, runs, golds in prepared:
            with tqdm(total=len(golds) * args.k, desc=f"grading {res_dir}", unit="sample") as bar:
                graded = grade_runs(runs, name, golds, grader, bar.update)
            metrics = compute_metrics(graded, ks, grader, with_majority, args.legacy_pass_at_k, args.seed)
            metrics["res_dir"] = res_dir
            metrics["grading"] = {"timeout_s": args.timeout, "versions": package_versions(GRADING_PACKAGES)}
            rows.append((res_dir, metrics))
            by_dir[res_dir] = metrics
            if original_rules:
                with tqdm(total=len(golds) * args.k, desc=f"original rules {res_dir}", unit="sample") as bar:
                    theirs = grade_runs(runs, name, golds, original_grader, bar.update,
                                        extract=lambda text, _: original.original_extract(text))
                metrics["original"] = compute_metrics(theirs, ks, original_grader, with_majority,
                                                      args.legacy_pass_at_k, args.seed)
                rows.append((f"{res_dir} [original]", metrics["original"]))
                differ = grader_disagreements(graded, theirs)
                metrics["grader_disagreement"] = {"count": len(differ), "share": len(differ) / graded.correct.size}
                write_jsonl(Path(res_dir) / GRADER_DISAGREEMENTS, differ)
                notes.append(f"{res_dir}: ours and the original rules disagree on {len(differ)} of "
                             f"{graded.correct.size} samples ({100 * len(differ) / graded.correct.size:.1f}%), "
                             f"listed in {Path(res_dir) / GRADER_DISAGREEMENTS}")
            write_outputs(Path(res_dir), graded, metrics)
            if args.show_answers:
                shown.append(format_answers(res_dir, graded))
                differ = extraction_disagreements(runs, graded, grader.workers, args.timeout)
                write_jsonl(Path(res_dir) / EXTRACTION_DISAGREEMENTS, differ)
                notes.append(f"{res_dir}: extractions (ours, original, math-verify) differ on {len(differ)} of "
                             f"{graded.correct.size} samples, listed in {Path(res_dir) / EXTRACTION_DISAGREEMENTS}")
    table = format_table(rows, ks, args.evaluation_mode, args.legacy_pass_at_k)
    blocks = [*shown, table]
    if references:
        blocks.append(_recovery(args.res_dir, names, references, by_dir, ks, args.evaluation_mode))
    return "\n\n".join(blocks + (["\n".join(notes)] if notes else []))


def _recovery(res_dirs: list[str], names: list[str], references: dict[str, dict[str, str]], by_dir: dict[str, dict],
              ks: list[int], mode: str) -> str:
    """Recovery rates of each RAST directory (written into its metrics.json) and their mean over benchmarks."""
    rows = []
    for res_dir, name in zip(res_dirs, names):
        base, rl = references[name]["base"], references[name]["rl"]
        rates = recovery_rates(by_dir[res_dir], by_dir[base], by_dir[rl])
        by_dir[res_dir]["recovery_rate"] = {"base_dir": base, "rl_dir": rl, **rates}
        rows.append((f"{res_dir} ({name})", rates))
    if len(rows) > 1:
        mean = mean_rates([rates for _, rates in rows])
        rows.append(("mean over benchmarks", mean))
        for res_dir in res_dirs:
            by_dir[res_dir]["recovery_rate_mean"] = {"res_dirs": res_dirs, **mean}
    for res_dir in res_dirs:
        (Path(res_dir) / "metrics.json").write_text(json.dumps(by_dir[res_dir], indent=2) + "\n", encoding="utf-8")
    return format_rates(rows, ks, mode)


def main(argv: list[str] | None = None) -> int:
    """Entry point: prints the table, or one ``error: ...`` line and exit code 2 on bad input."""
    args = parse_args(argv)
    try:
        print(run(args))
    except (ValueError, FileNotFoundError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
