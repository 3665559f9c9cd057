"""Path coverage: how much of an RL-tuned model's rollouts greedy decoding of base + lambda * delta would write.

For each rollout of an RL-tuned model (a results directory of prediction-{i}.jsonl with question and model_output),
the prompt (its --prompt_template, by default the one in the directory's run_config.json) and the rollout are
teacher-forced through the base model and the pair (positive, negative); at every rollout token, for each lambda,
the token is covered when argmax(base + lambda * (positive - negative)) is that token: given the rollout so far,
greedy decoding of the combination would write it. lambda 0 is the base alone, the reference every other lambda is
compared with (the original project's analysis/greedy_delta.py looked at 1.4 and 1.5). Per lambda:

- coverage: covered tokens / rollout tokens, over all rollouts;
- mean rollout coverage: the mean of each rollout's own coverage;
- reproduced rollouts: the share of rollouts covered at every token (greedy decoding would write them exactly);
- gain over the base: coverage - coverage at lambda 0.

Logits come from the reference implementation by teacher forcing (``ReferenceRast.logit_blocks``), --block_size
positions at a time, on --device in --dtype (bfloat16 on GPUs). Writes path_coverage.png, summary.json,
coverage.csv (one row per lambda) and rollouts.csv (one row per rollout and lambda) into --out_dir:

    python analysis/path_coverage.py --res_dir results/math500/Qwen-2.5-14B-SimpleRL-Zoo_temp_1.0 \\
        --base_model Qwen/Qwen2.5-14B --positive_model hkust-nlp/Qwen-2.5-1.5B-SimpleRL-Zoo \\
        --negative_model Qwen/Qwen2.5-1.5B --device cuda --limit 50 --out_dir out/
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the repository root importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import matplotlib.pyplot as plt
import numpy as np
import torch

from analysis.common import (add_model_options, encode_pair, load_reference, prediction_files, prompt_template,
                             require_models, save_figure)
from rast_benchmarks.loading import read_jsonl
from utils import write_csv, write_json

DEFAULT_LAMBDAS = (0.0, 0.5, 1.0, 1.4, 1.5, 2.0)


def covered_tokens(rast, token_ids: Sequence[int], first: int, lambdas: Sequence[float],
                   block_size: int) -> torch.Tensor:
    """Whether each token after position ``first`` is the argmax of base + lambda * delta before it: bool [L, N].

    N = len(token_ids) - first - 1 tokens, L = len(lambdas); ``rast`` holds one pair.
    """
    covered = []
    for block in rast.logit_blocks(token_ids[:-1], block_size, start=first):  # row t predicts token t + 1
        targets = torch.tensor(token_ids[block.start + 1:block.start + 1 + len(block.base)],
                               device=block.base.device)  # [B]
        covered.append(torch.stack([rast.combine(block.base, block.deltas, [lam]).argmax(dim=-1) == targets
                                    for lam in lambdas]).cpu())  # [L, B]
    return torch.cat(covered, dim=1) if covered else torch.zeros(len(lambdas), 0, dtype=torch.bool)


def rollout_rows(rast, tokenizer, rollouts: Sequence[dict], lambdas: Sequence[float], block_size: int) -> list[dict]:
    """One row per (rollout, lambda): rollout tokens, covered tokens, coverage and the prefix greedy reproduces."""
    rows = []
    for rollout in rollouts:
        token_ids, first = encode_pair(tokenizer, rollout["prompt"], rollout["model_output"])
        covered = covered_tokens(rast, token_ids, first, lambdas, block_size)  # [L, N]
        tokens = covered.shape[1]
        if tokens == 0:
            continue
        for lam, hits in zip(lambdas, covered):
            misses = (~hits).nonzero()
            rows.append({"run": rollout["run"], "line": rollout["line"], "lambda": lam, "tokens": tokens,
                         "covered": int(hits.sum()), "coverage": float(hits.float().mean()),
                         "reproduced_prefix": int(misses[0]) if len(misses) else tokens})
    return rows


def coverage_table(rows: Sequence[dict], lambdas: Sequence[float]) -> list[dict]:
    """One row per lambda: pooled coverage, mean rollout coverage, reproduced rollouts and gain over lambda 0."""
    table = []
    for lam in lambdas:
        mine = [r for r in rows if r["lambda"] == lam]
        tokens, covered = sum(r["tokens"] for r in mine), sum(r["covered"] for r in mine)
        table.append({"lambda": lam, "rollouts": len(mine), "tokens": tokens, "covered": covered,
                      "coverage": covered / tokens,
                      "mean_rollout_coverage": float(np.mean([r["coverage"] for r in mine])),
                      "reproduced_rollouts": float(np.mean([r["covered"] == r["tokens"] for r in mine]))})
    base = next(row["coverage"] for row in table if row["lambda"] == 0.0)
    for row in table:
        row["gain_over_base"] = row["coverage"] - base
    return table


def plot_coverage(table: Sequence[dict], rows: Sequence[dict], path: Path) -> None:
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.5))
    lambdas = [row["lambda"] for row in table]
    left.plot(lambdas, [100 * row["coverage"] for row in table], marker="o", label="all rollout tokens")
    left.plot(lambdas, [100 * row["mean_rollout_coverage"] for row in table], marker="s", linestyle=":",
              label="mean over rollouts")
    left.axhline(100 * table[lambdas.index(0.0)]["coverage"], color="gray", linestyle="--", label="base alone")
    left.set_xlabel("lambda in base + lambda * (positive - negative)")
    left.set_ylabel("rollout tokens greedy decoding reproduces (%)")
    left.set_title(f"Path coverage of {table[0]['rollouts']} rollouts")
    left.grid(True, alpha=0.3)
    left.legend()
    right.boxplot([[100 * r["coverage"] for r in rows if r["lambda"] == lam] for lam in lambdas],
                  tick_labels=[f"{lam:g}" for lam in lambdas])
    right.set_xlabel("lambda")
    right.set_ylabel("coverage of one rollout (%)")
    right.set_title("Per rollout")
    right.grid(True, axis="y", alpha=0.3)
    save_figure(fig, path)


def read_rollouts(res_dir: Path, runs: int, limit: int, template: str | None) -> tuple[list[dict], str]:
    """The first ``limit`` lines of the first ``runs`` prediction files, each with its prompt, and the template used."""
    from rast_benchmarks import build_prompt

    template = template or prompt_template(res_dir)
    rollouts = [{"run": run, "line": line, "prompt": build_prompt(template, row["question"]),
                 "model_output": row["model_output"]}
                for run, path in enumerate(prediction_files(res_dir)[:runs])
                for line, row in enumerate(read_jsonl(path)[:limit])]
    return rollouts, template


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--res_dir", type=Path, required=True, help="results directory of the RL-tuned model")
    parser.add_argument("--base_model", help="base model (default: the tiny test base)")
    parser.add_argument("--positive_model", help="RL-tuned small model (default: the tiny positive)")
    parser.add_argument("--negative_model", help="small model before RL (default: the tiny negative)")
    parser.add_argument("--lambdas", type=float, nargs="+", default=list(DEFAULT_LAMBDAS),
                        help=f"weights of positive - negative (default {' '.join(map(str, DEFAULT_LAMBDAS))}); "
                             "0, the base alone, is always added")
    parser.add_argument("--prompt_template", help="template the rollouts were generated with (a name or a string "
                                                  "with {question}; default: run_config.json's, else original)")
    parser.add_argument("--runs", type=int, default=1, help="prediction files to read, from run 0 (default 1)")
    parser.add_argument("--limit", type=int, default=20, help="lines to read from each file (default 20)")
    parser.add_argument("--out_dir", type=Path, required=True, help="where the PNG, CSV and JSON go")
    add_model_options(parser)
    args = parser.parse_args(argv)

    from transformers import AutoTokenizer

    from rast.config import ModelPair
    from rast.tiny_models import fill_missing_models

    fill_missing_models(args, {"base_model": "base", "positive_model": "positive", "negative_model": "negative"})
    require_models([args.base_model, args.positive_model, args.negative_model])
    lambdas = sorted({0.0, *args.lambdas})
    rollouts, template = read_rollouts(args.res_dir, args.runs, args.limit, args.prompt_template)
    tokenizer = AutoTokenizer.from_pretrained(args.base_model)
    rast = load_reference(args.base_model, [ModelPair(args.positive_model, args.negative_model)], args)
    rows = rollout_rows(rast, tokenizer, rollouts, lambdas, args.block_size)
    if not rows:
        raise SystemExit(f"nothing to analyse: the rollouts read from {args.res_dir} have no tokens")
    table = coverage_table(rows, lambdas)
    summary = {"res_dir": str(args.res_dir), "base_model": args.base_model, "positive_model": args.positive_model,
               "negative_model": args.negative_model, "prompt_template": template, "rollouts": table[0]["rollouts"],
               "tokens": table[0]["tokens"], "coverage": {f"{row['lambda']:g}": row["coverage"] for row in table},
               "best_lambda": max(table, key=lambda row: row["coverage"])["lambda"]}

    args.out_dir.mkdir(parents=True, exist_ok=True)
    plot_coverage(table, rows, args.out_dir / "path_coverage.png")
    write_json(args.out_dir / "summary.json", summary)
    write_csv(args.out_dir / "coverage.csv", table)
    write_csv(args.out_dir / "rollouts.csv", rows)
    print(" ".join(f"lambda {row['lambda']:g}: {row['coverage']:.3f}" for row in table)
          + f" over {summary['tokens']} tokens of {summary['rollouts']} rollouts; wrote {args.out_dir}")


if __name__ == "__main__":
    main()
