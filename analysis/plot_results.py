"""Result plots: pass@k curves, accuracy across an alpha/temperature sweep, and mean output length per setting.

Reads results directories (prediction-{i}.jsonl, graded into verdicts.jsonl by simplerl_math_eval) and writes a PNG
plus the plotted numbers as CSV and JSON into --out_dir:

    python analysis/plot_results.py passk   --res_dirs base/ rl/ rast_alpha_1.0/ --labels base RL RAST --out_dir out/
    python analysis/plot_results.py sweep   --sweep_dir results/math500 --out_dir out/
    python analysis/plot_results.py lengths --res_dirs base/ rast/ --out_dir out/ [--tokenizer MODEL]
    python analysis/plot_results.py recovery --res_dirs rast_14b/ rast_7b/ --out_dir out/   # graded with
        math_eval_pred.py --base_dir --rl_dir: accuracy of base, RAST, RL and the recovery rate per setting
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the repository root importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.ticker import NullFormatter, ScalarFormatter
from simplerl_math_eval.metrics import average_accuracy, pass_at_k_curve

from analysis.common import output_token_counts, read_correct, read_predictions, read_setting, save_figure
from utils import write_csv, write_json


def _labels(res_dirs: Sequence[Path], labels: Sequence[str] | None) -> list[str]:
    if labels and len(labels) != len(res_dirs):
        raise SystemExit(f"--labels: {len(labels)} labels for {len(res_dirs)} results directories")
    return list(labels) if labels else [Path(d).name for d in res_dirs]


def pass_at_k_table(res_dirs: Sequence[Path], labels: Sequence[str]) -> list[dict]:
    """One row (setting, k, pass@k) per setting and k = 1..n (unbiased estimator, mean over problems)."""
    return [{"setting": label, "k": k, "pass_at_k": value}
            for res_dir, label in zip(res_dirs, labels)
            for k, value in pass_at_k_curve(read_correct(res_dir)).items()]


def plot_pass_at_k(rows: Sequence[dict], path: Path) -> None:
    fig, ax = plt.subplots(figsize=(6.5, 4.5))
    for setting in dict.fromkeys(row["setting"] for row in rows):
        points = [(row["k"], row["pass_at_k"]) for row in rows if row["setting"] == setting]
        ax.plot(*zip(*points), marker="o", markersize=3, label=setting)
    ax.set_xscale("log", base=2)
    n = max(row["k"] for row in rows)
    ax.set_xticks([2 ** i for i in range(n.bit_length()) if 2 ** i <= n] + ([n] if n & (n - 1) else []))
    ax.xaxis.set_major_formatter(ScalarFormatter())
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_xlabel("k (samples per problem, log2 scale)")
    ax.set_ylabel("pass@k")
    ax.set_title("pass@k")
    ax.grid(True, alpha=0.3)
    ax.legend()
    save_figure(fig, path)


def sweep_table(sweep_dir: Path) -> list[dict]:
    """Mean accuracy (and std of per-run accuracy) of every graded RAST directory, by its run_config.json."""
    rows = []
    for res_dir in sorted(Path(sweep_dir).iterdir()):
        setting = read_setting(res_dir)
        if setting is None or not (res_dir / "verdicts.jsonl").exists():
            continue
        mean, std = average_accuracy(read_correct(res_dir))
        rows.append({"setting": res_dir.name, "alpha": setting[0], "temperature": setting[1],
                     "accuracy": mean, "accuracy_std": std})
    if not rows:
        raise SystemExit(f"{sweep_dir}: no graded RAST results directories (with run_config.json and verdicts.jsonl)")
    return sorted(rows, key=lambda r: (r["alpha"], r["temperature"]))


def plot_sweep(rows: Sequence[dict], x: str, group: str, path: Path) -> None:
    """Accuracy against ``x`` (alpha or temperature), one line per value of ``group``."""
    fig, ax = plt.subplots(figsize=(6.5, 4.5))
    for value in sorted({row[group] for row in rows}):
        line = sorted((row[x], row["accuracy"], row["accuracy_std"]) for row in rows if row[group] == value)
        xs, ys, errs = (np.array(column) for column in zip(*line))
        (curve,) = ax.plot(xs, ys, marker="o", label=f"{group} = {value:g}")
        ax.fill_between(xs, ys - errs, ys + errs, color=curve.get_color(), alpha=0.12, linewidth=0)
    ax.set_xlabel(x)
    ax.set_ylabel("accuracy (mean; band: std over runs)")
    ax.set_title(f"Accuracy against {x}")
    ax.grid(True, alpha=0.3)
    ax.legend()
    save_figure(fig, path)


def length_table(res_dirs: Sequence[Path], labels: Sequence[str], tokenizer: str | None) -> list[dict]:
    """Mean and std of the output length in tokens per setting, over every result line of every run."""
    rows = []
    for res_dir, label in zip(res_dirs, labels):
        counts = np.array(output_token_counts(read_predictions(res_dir), tokenizer), dtype=float)
        rows.append({"setting": label, "outputs": len(counts), "mean_tokens": float(counts.mean()),
                     "std_tokens": float(counts.std())})
    return rows


def plot_lengths(rows: Sequence[dict], path: Path) -> None:
    fig, ax = plt.subplots(figsize=(max(5.0, 1.4 * len(rows) + 2), 4.5))
    bars = ax.bar([r["setting"] for r in rows], [r["mean_tokens"] for r in rows],
                  yerr=[r["std_tokens"] for r in rows], capsize=4, color="tab:blue", alpha=0.8)
    ax.bar_label(bars, labels=[f"{r['mean_tokens']:.1f}" for r in rows], label_type="center", color="white")
    ax.set_xlabel("setting")
    ax.set_ylabel("mean output length (tokens; bars: std)")
    ax.set_title("Mean output length per setting")
    ax.tick_params(axis="x", labelrotation=20)
    save_figure(fig, path)


def recovery_table(res_dirs: Sequence[Path], labels: Sequence[str]) -> list[dict]:
    """One row per setting: average accuracy of base, RAST and RL, and the recovery rate (None where undefined),
    from the metrics.json that math_eval_pred.py --base_dir --rl_dir wrote."""
    rows = []
    for res_dir, label in zip(res_dirs, labels):
        path = Path(res_dir) / "metrics.json"
        metrics = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
        if "recovery_rate" not in metrics:
            raise SystemExit(f"{path}: no recovery_rate; grade it with math_eval_pred.py --base_dir DIR --rl_dir DIR")
        rates = metrics["recovery_rate"]
        accuracy = {role: json.loads((Path(rates[f"{role}_dir"]) / "metrics.json").read_text())["average"]
                    for role in ("base", "rl")}
        rows.append({"setting": label, "benchmark": metrics["data_name"], "base": accuracy["base"],
                     "rast": metrics["average"], "rl": accuracy["rl"], "recovery_rate": rates["average"]})
    return rows


def plot_recovery(rows: Sequence[dict], path: Path) -> None:
    fig, (acc, rr) = plt.subplots(1, 2, figsize=(11, 4.5))
    x = np.arange(len(rows))
    for i, (key, name) in enumerate((("base", "base"), ("rast", "RAST"), ("rl", "RL-tuned"))):
        acc.bar(x + (i - 1) * 0.27, [100 * row[key] for row in rows], 0.27, label=name)
    rates = [row["recovery_rate"] for row in rows]
    rr.bar(x, [100 * r if r is not None else 0 for r in rates], 0.6, color="tab:green")
    for xi, rate in zip(x, rates):
        rr.annotate("n/a" if rate is None else f"{100 * rate:.1f}%", (xi, 100 * (rate or 0)), ha="center", va="bottom")
    rr.axhline(100, color="grey", lw=0.8, ls="--")
    for ax, ylabel in ((acc, "average accuracy (%)"), (rr, "recovery rate (%)")):
        ax.set_xticks(x, [f"{row['setting']}\n{row['benchmark']}" for row in rows])
        ax.set_ylabel(ylabel)
    acc.legend()
    rr.set_title("(RAST - base) / (RL - base)")
    save_figure(fig, path)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    passk = commands.add_parser("passk", help="pass@k curves, k = 1..n, of several graded results directories")
    lengths = commands.add_parser("lengths", help="mean output length (tokens) per results directory")
    recovery = commands.add_parser("recovery", help="accuracy (base, RAST, RL) and recovery rate per setting")
    for sub in (passk, lengths, recovery):
        sub.add_argument("--res_dirs", type=Path, nargs="+", required=True, help="results directories")
        sub.add_argument("--labels", nargs="+", help="legend label per directory (default: directory names)")
    lengths.add_argument("--tokenizer", help="tokenizer for result lines without num_tokens")
    sweep = commands.add_parser("sweep", help="accuracy against alpha and against temperature")
    sweep.add_argument("--sweep_dir", type=Path, required=True,
                       help="folder holding graded RAST results directories (run.py's, with run_config.json)")
    for sub in (passk, lengths, sweep, recovery):
        sub.add_argument("--out_dir", type=Path, required=True, help="where the PNG, CSV and JSON go")
    args = parser.parse_args(argv)
    args.out_dir.mkdir(parents=True, exist_ok=True)

    if args.command == "passk":
        rows = pass_at_k_table(args.res_dirs, _labels(args.res_dirs, args.labels))
        plot_pass_at_k(rows, args.out_dir / "pass_at_k.png")
        name = "pass_at_k"
    elif args.command == "sweep":
        rows = sweep_table(args.sweep_dir)
        plot_sweep(rows, "alpha", "temperature", args.out_dir / "accuracy_vs_alpha.png")
        plot_sweep(rows, "temperature", "alpha", args.out_dir / "accuracy_vs_temperature.png")
        name = "sweep"
    elif args.command == "recovery":
        rows = recovery_table(args.res_dirs, _labels(args.res_dirs, args.labels))
        plot_recovery(rows, args.out_dir / "recovery.png")
        name = "recovery"
    else:
        rows = length_table(args.res_dirs, _labels(args.res_dirs, args.labels), args.tokenizer)
        plot_lengths(rows, args.out_dir / "lengths.png")
        name = "lengths"
    write_csv(args.out_dir / f"{name}.csv", rows)
    write_json(args.out_dir / f"{name}.json", rows)
    print(f"wrote {name} plots and numbers to {args.out_dir}")


if __name__ == "__main__":
    main()
