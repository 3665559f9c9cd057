"""Delta similarity across scales: per position, the cosine similarity of two model pairs' logit deltas.

For pair A (positive_a, negative_a) and pair B (positive_b, negative_b), e.g. an RL-tuned 1.5B and a 7B model each
with its base, on the same text: delta_X = positive_X logits - negative_X logits over the shared vocabulary, and
cos(delta_A, delta_B) at every analysed position (those that chose an output token, or every position of --text),
as the original project's similarity analysis did (which averaged it per example).

Logits come from the reference implementation by teacher forcing (``ReferenceRast.logit_blocks``), --block_size
positions at a time, on --device in --dtype (bfloat16 on GPUs). Writes delta_similarity.png, summary.json,
positions.csv and sequences.csv into --out_dir:

    python analysis/delta_similarity.py --positive_a A_RL --negative_a A --positive_b B_RL --negative_b B \\
        --res_dir results/math500/SETTING --limit 20 --out_dir out/
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

from analysis.common import add_model_options, encode_pair, load_reference, load_texts, require_models, save_figure
from utils import write_csv, write_json


def delta_cosines(rast, tokenizer, texts: Sequence[tuple[str, str]], block_size: int) -> list[dict]:
    """One record (sequence, position, cosine) per analysed position of every (prompt, output) pair."""
    records = []
    for sequence, (prompt, output) in enumerate(texts):
        token_ids, first = encode_pair(tokenizer, prompt, output)
        for block in rast.logit_blocks(token_ids, block_size, start=first):
            delta_a, delta_b = block.deltas  # [B, V] each
            cosine = torch.nn.functional.cosine_similarity(delta_a, delta_b, dim=-1)  # [B]
            records += [{"sequence": sequence, "position": block.start + i, "cosine": value}
                        for i, value in enumerate(cosine.tolist())]
    return records


def per_sequence(records: Sequence[dict]) -> list[dict]:
    """Mean cosine of each sequence (the original analysis's number per example)."""
    sequences = sorted({r["sequence"] for r in records})
    return [{"sequence": s, "positions": len(values), "mean_cosine": float(np.mean(values))}
            for s in sequences for values in [[r["cosine"] for r in records if r["sequence"] == s]]]


def plot_similarity(records: Sequence[dict], sequences: Sequence[dict], path: Path, max_lines: int = 8) -> None:
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.5))
    cosines = np.array([r["cosine"] for r in records])
    left.hist(cosines, bins=80, range=(min(-1.0, cosines.min()), 1.0), color="tab:blue")
    left.axvline(cosines.mean(), color="black", linestyle="--", label=f"mean {cosines.mean():.3f}")
    left.set_xlabel("cosine similarity of the two pairs' logit deltas")
    left.set_ylabel("positions")
    left.set_title("Delta similarity per position")
    left.legend()
    for row in sequences[:max_lines]:
        points = [(r["position"], r["cosine"]) for r in records if r["sequence"] == row["sequence"]]
        right.plot(*zip(*points), marker=".", label=f"sequence {row['sequence']} (mean {row['mean_cosine']:.2f})")
    right.set_xlabel("position in the sequence (tokens)")
    right.set_ylabel("cosine similarity")
    right.set_ylim(-1.05, 1.05)
    right.set_title(f"Along each sequence ({min(max_lines, len(sequences))} shown)")
    right.grid(True, alpha=0.3)
    right.legend(fontsize=8)
    save_figure(fig, path)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    for pair, tiny in (("a", "the tiny positive/negative"), ("b", "the tiny positive_b/negative_b")):
        parser.add_argument(f"--positive_{pair}", help=f"RL-tuned model of pair {pair.upper()} (default: {tiny})")
        parser.add_argument(f"--negative_{pair}", help=f"the same model before RL (default: {tiny})")
    parser.add_argument("--base_model", help="loaded by the reference implementation and only used for the shared "
                                             "vocabulary; default --negative_a (the cheapest choice)")
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--res_dir", type=Path,
                        help="results directory: run 0's prompts (question in its template) + model_output")
    source.add_argument("--text", help="a text to analyse instead of results")
    parser.add_argument("--limit", type=int, default=20, help="result lines to analyse (default 20)")
    parser.add_argument("--out_dir", type=Path, required=True, help="where the PNG, CSV and JSON go")
    add_model_options(parser)
    args = parser.parse_args(argv)

    from transformers import AutoTokenizer

    from rast.config import ModelPair
    from rast.tiny_models import fill_missing_models

    fill_missing_models(args, {"positive_a": "positive", "negative_a": "negative", "positive_b": "positive_b",
                               "negative_b": "negative_b"})
    positive_a, negative_a, positive_b, negative_b = args.positive_a, args.negative_a, args.positive_b, args.negative_b
    require_models([positive_a, negative_a, positive_b, negative_b, *([args.base_model] if args.base_model else [])])
    texts = load_texts(args.res_dir, args.text, args.limit)
    tokenizer = AutoTokenizer.from_pretrained(negative_a)
    rast = load_reference(args.base_model or negative_a,
                          [ModelPair(positive_a, negative_a), ModelPair(positive_b, negative_b)], args)
    records = delta_cosines(rast, tokenizer, texts, args.block_size)
    if not records:
        raise SystemExit("nothing to analyse: the texts are empty")
    sequences = per_sequence(records)
    cosines = np.array([r["cosine"] for r in records])
    summary = {"pair_a": {"positive": positive_a, "negative": negative_a},
               "pair_b": {"positive": positive_b, "negative": negative_b},
               "shared_vocab_size": rast.shared_vocab_size, "positions": len(records),
               "mean_cosine": float(cosines.mean()), "median_cosine": float(np.median(cosines)),
               "mean_of_sequence_means": float(np.mean([s["mean_cosine"] for s in sequences]))}

    args.out_dir.mkdir(parents=True, exist_ok=True)
    plot_similarity(records, sequences, args.out_dir / "delta_similarity.png")
    write_json(args.out_dir / "summary.json", summary)
    write_csv(args.out_dir / "positions.csv", records)
    write_csv(args.out_dir / "sequences.csv", sequences)
    print(f"{len(records)} positions: mean cosine {summary['mean_cosine']:.4f}; wrote {args.out_dir}")


if __name__ == "__main__":
    main()
