"""Where RAST moves the distribution: per position, the base distribution against the RAST distribution.

For each analysed position (those that chose an output token, or every position of --text) with p_base =
softmax(base logits) and p_rast = softmax(base + alpha * (positive - negative)), both over the shared vocabulary:

- changed top-1: RAST's most likely token differs from the base's;
- KL(p_rast || p_base) in nats;
- base rank of RAST's pick: the rank (1 = top) under the base of RAST's most likely token;
- the tokens that gain (lose) the most probability p_rast - p_base at a position, counted over positions.

Logits come from the reference implementation by teacher forcing (``ReferenceRast.logit_blocks``), --block_size
positions at a time, on --device in --dtype (bfloat16 on GPUs). Writes token_shift.png, summary.json, positions.csv
and shifted_tokens.csv into --out_dir:

    python analysis/token_shift.py --res_dir results/math500/SETTING --limit 20 --alpha 1.0 --out_dir out/
    python analysis/token_shift.py --text "Let's think step by step." --out_dir out/
    python analysis/token_shift.py --base_model Qwen/Qwen2.5-14B \\
        --positive_model hkust-nlp/Qwen-2.5-1.5B-SimpleRL-Zoo \\
        --negative_model Qwen/Qwen2.5-1.5B --device cuda --res_dir results/math500/SETTING --out_dir out/
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the repository root importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import matplotlib.pyplot as plt
import numpy as np
import torch

from analysis.common import (
    add_model_options,
    encode_pair,
    load_reference,
    load_texts,
    require_models,
    save_figure,
    token_label,
    token_text,
)
from utils import write_csv, write_json


def shift_stats(base: torch.Tensor, combined: torch.Tensor) -> dict[str, torch.Tensor]:
    """Per-position statistics of [T, V] base and combined logits (see the module docstring)."""
    log_p_base, log_p_rast = torch.log_softmax(base, dim=-1), torch.log_softmax(combined, dim=-1)
    p_base, p_rast = log_p_base.exp(), log_p_rast.exp()
    pick = combined.argmax(dim=-1)
    change = p_rast - p_base
    return {
        "kl": (p_rast * (log_p_rast - log_p_base)).sum(dim=-1).clamp(min=0.0),
        "rast_top1": pick,
        "base_top1": base.argmax(dim=-1),
        "changed_top1": pick != base.argmax(dim=-1),
        "base_rank_of_pick": (base > base.gather(-1, pick[:, None])).sum(dim=-1) + 1,
        "top_gain": change.argmax(dim=-1),
        "top_gain_value": change.max(dim=-1).values,
        "top_loss": change.argmin(dim=-1),
        "top_loss_value": change.min(dim=-1).values,
    }


def analyse(rast, tokenizer, texts: Sequence[tuple[str, str]], block_size: int) -> list[dict]:
    """One record per analysed position of every (prompt, output) pair; logits ``block_size`` positions at a time."""
    records = []
    for sequence, (prompt, output) in enumerate(texts):
        token_ids, first = encode_pair(tokenizer, prompt, output)
        for block in rast.logit_blocks(token_ids, block_size, start=first):
            stats = {k: v.tolist() for k, v in shift_stats(block.base, rast.combine(block.base, block.deltas)).items()}
            for offset in range(len(stats["kl"])):
                position = block.start + offset
                row = {"sequence": sequence, "position": position,
                       "next_token": token_ids[position + 1] if position + 1 < len(token_ids) else None}
                row.update({k: v[offset] for k, v in stats.items()})
                records.append(row)
    return records


def summarize(records: Sequence[dict]) -> dict:
    kl = np.array([r["kl"] for r in records])
    ranks = np.array([r["base_rank_of_pick"] for r in records])
    return {
        "positions": len(records),
        "changed_top1_share": float(np.mean([r["changed_top1"] for r in records])),
        "kl_mean": float(kl.mean()),
        "kl_median": float(np.median(kl)),
        "kl_max": float(kl.max()),
        "base_rank_of_pick_mean": float(ranks.mean()),
        "base_rank_of_pick_max": int(ranks.max()),
    }


def shifted_tokens(records: Sequence[dict], tokenizer, top: int) -> list[dict]:
    """The tokens most often the largest gainer or loser of probability at a position (strict gains/losses)."""
    gains = Counter(r["top_gain"] for r in records if r["top_gain_value"] > 0)
    losses = Counter(r["top_loss"] for r in records if r["top_loss_value"] < 0)
    return [{"direction": direction, "token_id": token_id, "token": token_text(tokenizer, token_id), "positions": n}
            for direction, counter in (("gain", gains), ("loss", losses)) for token_id, n in counter.most_common(top)]


def _rank_bins(ranks: np.ndarray) -> tuple[list[str], list[int]]:
    """Counts of ranks in the bins 1, 2-3, 4-7, 8-15, ... (powers of two)."""
    labels, counts, low = [], [], 1
    while low <= ranks.max():
        high = 2 * low - 1
        labels.append(str(low) if low == high else f"{low}-{high}")
        counts.append(int(((ranks >= low) & (ranks <= high)).sum()))
        low = high + 1
    return labels, counts


def plot_shift(records: Sequence[dict], tokens: Sequence[dict], summary: dict, tokenizer, alpha: float,
               path: Path) -> None:
    fig, axes = plt.subplots(2, 2, figsize=(11, 8))
    kl = np.array([r["kl"] for r in records])
    axes[0, 0].hist(kl, bins=30, color="tab:blue")
    axes[0, 0].set_xlabel("KL(p_rast || p_base) per position (nats)")
    axes[0, 0].set_ylabel("positions")
    axes[0, 0].set_title("KL divergence per position")

    labels, counts = _rank_bins(np.array([r["base_rank_of_pick"] for r in records]))
    axes[0, 1].bar(labels, counts, color="tab:purple")
    axes[0, 1].set_xlabel("rank under the base of RAST's top-1 token (1 = base's top-1)")
    axes[0, 1].set_ylabel("positions")
    axes[0, 1].set_title("Base rank of RAST's pick")
    axes[0, 1].tick_params(axis="x", labelrotation=30)

    panels = ((axes[1, 0], "gain", "gain", "tab:green"), (axes[1, 1], "loss", "lose", "tab:red"))
    for ax, direction, verb, color in panels:
        rows = [row for row in tokens if row["direction"] == direction][::-1]
        ax.barh([token_label(tokenizer, row["token_id"]) for row in rows], [row["positions"] for row in rows],
                color=color)
        ax.set_xlabel(f"positions where the token {verb}s the most probability")
        ax.set_ylabel("token")
        ax.set_title(f"Tokens that most often {verb} probability")
        if not rows:
            ax.text(0.5, 0.5, "none (distributions identical)", ha="center", va="center", transform=ax.transAxes)
    fig.suptitle(f"RAST (alpha = {alpha:g}) against the base over {summary['positions']} positions: "
                 f"top-1 changed at {100 * summary['changed_top1_share']:.1f}%, mean KL {summary['kl_mean']:.3g}")
    save_figure(fig, path)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--base_model", help="base model (default: the tiny test base)")
    parser.add_argument("--positive_model", help="RL-tuned small model (default: the tiny positive)")
    parser.add_argument("--negative_model", help="small model before RL (default: the tiny negative)")
    parser.add_argument("--alpha", type=float, default=1.0, help="weight of positive - negative (default 1.0)")
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--res_dir", type=Path,
                        help="results directory: run 0's prompts (question in its template) + model_output")
    source.add_argument("--text", help="a text to analyse instead of results")
    parser.add_argument("--limit", type=int, default=20, help="result lines to analyse (default 20)")
    parser.add_argument("--top", type=int, default=15, help="shifted tokens to list per direction (default 15)")
    parser.add_argument("--out_dir", type=Path, required=True, help="where the PNG, CSV and JSON go")
    add_model_options(parser)
    args = parser.parse_args(argv)

    from transformers import AutoTokenizer

    from rast.config import ModelPair
    from rast.tiny_models import fill_missing_models

    fill_missing_models(args, {"base_model": "base", "positive_model": "positive", "negative_model": "negative"})
    require_models([args.base_model, args.positive_model, args.negative_model])
    texts = load_texts(args.res_dir, args.text, args.limit)
    tokenizer = AutoTokenizer.from_pretrained(args.base_model)
    rast = load_reference(args.base_model, [ModelPair(args.positive_model, args.negative_model, args.alpha)], args)
    records = analyse(rast, tokenizer, texts, args.block_size)
    if not records:
        raise SystemExit("nothing to analyse: the texts are empty")
    summary = {"alpha": args.alpha, "base_model": args.base_model, "positive_model": args.positive_model,
               "negative_model": args.negative_model, **summarize(records)}
    tokens = shifted_tokens(records, tokenizer, args.top)

    args.out_dir.mkdir(parents=True, exist_ok=True)
    plot_shift(records, tokens, summary, tokenizer, args.alpha, args.out_dir / "token_shift.png")
    write_json(args.out_dir / "summary.json", summary)
    write_csv(args.out_dir / "positions.csv", records)
    write_csv(args.out_dir / "shifted_tokens.csv", tokens)
    print(f"{summary['positions']} positions: top-1 changed at {summary['changed_top1_share']:.3f}, "
          f"mean KL {summary['kl_mean']:.4g}; wrote {args.out_dir}")


if __name__ == "__main__":
    main()
