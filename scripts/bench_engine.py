"""Decode throughput of RAST against its parts and against the transformers reference, side by side in one run.

For each batch size it measures generated tokens/s of plain vLLM on the base model alone, on each small model alone,
of RAST (base + one pair), and of the reference implementation, then prints

    RAST / base        what RAST costs over the base model alone
    ideal              t_base / (t_base + t_pos + t_neg), from the single-model figures (t = seconds per token):
                       the ratio if RAST cost exactly the sum of its three models' steps
    RAST / ideal       how close RAST gets to that floor (goal: >= 0.9)
    RAST / reference   speed-up over the readable transformers loop (goal at batch 16: >= 5)

Usage (from the repository root, after scripts/setup.sh):
    .venv/bin/python scripts/bench_engine.py [--batch_sizes 1 16] [--new_tokens 128] [--json out.json]
Models default to the tiny checkpoints; pass --base/--positive/--negative for others.
"""

from __future__ import annotations

import argparse
import json
import os
import time

os.environ.setdefault("VLLM_CPU_KVCACHE_SPACE", "1")
os.environ.setdefault("VLLM_CPU_OMP_THREADS_BIND", "1")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

PROMPT = ("Question:\nHow many books are there if each of 7 shelves holds 12 books?\nAnswer:\n"
          "Let's think step by step.\n")


def vllm_tokens_per_second(llm_factory, prompt_ids: list[int], batch_sizes: list[int], new_tokens: int,
                           repeats: int) -> dict[int, float]:
    """Best-of-``repeats`` generated tokens/s of an engine at each batch size (one engine start for all)."""
    from vllm import SamplingParams
    from vllm.inputs import TokensPrompt

    from rast import RastLLM
    from rast.api import shutdown_engine

    llm = llm_factory()
    try:
        params = SamplingParams(temperature=0.0, max_tokens=new_tokens, ignore_eos=True)
        llm.generate([TokensPrompt(prompt_token_ids=prompt_ids)] * 2, params, use_tqdm=False)  # warm-up
        rates = {}
        for batch in batch_sizes:
            prompts = [TokensPrompt(prompt_token_ids=prompt_ids)] * batch
            rates[batch] = max(batch * new_tokens / _timed(lambda: llm.generate(prompts, params, use_tqdm=False))
                               for _ in range(repeats))
        return rates
    finally:
        llm.shutdown() if isinstance(llm, RastLLM) else shutdown_engine(llm)


def reference_tokens_per_second(reference, prompt_ids: list[int], batch_sizes: list[int], new_tokens: int) -> dict:
    """Generated tokens/s of the transformers reference at each batch size."""
    reference.generate([prompt_ids], 4)  # warm-up
    return {batch: batch * new_tokens / _timed(lambda: reference.generate([prompt_ids] * batch, new_tokens))
            for batch in batch_sizes}


def _timed(work) -> float:
    start = time.perf_counter()
    work()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--base")
    parser.add_argument("--positive")
    parser.add_argument("--negative")
    parser.add_argument("--batch_sizes", type=int, nargs="+", default=[1, 16])
    parser.add_argument("--new_tokens", type=int, default=128)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--dtype", default="float32")
    parser.add_argument("--enforce_eager", action="store_true", help="skip torch.compile (faster start, slower steps)")
    parser.add_argument("--json", help="also write the figures to this JSON file")
    args = parser.parse_args()

    from transformers import AutoTokenizer
    from vllm import LLM

    from rast import ModelPair, RastLLM
    from rast.reference import ReferenceRast
    from rast.tiny_models import tiny_model_paths

    tiny = tiny_model_paths() if not args.base else {}
    base, positive, negative = (args.base or tiny["base"], args.positive or tiny["positive"],
                                args.negative or tiny["negative"])
    prompt_ids = AutoTokenizer.from_pretrained(base)(PROMPT)["input_ids"]
    settings = dict(dtype=args.dtype, seed=0, max_model_len=1024, enforce_eager=args.enforce_eager)
    measure = lambda factory: vllm_tokens_per_second(factory, prompt_ids, args.batch_sizes,  # noqa: E731
                                                     args.new_tokens, args.repeats)
    rates = {
        "base": measure(lambda: LLM(model=base, **settings)),
        "positive": measure(lambda: LLM(model=positive, **settings)),
        "negative": measure(lambda: LLM(model=negative, **settings)),
        "rast": measure(lambda: RastLLM(base, positive, negative, alpha=1.0, **settings)),
        "reference": reference_tokens_per_second(ReferenceRast(base, [ModelPair(positive, negative, 1.0)]),
                                                 prompt_ids, args.batch_sizes, args.new_tokens),
    }

    rows = []
    for batch in args.batch_sizes:
        r = {name: figures[batch] for name, figures in rates.items()}
        ideal = (1 / r["base"]) / (1 / r["base"] + 1 / r["positive"] + 1 / r["negative"])
        rows.append(dict(batch=batch, **{f"{k}_tok_s": v for k, v in r.items()}, rast_over_base=r["rast"] / r["base"],
                         ideal=ideal, rast_over_ideal=r["rast"] / r["base"] / ideal,
                         rast_over_reference=r["rast"] / r["reference"]))
    header = ("batch", "base", "positive", "negative", "RAST", "reference", "RAST/base", "ideal", "RAST/ideal",
              "RAST/ref")
    print(f"\ndecode tokens/s, {args.new_tokens} new tokens per sequence, dtype {args.dtype}, "
          f"{'eager' if args.enforce_eager else 'compiled'}")
    print("  ".join(f"{h:>10}" for h in header))
    for row in rows:
        values = [row["batch"], row["base_tok_s"], row["positive_tok_s"], row["negative_tok_s"], row["rast_tok_s"],
                  row["reference_tok_s"], row["rast_over_base"], row["ideal"], row["rast_over_ideal"],
                  row["rast_over_reference"]]
        print("  ".join(f"{v:>10.2f}" if isinstance(v, float) else f"{v:>10}" for v in values))
    if args.json:
        with open(args.json, "w") as handle:
            json.dump({"settings": vars(args), "rows": rows}, handle, indent=2)


if __name__ == "__main__":
    main()
