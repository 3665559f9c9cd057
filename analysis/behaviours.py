"""Reasoning-behaviour counts: branching, backtracking and self-verification phrases per 1k output tokens.

Phrases are matched case-insensitively as whole words; within a behaviour, overlapping phrases count once (the
longest wins: "let me check" is one self-verification, not also a "check"). Output lengths come from the result
lines' ``num_tokens``, else from --tokenizer.

    python analysis/behaviours.py --res_dirs base/ rast/ --labels base RAST --out_dir out/
"""

from __future__ import annotations

import argparse
import re
import sys
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the repository root importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import matplotlib.pyplot as plt
import numpy as np

from analysis.common import output_token_counts, read_predictions, save_figure
from utils import write_csv, write_json

PHRASES: dict[str, tuple[str, ...]] = {
    "branching": (
        "alternatively", "alternative approach", "another approach", "another way", "another method",
        "let me try", "let's try", "instead", "on the other hand", "suppose",
    ),
    "backtracking": (
        "wait", "however", "but", "actually", "mistake", "wrong", "incorrect", "oops", "hmm",
        "let me reconsider", "let's reconsider", "reconsider", "re-evaluate", "revisit",
    ),
    "self_verification": (
        "let me check", "let's check", "check", "checking", "double-check", "double check", "verify", "verifying",
        "verified", "verification", "confirm", "confirms", "confirmed", "let me verify", "let's verify",
        "plug in", "plugging", "substitute back", "sanity check",
    ),
}


def _pattern(phrases: Sequence[str]) -> re.Pattern[str]:
    alternatives = "|".join(re.escape(p) for p in sorted(phrases, key=len, reverse=True))
    return re.compile(rf"(?<![\w-])(?:{alternatives})(?![\w-])", re.IGNORECASE)


_PATTERNS = {behaviour: _pattern(phrases) for behaviour, phrases in PHRASES.items()}


def count_phrases(text: str) -> dict[str, Counter[str]]:
    """Occurrences of each phrase (lower-cased) in ``text``, grouped by behaviour."""
    return {behaviour: Counter(m.group(0).lower() for m in pattern.finditer(text))
            for behaviour, pattern in _PATTERNS.items()}


def behaviour_table(outputs: Sequence[str], token_counts: Sequence[int]) -> tuple[dict[str, dict], dict[str, dict]]:
    """Per behaviour: count, tokens and rate per 1k tokens over all outputs; and the per-phrase counts."""
    totals = {behaviour: Counter() for behaviour in PHRASES}
    for text in outputs:
        for behaviour, counts in count_phrases(text).items():
            totals[behaviour].update(counts)
    tokens = int(sum(token_counts))
    summary = {behaviour: {"count": sum(c.values()), "tokens": tokens,
                           "per_1k_tokens": 1000.0 * sum(c.values()) / tokens if tokens else 0.0}
               for behaviour, c in totals.items()}
    return summary, {behaviour: dict(c.most_common()) for behaviour, c in totals.items()}


def plot_behaviours(rows: Sequence[dict], path: Path) -> None:
    """Grouped bars: behaviours on the x axis, one bar per setting."""
    settings = list(dict.fromkeys(row["setting"] for row in rows))
    behaviours = list(PHRASES)
    width = 0.8 / len(settings)
    fig, ax = plt.subplots(figsize=(7.5, 4.5))
    for i, setting in enumerate(settings):
        rates = [next(r["per_1k_tokens"] for r in rows if r["setting"] == setting and r["behaviour"] == b)
                 for b in behaviours]
        bars = ax.bar(np.arange(len(behaviours)) + (i - (len(settings) - 1) / 2) * width, rates, width,
                      label=setting)
        ax.bar_label(bars, fmt="%.1f", fontsize=8)
    ax.set_xticks(np.arange(len(behaviours)), [b.replace("_", " ") for b in behaviours])
    ax.set_xlabel("reasoning behaviour")
    ax.set_ylabel("phrases per 1k output tokens")
    ax.set_title("Reasoning-behaviour phrases per setting")
    ax.legend(title="setting")
    ax.margins(y=0.15)
    save_figure(fig, path)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--res_dirs", type=Path, nargs="+", required=True, help="results directories")
    parser.add_argument("--labels", nargs="+", help="label per directory (default: directory names)")
    parser.add_argument("--tokenizer", help="tokenizer for result lines without num_tokens")
    parser.add_argument("--out_dir", type=Path, required=True, help="where the PNG, CSV and JSON go")
    args = parser.parse_args(argv)
    labels = args.labels or [d.name for d in args.res_dirs]
    if len(labels) != len(args.res_dirs):
        raise SystemExit(f"--labels: {len(labels)} labels for {len(args.res_dirs)} results directories")
    args.out_dir.mkdir(parents=True, exist_ok=True)

    rows, phrases = [], {}
    for res_dir, label in zip(args.res_dirs, labels):
        predictions = read_predictions(res_dir)
        summary, phrases[label] = behaviour_table([r["model_output"] for r in predictions],
                                                  output_token_counts(predictions, args.tokenizer))
        rows += [{"setting": label, "behaviour": b, **values} for b, values in summary.items()]
    plot_behaviours(rows, args.out_dir / "behaviours.png")
    write_csv(args.out_dir / "behaviours.csv", rows)
    write_json(args.out_dir / "behaviours.json", {"phrases": PHRASES, "rates": rows, "phrase_counts": phrases})
    print(f"wrote behaviour counts to {args.out_dir}")


if __name__ == "__main__":
    main()
