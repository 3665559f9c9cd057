"""One command for a GPU machine: RAST on vLLM's default GPU path (Model Runner V2, torch.compile, CUDA graphs).

(a) greedy exactness against the transformers reference in float32 on the tiny models, default engine settings;
(b) the bfloat16 agreement rate against the float32 reference (numerics, not a bug: reported, not asserted);
(c) decode throughput at real sizes with dummy weights: Qwen2.5-14B as base with a Qwen2.5-1.5B pair (configs written
    from the published values), RAST / base-alone tokens/s at batch 1, 32 and 256, and the ideal ratio from the
    single-model times, t_base / (t_base + 2 t_small).

    .venv/bin/python scripts/gpu_check.py            # all three; exit 1 if (a) finds a mismatch

Without a GPU it still runs: (a) and (b) on vLLM's CPU backend, and (c) on small stand-in sizes (--cpu_sizes), so the
script itself stays tested.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("VLLM_CPU_KVCACHE_SPACE", "2")
os.environ.setdefault("VLLM_CPU_OMP_THREADS_BIND", "1")

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "engine"))
from engine_helpers import NEW_TOKENS, PROMPT_TEXTS, greedy_tokens  # noqa: E402

# Published configs (config.json of Qwen/Qwen2.5-14B and Qwen/Qwen2.5-1.5B).
QWEN25_14B = dict(hidden_size=5120, intermediate_size=13824, num_hidden_layers=48, num_attention_heads=40,
                  num_key_value_heads=8, vocab_size=152064, max_position_embeddings=131072, rope_theta=1000000.0,
                  rms_norm_eps=1e-5, tie_word_embeddings=False)
QWEN25_1_5B = dict(hidden_size=1536, intermediate_size=8960, num_hidden_layers=28, num_attention_heads=12,
                   num_key_value_heads=2, vocab_size=151936, max_position_embeddings=131072, rope_theta=1000000.0,
                   rms_norm_eps=1e-6, tie_word_embeddings=True)
# Stand-ins of the same shape ratios for a CPU run of (c).
CPU_BASE = dict(QWEN25_14B, hidden_size=512, intermediate_size=1024, num_hidden_layers=8, num_attention_heads=8,
                num_key_value_heads=2, vocab_size=8192, max_position_embeddings=4096)
CPU_SMALL = dict(QWEN25_1_5B, hidden_size=256, intermediate_size=512, num_hidden_layers=4, num_attention_heads=4,
                 num_key_value_heads=2, vocab_size=8064, max_position_embeddings=4096)


def prompt_ids(tokenizer_path: str) -> list[list[int]]:
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(tokenizer_path)
    return [tokenizer(text)["input_ids"] for text in PROMPT_TEXTS]


def check_exactness(tiny: dict[str, str], alphas: list[float]) -> bool:
    """(a): float32 greedy tokens of RAST on default settings against the reference, per alpha."""
    from rast import ModelPair, RastLLM
    from rast.reference import ReferenceRast

    ids = prompt_ids(tiny["base"])
    reference = ReferenceRast(tiny["base"], [ModelPair(tiny["positive"], tiny["negative"], alphas[0])])
    llm = RastLLM(tiny["base"], tiny["positive"], tiny["negative"], alpha=alphas[0], dtype="float32", seed=0,
                  max_model_len=512)
    exact = True
    try:
        for alpha in alphas:
            llm.set_alpha(alpha)
            reference.alphas = [alpha]
            got, expected = greedy_tokens(llm, ids), reference.generate(ids, NEW_TOKENS)
            same = sum(g == e for g, e in zip(got, expected))
            exact &= same == len(ids)
            print(f"(a) float32 greedy, alpha {alpha}: {same}/{len(ids)} sequences equal the reference")
    finally:
        llm.shutdown()
    return exact


def bf16_agreement(tiny: dict[str, str], alpha: float) -> None:
    """(b): how often bfloat16 RAST reproduces the float32 reference's greedy tokens."""
    from rast import ModelPair, RastLLM
    from rast.reference import ReferenceRast

    ids = prompt_ids(tiny["base"])
    expected = ReferenceRast(tiny["base"], [ModelPair(tiny["positive"], tiny["negative"], alpha)]).generate(
        ids, NEW_TOKENS)
    llm = RastLLM(tiny["base"], tiny["positive"], tiny["negative"], alpha=alpha, dtype="bfloat16", seed=0,
                  max_model_len=512)
    try:
        got = greedy_tokens(llm, ids)
    finally:
        llm.shutdown()
    prefix = [next((i for i, (g, e) in enumerate(zip(a, b)) if g != e), len(b)) for a, b in zip(got, expected)]
    print(f"(b) bfloat16 vs float32 reference, alpha {alpha}: {sum(p == NEW_TOKENS for p in prefix)}/{len(ids)} "
          f"sequences equal; tokens before the first difference {sum(prefix)}/{NEW_TOKENS * len(ids)}")


def write_dummy_checkpoint(folder: Path, config: dict, tokenizer_from: str) -> str:
    """A Qwen2 checkpoint folder with a config and a tokenizer but no weights (for ``load_format="dummy"``)."""
    folder.mkdir(parents=True)
    (folder / "config.json").write_text(json.dumps({"architectures": ["Qwen2ForCausalLM"], "model_type": "qwen2",
                                                    "torch_dtype": "bfloat16", "hidden_act": "silu", **config}))
    for name in ("tokenizer.json", "tokenizer_config.json"):
        shutil.copy(Path(tokenizer_from) / name, folder / name)
    return str(folder)


def decode_tokens_per_s(model: str, pair: tuple[str, str] | None, batch: int, new_tokens: int, dtype: str) -> float:
    """Generated tokens per second of one engine at a batch of ``batch`` 32-token prompts (prefill included)."""
    from vllm import SamplingParams
    from vllm.inputs import TokensPrompt

    from rast import RastLLM

    llm = RastLLM(model, *(pair or (None, None)), dtype=dtype, load_format="dummy", max_model_len=1024, seed=0)
    try:
        prompts = [TokensPrompt(prompt_token_ids=[(7 * i + j) % 500 + 1 for j in range(32)]) for i in range(batch)]
        params = SamplingParams(temperature=0.0, max_tokens=new_tokens, ignore_eos=True)
        llm.generate(prompts[:1], SamplingParams(max_tokens=8, ignore_eos=True), use_tqdm=False)  # warm-up
        began = time.perf_counter()
        outputs = llm.generate(prompts, params, use_tqdm=False)
        seconds = time.perf_counter() - began
    finally:
        llm.shutdown()
    return sum(len(o.outputs[0].token_ids) for o in outputs) / seconds


def throughput(tokenizer_from: str, real_sizes: bool, batches: list[int], new_tokens: int, dtype: str) -> None:
    """(c): RAST / base-alone decode tokens/s at each batch size, against the ideal from single-model times."""
    base_config, small_config = (QWEN25_14B, QWEN25_1_5B) if real_sizes else (CPU_BASE, CPU_SMALL)
    label = "Qwen2.5-14B + 1.5B pair" if real_sizes else "CPU stand-ins of the 14B + 1.5B shapes"
    with tempfile.TemporaryDirectory() as folder:
        base = write_dummy_checkpoint(Path(folder) / "base", base_config, tokenizer_from)
        small = write_dummy_checkpoint(Path(folder) / "small", small_config, tokenizer_from)
        print(f"(c) {label}, dummy weights, {dtype}, {new_tokens} new tokens per sequence")
        print("    batch   base tok/s   small tok/s    RAST tok/s   RAST/base   ideal")
        for batch in batches:
            rates = {name: decode_tokens_per_s(model, pair, batch, new_tokens, dtype)
                     for name, model, pair in (("base", base, None), ("small", small, None),
                                               ("rast", base, (small, small)))}
            ideal = (1 / rates["base"]) / (1 / rates["base"] + 2 / rates["small"])
            print(f"    {batch:>5} {rates['base']:>12.0f} {rates['small']:>13.0f} {rates['rast']:>13.0f} "
                  f"{rates['rast'] / rates['base']:>11.2f} {ideal:>7.2f}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--batches", type=int, nargs="+", default=[1, 32, 256])
    parser.add_argument("--new_tokens", type=int, default=256)
    parser.add_argument("--cpu_sizes", action="store_true", help="(c) on small stand-ins (the default without a GPU)")
    args = parser.parse_args()

    import torch
    from vllm.platforms import current_platform

    from rast.tiny_models import tiny_model_paths

    gpu = torch.cuda.is_available()
    print(f"device: {torch.cuda.get_device_name(0) if gpu else 'CPU'}; vLLM platform {current_platform.device_name}; "
          f"torch {torch.__version__}")
    tiny = tiny_model_paths()
    exact = check_exactness(tiny, [0.0, 1.0, 2.0])
    bf16_agreement(tiny, 1.0)
    real_sizes = gpu and not args.cpu_sizes
    throughput(tiny["base"], real_sizes, args.batches if real_sizes else [1, 8], args.new_tokens,
               "bfloat16" if gpu else "float32")
    print("gpu_check: float32 greedy tokens equal the reference" if exact else "gpu_check: MISMATCH in (a)")
    return 0 if exact else 1


if __name__ == "__main__":
    sys.exit(main())
