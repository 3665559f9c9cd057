"""RAST's decode tokens/s at tensor parallel 2 with the small pair sharded like the base or replicated on each rank.

Side by side in one run, at batch 1 and 16, on CPU stand-ins of the Qwen2.5-14B + 1.5B shapes (dummy weights; the
stand-in small model's 4 heads split 2 ways, so both layouts can run), the ratio printed last:

    .venv/bin/python scripts/bench_small_tensor_parallel.py [--batch_sizes 1 16] [--new_tokens 64]

On this CPU both ranks share one machine's memory and the all-reduce is cheap, so the ratio says little about a
GPU: there a replicated small model skips two all-reduces per layer (56 per forward of a 28-layer model) but every
rank runs all of it; `rast check --perf --tensor-parallel-size N` measures RAST there.
"""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path

os.environ.setdefault("VLLM_CPU_KVCACHE_SPACE", "1")
os.environ["VLLM_CPU_OMP_THREADS_BIND"] = "0|1"  # one core per rank
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from bench_engine import vllm_tokens_per_second  # noqa: E402  (scripts/ is this script's import path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--batch_sizes", type=int, nargs="+", default=[1, 16])
    parser.add_argument("--new_tokens", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()

    from rast import RastLLM
    from rast.check import CPU_BASE, CPU_SMALL, write_dummy_checkpoint
    from rast.tiny_models import tiny_model_paths

    tokenizer_from = tiny_model_paths()["base"]
    with tempfile.TemporaryDirectory() as folder:
        base, positive, negative = (write_dummy_checkpoint(Path(folder) / name, config, tokenizer_from)
                                    for name, config in (("base", CPU_BASE), ("positive", CPU_SMALL),
                                                         ("negative", CPU_SMALL)))
        rates = {layout: vllm_tokens_per_second(
            lambda: RastLLM(base, positive, negative, small_tensor_parallel_size=size, tensor_parallel_size=2,
                            load_format="dummy", dtype="float32", seed=0, max_model_len=1024),
            list(range(1, 33)), args.batch_sizes, args.new_tokens, args.repeats)
            for layout, size in (("sharded", 2), ("replicated", 1))}
    print(f"\nRAST decode tokens/s at tensor parallel 2, {args.new_tokens} new tokens per sequence "
          "(CPU stand-ins of Qwen2.5-14B + 1.5B, dummy weights)")
    print(f"{'batch':>6} {'sharded':>10} {'replicated':>11} {'replicated/sharded':>19}")
    for batch in args.batch_sizes:
        print(f"{batch:>6} {rates['sharded'][batch]:>10.1f} {rates['replicated'][batch]:>11.1f} "
              f"{rates['replicated'][batch] / rates['sharded'][batch]:>19.2f}")


if __name__ == "__main__":
    main()
