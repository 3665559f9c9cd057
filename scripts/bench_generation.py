"""Streaming against chunked generation on answers of very uneven length, side by side on one engine.

A real run's answers range from a few hundred to 16,384 tokens. Here every problem gets its own ``max_tokens``, drawn
log-normally with a fixed seed (median about a tenth of the maximum) and ``ignore_eos``, so the lengths are known and
heavy-tailed. The same requests run twice on the tiny models (RAST, one pair):

- chunked: the old loop, ``LLM.generate`` on ``--chunk_size`` problems at a time, each call waiting for its longest
  sample while the batch drains;
- streaming: :func:`rast.generation.stream`, every request in the engine at once, outputs taken as they finish.

The two loops alternate (``--repeats`` rounds), so a changing background load falls on both alike. Prints samples/s
of each, and as its last line ``streaming/chunked throughput ratio R``. Run it on a quiet machine:
    .venv/bin/python scripts/bench_generation.py
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable

import numpy as np

os.environ.setdefault("VLLM_CPU_KVCACHE_SPACE", "2")
os.environ.setdefault("VLLM_CPU_OMP_THREADS_BIND", "1")


def lengths(num_problems: int, max_tokens: int, sigma: float, seed: int) -> list[int]:
    """Heavy-tailed answer lengths: log-normal, median max_tokens / 10, clipped to [4, max_tokens]."""
    rng = np.random.default_rng(seed)
    drawn = rng.lognormal(mean=np.log(max_tokens / 10), sigma=sigma, size=num_problems)
    return [int(n) for n in np.clip(drawn, 4, max_tokens)]


def requests(tokenizer, sizes: list[int], samples: int) -> list[tuple[dict, object]]:
    from vllm import SamplingParams
    from vllm.inputs import TokensPrompt
    from vllm.sampling_params import RequestOutputKind

    return [(TokensPrompt(prompt_token_ids=tokenizer(f"Question:\nproblem {i}\nAnswer:\n")["input_ids"]),
             SamplingParams(n=samples, temperature=1.0, seed=i, max_tokens=size, ignore_eos=True,
                            output_kind=RequestOutputKind.FINAL_ONLY))
            for i, size in enumerate(sizes)]


def run_chunked(llm, batch: list, chunk_size: int) -> int:
    """The old loop: one ``generate`` call per chunk of problems. Returns the samples made."""
    made = 0
    for first in range(0, len(batch), chunk_size):
        chunk = batch[first:first + chunk_size]
        outputs = llm.generate([prompt for prompt, _ in chunk], [params for _, params in chunk], use_tqdm=False)
        made += sum(len(output.outputs) for output in outputs)
    return made


def run_streaming(llm, batch: list) -> int:
    """The new loop: every request in the engine, outputs as they finish. Returns the samples made."""
    from rast.generation import stream

    return sum(len(output.outputs) for _, output in stream(llm, batch))


def alternating_rates(runs: dict[str, Callable[[], int]], repeats: int) -> dict[str, float]:
    """Samples/s of each run (a function returning how many samples it made), the runs alternating for ``repeats``
    rounds so that a changing background load falls on all of them alike; prints each round and the totals."""
    totals = {name: [0, 0.0] for name in runs}  # samples, seconds
    for round_ in range(repeats):
        for name, run in runs.items():
            began = time.perf_counter()
            samples = run()
            seconds = time.perf_counter() - began
            totals[name][0] += samples
            totals[name][1] += seconds
            print(f"round {round_ + 1} {name:>10}: {samples} samples in {seconds:.1f} s: {samples / seconds:.2f} "
                  "samples/s")
    rates = {name: samples / seconds for name, (samples, seconds) in totals.items()}
    for name, rate in rates.items():
        print(f"{name:>10}: {rate:.2f} samples/s over {repeats} rounds")
    return rates


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--problems", type=int, default=96)
    parser.add_argument("--samples", type=int, default=4, help="samples per problem (n)")
    parser.add_argument("--max_tokens", type=int, default=1024)
    parser.add_argument("--chunk_size", type=int, default=8, help="problems per call in the chunked loop (old: 8)")
    parser.add_argument("--sigma", type=float, default=1.5,
                        help="spread of the log-normal lengths (1.5: from a few tokens to the cap, as in real runs)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeats", type=int, default=2, help="rounds of (chunked, streaming)")
    args = parser.parse_args()

    from rast import RastLLM
    from rast.tiny_models import tiny_model_paths

    tiny = tiny_model_paths()
    llm = RastLLM(tiny["base"], tiny["positive"], tiny["negative"], alpha=1.0, dtype="float32",
                  max_model_len=args.max_tokens + 64, seed=0)
    sizes = lengths(args.problems, args.max_tokens, args.sigma, args.seed)
    print(f"{args.problems} problems x {args.samples} samples, max_tokens median {int(np.median(sizes))}, "
          f"mean {np.mean(sizes):.0f}, max {max(sizes)} (cap {args.max_tokens})")
    batch = requests(llm.get_tokenizer(), sizes, args.samples)
    try:
        run_streaming(llm, batch[:4])  # warm-up
        loops = {"chunked": lambda: run_chunked(llm, batch, args.chunk_size),
                 "streaming": lambda: run_streaming(llm, batch)}
        rates = alternating_rates(loops, args.repeats)
    finally:
        llm.shutdown()
    print(f"streaming/chunked throughput ratio {rates['streaming'] / rates['chunked']:.2f}")


if __name__ == "__main__":
    main()
