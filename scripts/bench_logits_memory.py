"""Peak memory of RAST's logit combination (``rast.model.combine_logits``) at a real vocabulary size.

    .venv/bin/python scripts/bench_logits_memory.py            # 256 rows x 151,936 ids (Qwen2.5), one and two pairs

Counts what the allocator hands out while the combination runs (torch.profiler's memory events), beyond its inputs:
the sub-models' logits (bfloat16 or float32) are given, z and its scratch are what it adds. Runs on CPU; the figure
is the same on a GPU, where it is a transient of every decoding step.
"""

from __future__ import annotations

import argparse

import torch
from torch.profiler import ProfilerActivity, profile

from rast.model import combine_logits


def peak_bytes(rows: int, vocab: int, pairs: int, dtype: torch.dtype) -> int:
    """The most bytes alive at once during one combination of ``pairs`` pairs' logits in ``dtype``."""
    base, *small = (torch.randn(rows, vocab, dtype=dtype) for _ in range(1 + 2 * pairs))
    alphas = torch.ones(pairs)
    with profile(activities=[ProfilerActivity.CPU], profile_memory=True) as profiler:
        combine_logits(base, small[:pairs], small[pairs:], alphas, vocab)
    events = sorted((event for event in profiler.profiler.kineto_results.events() if event.name() == "[memory]"),
                    key=lambda event: event.start_ns())
    live = peak = 0
    for event in events:
        live += event.nbytes()
        peak = max(peak, live)
    return peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=256)
    parser.add_argument("--vocab", type=int, default=151936)
    args = parser.parse_args()
    one_row = args.rows * args.vocab * 4  # bytes of one float32 [rows, vocab]
    print(f"combine_logits at {args.rows} rows x {args.vocab} ids; one float32 [rows, vocab] is "
          f"{one_row / 2**20:.1f} MiB")
    for dtype in (torch.bfloat16, torch.float32):
        for pairs in (1, 2):
            peak = peak_bytes(args.rows, args.vocab, pairs, dtype)
            print(f"  {str(dtype).removeprefix('torch.'):>8} logits, {pairs} pair(s): peak {peak / 2**20:7.1f} MiB "
                  f"({peak / one_row:.1f} float32 [rows, vocab])")


if __name__ == "__main__":
    main()
