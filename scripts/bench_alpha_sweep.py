"""An alpha sweep in one pass (every alpha in the batch together, each request carrying its own ``rast_alpha``)
against one alpha after another (``set_alpha``, then the same requests), side by side on one engine.

Both sweeps make the same samples: ``--problems`` prompts x ``--samples`` seeded samples x each alpha of ``--alphas``,
``--max_tokens`` tokens each (``ignore_eos``), on the tiny models (RAST, one pair). One alpha after another runs the
same engine (no reload: the load and compile a real model pays per alpha is not counted here); the one-pass sweep
fills the batch with all alphas at once and shares each prompt's prefill through the prefix cache. The two alternate
(``--repeats`` rounds), so a changing background load falls on both alike. Prints samples/s of each and, as its last
line, ``one-pass/sequential throughput ratio R``. Run it on a quiet machine:
    .venv/bin/python scripts/bench_alpha_sweep.py
"""

from __future__ import annotations

import argparse
import os

os.environ.setdefault("VLLM_CPU_KVCACHE_SPACE", "2")
os.environ.setdefault("VLLM_CPU_OMP_THREADS_BIND", "1")

from bench_generation import alternating_rates  # noqa: E402  (scripts/ is this script's import path)


def prompts(tokenizer, count: int) -> list[dict]:
    from vllm.inputs import TokensPrompt

    return [TokensPrompt(prompt_token_ids=tokenizer(f"Question:\nproblem {i}: what is {i} + {2 * i}?\nAnswer:\n"
                                                    "Let's think step by step.\n")["input_ids"]) for i in range(count)]


def sampling(problem: int, args: argparse.Namespace, alpha: float | None = None):
    from vllm import SamplingParams
    from vllm.sampling_params import RequestOutputKind

    return SamplingParams(n=args.samples, temperature=1.0, seed=problem, max_tokens=args.max_tokens, ignore_eos=True,
                          output_kind=RequestOutputKind.FINAL_ONLY,
                          extra_args=None if alpha is None else {"rast_alpha": alpha})


def sequential(llm, batch: list[dict], args: argparse.Namespace) -> int:
    """One alpha after another: ``set_alpha``, then every prompt. Returns the samples made."""
    made = 0
    for alpha in args.alphas:
        llm.set_alpha(alpha)
        outputs = llm.generate(batch, [sampling(i, args) for i in range(len(batch))], use_tqdm=False)
        made += sum(len(output.outputs) for output in outputs)
    return made


def one_pass(llm, batch: list[dict], args: argparse.Namespace) -> int:
    """Every alpha at once: each request carries its own. Returns the samples made."""
    requests = [(prompt, sampling(i, args, alpha)) for alpha in args.alphas for i, prompt in enumerate(batch)]
    outputs = llm.generate([p for p, _ in requests], [s for _, s in requests], use_tqdm=False)
    return sum(len(output.outputs) for output in outputs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--alphas", type=float, nargs="+", default=[0.25, 0.5, 1.0, 2.0])
    parser.add_argument("--problems", type=int, default=16)
    parser.add_argument("--samples", type=int, default=2, help="samples per problem and alpha (n)")
    parser.add_argument("--max_tokens", type=int, default=256)
    parser.add_argument("--repeats", type=int, default=2, help="rounds of (sequential, one pass)")
    args = parser.parse_args()

    from rast import RastLLM
    from rast.tiny_models import tiny_model_paths

    tiny = tiny_model_paths()
    llm = RastLLM(tiny["base"], tiny["positive"], tiny["negative"], alpha=1.0, dtype="float32",
                  max_model_len=args.max_tokens + 64, seed=0, enable_prefix_caching=True)
    batch = prompts(llm.get_tokenizer(), args.problems)
    print(f"{len(args.alphas)} alphas {args.alphas} x {args.problems} problems x {args.samples} samples, "
          f"{args.max_tokens} tokens each")
    try:
        one_pass(llm, batch[:2], args)  # warm-up
        sweeps = {"sequential": lambda: sequential(llm, batch, args), "one-pass": lambda: one_pass(llm, batch, args)}
        rates = alternating_rates(sweeps, args.repeats)
    finally:
        llm.shutdown()
    print(f"one-pass/sequential throughput ratio {rates['one-pass'] / rates['sequential']:.2f}")


if __name__ == "__main__":
    main()
