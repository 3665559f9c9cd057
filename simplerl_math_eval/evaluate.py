"""Reading a results directory (prediction-{i}.jsonl files) and computing its metrics."""

import json
import os
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from rast_benchmarks.loading import DATA_DIR_ENV, read_jsonl

from simplerl_math_eval.grader import Grader
from simplerl_math_eval.metrics import (
    average_accuracy,
    cluster_answers,
    legacy_pass_at_k,
    majority_at_k,
    pass_at_k_curve,
    recovery_rate,
)
from simplerl_math_eval.normalize import compact
from simplerl_math_eval.original import original_extract
from simplerl_math_eval.parser import extract_answer, parse_ground_truth
from simplerl_math_eval.symbolic import math_verify_answer
from simplerl_math_eval.workers import WorkerPool

_PREDICTION_FILE = re.compile(r"prediction-(\d+)\.jsonl")


@dataclass
class Graded:
    """Per-sample grading of one results directory; arrays have shape (problems, runs)."""

    data_name: str
    idxs: list[int]
    golds: list[str]
    predictions: list[list[str]]
    correct: np.ndarray
    timed_out: np.ndarray


def _read_predictions(path: Path) -> list[dict]:
    """The lines of one prediction file; each must be a JSON object whose ``model_output`` is a string."""
    try:
        rows = read_jsonl(path)
    except UnicodeDecodeError:
        raise ValueError(f"{path}: line {_first_non_utf8_line(path)} is not UTF-8 text; fix or regenerate the "
                         "file") from None
    for number, row in enumerate(rows, start=1):
        if not isinstance(row, dict) or "model_output" not in row:
            raise ValueError(f"{path}: line {number} has no 'model_output' field; fix or regenerate the file")
        if not isinstance(row["model_output"], str):
            written = "null" if row["model_output"] is None else type(row["model_output"]).__name__
            raise ValueError(f"{path}: line {number} has a 'model_output' that is {written}, not text; fix or "
                             "regenerate the file")
    return rows


def _first_non_utf8_line(path: Path) -> int:
    """The number of the first line of ``path`` that is not valid UTF-8."""
    with path.open("rb") as f:
        for number, line in enumerate(f, start=1):
            try:
                line.decode("utf-8")
            except UnicodeDecodeError:
                return number
    return 0


def read_runs(res_dir: Path, k: int) -> list[list[dict]]:
    """The k runs prediction-0.jsonl .. prediction-{k-1}.jsonl of ``res_dir``, checked for completeness."""
    if not res_dir.is_dir():
        raise FileNotFoundError(f"results directory {res_dir} does not exist")
    present = {int(m.group(1)) for p in res_dir.iterdir() if (m := _PREDICTION_FILE.fullmatch(p.name))}
    missing = [i for i in range(k) if i not in present]
    if missing:
        raise FileNotFoundError(
            f"{res_dir}: --k {k} needs prediction-0.jsonl .. prediction-{k - 1}.jsonl but "
            f"{len(missing)} are missing (first: prediction-{missing[0]}.jsonl, {len(present)} present); "
            f"lower --k or generate the missing runs"
        )
    extra = sorted(i for i in present if i >= k)
    if extra:
        raise ValueError(
            f"{res_dir}: found {len(extra)} prediction files beyond --k {k} (e.g. prediction-{extra[0]}.jsonl); "
            f"pass --k {k + len(extra)} or move them away"
        )
    return [_read_predictions(res_dir / f"prediction-{i}.jsonl") for i in range(k)]


def _line_count_error(path: Path, lines: int, data_name: str, expected: int, size: int) -> ValueError:
    limit = f" (first {expected} of {size} problems, --num_questions {expected})" if expected < size else ""
    return ValueError(
        f"{path}: has {lines} lines but benchmark {data_name} has {expected} problems{limit}; "
        f"each line must be one problem in dataset order (check --num_questions / --limit)"
    )


def _benchmark_records(runs: list[list[dict]], data_name: str, data_dir: str | None) -> list[dict] | None:
    """The benchmark's records, or None when every line carries its gold ``answer`` and no local folder
    is given: then the benchmark is not loaded (no hub access)."""
    from rast_benchmarks import load_benchmark

    has_answers = all(line.get("answer") is not None for run in runs for line in run)
    if has_answers and not (data_dir or os.environ.get(DATA_DIR_ENV)):
        return None
    return load_benchmark(data_name, data_dir)


def check_benchmark(res_dir: Path, data_name: str, flag: str) -> None:
    """A results directory whose ``run_config.json`` names another benchmark is an error naming ``flag``."""
    from rast_benchmarks import canonical_name

    path = res_dir / "run_config.json"
    if not path.is_file():
        return  # no config: the line count check in select_problems still applies
    dataset = json.loads(path.read_text(encoding="utf-8")).get("settings", {}).get("dataset")
    if dataset and canonical_name(dataset) != data_name:
        raise ValueError(f"{flag} {res_dir}: holds {dataset} results (run_config.json) but it is used for "
                         f"{data_name}; give one directory per benchmark, in --data_names order")


def select_problems(
    res_dir: Path, runs: list[list[dict]], data_name: str, num_questions: int | None, data_dir: str | None
) -> tuple[list[list[dict]], list[str]]:
    """Check each run's line count against the benchmark; return the runs cut to the evaluated
    problems and their gold answers (a line's own ``answer`` wins over the benchmark record).

    A ``num_questions`` larger than the benchmark grades the whole benchmark with a warning on stderr.
    """
    from rast_benchmarks import get_spec

    records = _benchmark_records(runs, data_name, data_dir)
    size = get_spec(data_name).expected_count if records is None else len(records)
    if num_questions and num_questions > size:
        print(f"warning: --num_questions {num_questions} but {data_name} has {size} problems; grading all {size}",
              file=sys.stderr)
    expected = min(num_questions, size) if num_questions else size
    for i, run in enumerate(runs):
        if len(run) != expected and not (len(run) == size and expected < size):
            raise _line_count_error(res_dir / f"prediction-{i}.jsonl", len(run), data_name, expected, size)
    runs = [run[:expected] for run in runs]
    golds = [
        parse_ground_truth({"answer": line["answer"]}, "demo") if line.get("answer") is not None
        else parse_ground_truth(records[j], data_name)
        for j, line in enumerate(runs[0])
    ]
    return runs, golds


def grade_runs(
    runs: list[list[dict]],
    data_name: str,
    golds: list[str],
    grader: Grader,
    on_progress: Callable[[int], None] | None = None,
    extract: Callable[[str, str], str] = extract_answer,
) -> Graded:
    """Extract every sample's answer (``extract(output, data_name)``) and grade it against its problem's gold."""
    n_problems = len(golds)
    predictions = [[extract(run[j]["model_output"], data_name) for run in runs] for j in range(n_problems)]
    pairs = [(predictions[j][r], golds[j]) for j in range(n_problems) for r in range(len(runs))]
    verdicts = grader.grade_many(pairs, on_progress)
    correct = np.array([v.correct for v in verdicts], dtype=bool).reshape(n_problems, len(runs))
    timed_out = np.array([v.timed_out for v in verdicts], dtype=bool).reshape(n_problems, len(runs))
    idxs = [runs[0][j].get("idx", j) for j in range(n_problems)]
    return Graded(data_name, idxs, golds, predictions, correct, timed_out)


def majority_labels(graded: Graded, grader: Grader) -> list[list[int]]:
    """Equivalence-cluster ids of the samples of each problem (see metrics.cluster_answers).

    All correct answers equal the gold, so they form one cluster; the wrong answers are
    clustered with math_equal, their pairwise comparisons graded in one batch first.
    """
    pairs = []
    for answers, correct in zip(graded.predictions, graded.correct):
        wrong = list(dict.fromkeys(a for a, c in zip(answers, correct) if not c))
        pairs += [(a, b) for i, a in enumerate(wrong) for b in wrong[:i]]
    grader.grade_many(pairs)
    labels = []
    for answers, correct in zip(graded.predictions, graded.correct):
        is_correct = dict(zip(answers, correct))

        def equal(a: str, b: str) -> bool:
            if is_correct[a] or is_correct[b]:
                return bool(is_correct[a] and is_correct[b])
            return grader.grade(a, b).correct

        labels.append(cluster_answers(answers, equal))
    return labels


def compute_metrics(
    graded: Graded,
    ks: list[int],
    grader: Grader,
    with_majority: bool,
    legacy: bool,
    seed: int,
) -> dict:
    """All metrics of one graded results directory (majority only when ``with_majority``;
    ``seed`` drives the legacy pass@k draw and sampled majority@k)."""
    mean, std = average_accuracy(graded.correct)
    metrics = {
        "data_name": graded.data_name,
        "num_problems": int(graded.correct.shape[0]),
        "num_samples": int(graded.correct.shape[1]),
        "pass@k": {str(k): v for k, v in pass_at_k_curve(graded.correct).items()},
        "average": mean,
        "average_std": std,
        "timeouts": int(graded.timed_out.sum()),
    }
    if legacy:
        metrics["legacy_seed"] = seed
        metrics["legacy_pass@k"] = {str(k): legacy_pass_at_k(graded.correct, k, seed) for k in ks}
    if with_majority:
        labels = majority_labels(graded, grader)
        metrics["maj@k"] = {
            str(k): float(np.mean([majority_at_k(label, c, k, seed) for label, c in zip(labels, graded.correct)]))
            for k in ks
        }
    return metrics


def recovery_rates(rast: dict, base: dict, rl: dict) -> dict:
    """Recovery rate per metric (average, and each k of pass@k and maj@k both results hold); None where undefined."""
    rates: dict = {"average": recovery_rate(rast["average"], base["average"], rl["average"])}
    for key in ("pass@k", "maj@k"):
        ks = [k for k in rast.get(key, {}) if k in base.get(key, {}) and k in rl.get(key, {})]
        if ks:
            rates[key] = {k: recovery_rate(rast[key][k], base[key][k], rl[key][k]) for k in ks}
    return rates


def mean_rates(rates: list[dict]) -> dict:
    """The mean of several ``recovery_rates`` per metric, over those where it is defined (None if none is)."""

    def mean(values: list[float | None]) -> float | None:
        defined = [v for v in values if v is not None]
        return sum(defined) / len(defined) if defined else None

    out: dict = {"average": mean([r["average"] for r in rates])}
    for key in ("pass@k", "maj@k"):
        if all(key in r for r in rates):
            out[key] = {k: mean([r[key].get(k) for r in rates]) for k in rates[0][key]}
    return out


def grader_disagreements(ours: Graded, original: Graded) -> list[dict]:
    """The samples our grader and the original rules judge differently, with both answers and verdicts."""
    return [
        {"idx": idx, "run": run, "gold": ours.golds[j],
         "prediction": ours.predictions[j][run], "correct": bool(ours.correct[j, run]),
         "original_prediction": original.predictions[j][run], "original_correct": bool(original.correct[j, run])}
        for j, idx in enumerate(ours.idxs)
        for run in range(ours.correct.shape[1])
        if ours.correct[j, run] != original.correct[j, run]
    ]


def extraction_disagreements(runs: list[list[dict]], graded: Graded, workers: int, timeout: float) -> list[dict]:
    """The samples whose answer differs (as compact strings) between our extraction, the original project's
    and math-verify's reading of the whole output (run in timed workers; ``null`` when it timed out)."""
    outputs = [run[j]["model_output"] for j in range(len(graded.idxs)) for run in runs]
    pool = WorkerPool(math_verify_answer, workers, timeout)
    try:
        verified = pool.run([(output, "") for output in outputs])
    finally:
        pool.close()
    rows = []
    for i, (output, (mv, timed_out)) in enumerate(zip(outputs, verified)):
        j, run = divmod(i, len(runs))
        answers = {"ours": graded.predictions[j][run], "original": original_extract(output),
                   "math_verify": None if timed_out else mv}
        if len({compact(a) if a is not None else None for a in answers.values()}) > 1:
            rows.append({"idx": graded.idxs[j], "run": run, "gold": graded.golds[j], **answers,
                         "correct": bool(graded.correct[j, run])})
    return rows


def write_jsonl(path: Path, rows: list[dict]) -> None:
    """One JSON object per line."""
    with path.open("w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")


def write_outputs(res_dir: Path, graded: Graded, metrics: dict) -> None:
    """Write metrics.json and verdicts.jsonl into the results directory."""
    (res_dir / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n", encoding="utf-8")
    write_jsonl(res_dir / "verdicts.jsonl", [
        {"idx": idx, "run": run, "prediction": prediction, "gold": graded.golds[j],
         "correct": bool(graded.correct[j, run]), "timed_out": bool(graded.timed_out[j, run])}
        for j, idx in enumerate(graded.idxs)
        for run, prediction in enumerate(graded.predictions[j])
    ])
