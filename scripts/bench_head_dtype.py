"""How often bfloat16 RAST reproduces the float32 reference's greedy tokens, with float32 output heads (RAST's
default) and with heads in the model dtype, on the trained toy models (real margins, unlike random tiny models).

    .venv/bin/python scripts/bench_head_dtype.py [--alpha 1.0] [--problems 80]

Both bf16 engines and the float32 reference decode the toy benchmark's held-out problems greedily; printed per head:
sequences equal to the reference, and tokens before the first difference.
"""

from __future__ import annotations

import argparse
import os

os.environ.setdefault("VLLM_CPU_KVCACHE_SPACE", "1")
os.environ.setdefault("VLLM_CPU_OMP_THREADS_BIND", "1")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

NEW_TOKENS = 40


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--alpha", type=float, default=1.0)
    parser.add_argument("--problems", type=int, default=80)
    args = parser.parse_args()

    from vllm import SamplingParams
    from vllm.inputs import TokensPrompt

    from rast import ModelPair, RastLLM
    from rast.reference import ReferenceRast
    from rast.toy_world import held_out_problems, prompt_ids, toy_model_paths

    toy = toy_model_paths()
    prompts = [prompt_ids(terms) for terms in held_out_problems(args.problems)]
    expected = ReferenceRast(toy["base"], [ModelPair(toy["positive"], toy["negative"], args.alpha)]).generate(
        prompts, NEW_TOKENS)
    params = SamplingParams(temperature=0.0, max_tokens=NEW_TOKENS, ignore_eos=True)
    print(f"bfloat16 RAST (alpha {args.alpha}) against the float32 reference, {len(prompts)} toy problems, "
          f"{NEW_TOKENS} greedy tokens each")
    for label, overrides in (("float32 head (default)", {}), ("bfloat16 head", {"head_dtype": "model"})):
        with RastLLM(toy["base"], toy["positive"], toy["negative"], alpha=args.alpha, dtype="bfloat16", seed=0,
                     enforce_eager=True, max_model_len=128, hf_overrides=overrides) as llm:
            outputs = llm.generate([TokensPrompt(prompt_token_ids=ids) for ids in prompts], params, use_tqdm=False)
        got = [list(output.outputs[0].token_ids) for output in outputs]
        before = [next((i for i, (g, e) in enumerate(zip(a, b)) if g != e), len(b)) for a, b in zip(got, expected)]
        print(f"  {label:<24} {sum(b == NEW_TOKENS for b in before):>3}/{len(prompts)} sequences equal, "
              f"{sum(before):>5}/{NEW_TOKENS * len(prompts)} tokens before the first difference")


if __name__ == "__main__":
    main()
