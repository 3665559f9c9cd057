"""``rast check``: is RAST right on this machine, with these settings? Minutes, on the tiny models built offline.

1. float32 greedy tokens of RAST under vLLM's default settings (on a GPU: torch.compile, piecewise and full CUDA
   graphs) and under ``enforce_eager``, each against the transformers reference, at several alphas. Requests arrive
   staggered and prompts are longer than the token budget of one step, so steps mix prefill chunks with decodes:
   the batches where a CUDA-graph memory hazard would strike (docs/gpu.md). Then the same alphas in one batch, each
   request carrying its own (``rast_alpha``), on vLLM's V1 model runner (``VLLM_USE_V2_MODEL_RUNNER=0``).
2. The bfloat16 agreement rate: how often bfloat16 RAST (float32 output heads, the default) reproduces the float32
   reference's greedy tokens. Numerics, not a bug: reported, not judged; ``--compare-heads`` adds the model-dtype head.
3. ``--perf``: decode tokens/s of RAST against the base model alone at real sizes (Qwen2.5-14B with a Qwen2.5-1.5B
   pair, published shapes, dummy weights; on CPU small stand-ins), one engine per configuration for every batch size.

A mismatch names, per sequence, the first position where the tokens differ, both tokens, and the top-2 logit margin
in the engine and in the reference: a margin near zero is a near-tie (numerics); a large one is a bug. One verdict
line ends the output; everything is also written as JSON (``--json``) to attach to a bug report. Exit 0 when every
float32 run equals the reference, 1 otherwise, 2 on bad arguments.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from rast.cli import OneLineParser, UsageError

ALPHAS = (0.0, 1.0, 2.0)
NEW_TOKENS = 24
STEP_TOKEN_BUDGET = 48  # max_num_batched_tokens: the longer prompts are prefilled in chunks, beside decodes
# prompts from 2 to about 150 tokens of the tiny tokenizer (the longest are prefilled over several steps)
PROMPTS = [
    "x",
    "Question:\nwhat is 2 + 3?\nAnswer:\n",
    "Let's think step by step. 17 * 23 = ",
    "The answer is \\boxed{12} because the total of apples " * 3,
    "circle area radius square miles hours minutes percent dollars triangle " * 6,
    "Question:\nHow many books are there if each of 7 shelves holds 12 books?\nAnswer:\nLet's think step by step.\n"
    * 4,
    "a b c d e f g h " * 8,
    "hello " * 40,
]
# Published configs (config.json of Qwen/Qwen2.5-14B and Qwen/Qwen2.5-1.5B) and CPU stand-ins of the same ratios.
QWEN25_14B = dict(hidden_size=5120, intermediate_size=13824, num_hidden_layers=48, num_attention_heads=40,
                  num_key_value_heads=8, vocab_size=152064, max_position_embeddings=131072, rope_theta=1000000.0,
                  rms_norm_eps=1e-5, tie_word_embeddings=False)
QWEN25_1_5B = dict(hidden_size=1536, intermediate_size=8960, num_hidden_layers=28, num_attention_heads=12,
                   num_key_value_heads=2, vocab_size=151936, max_position_embeddings=131072, rope_theta=1000000.0,
                   rms_norm_eps=1e-6, tie_word_embeddings=True)
CPU_BASE = dict(QWEN25_14B, hidden_size=512, intermediate_size=1024, num_hidden_layers=8, num_attention_heads=8,
                num_key_value_heads=2, vocab_size=8192, max_position_embeddings=4096)
CPU_SMALL = dict(QWEN25_1_5B, hidden_size=256, intermediate_size=512, num_hidden_layers=4, num_attention_heads=4,
                 num_key_value_heads=2, vocab_size=8064, max_position_embeddings=4096)


@dataclass
class Divergence:
    """The first position where an engine's greedy tokens leave the reference's, with both top-2 logit margins."""

    sequence: int
    position: int
    engine_token: int
    reference_token: int
    engine_margin: float | None  # top-1 minus top-2 log-probability (= logit) in the engine
    reference_margin: float  # the same in the float32 reference


@dataclass
class Comparison:
    """One engine configuration at one alpha against the reference."""

    run: str
    alpha: float
    equal: int
    sequences: int
    tokens_before_first_difference: int
    tokens: int
    divergences: list[Divergence] = field(default_factory=list)


def build_parser() -> OneLineParser:
    parser = OneLineParser(prog="rast check", description=__doc__.split("\n\n")[0])
    parser.add_argument("--tensor-parallel-size", type=int, default=1, help="tensor-parallel size of every engine")
    parser.add_argument("--json", default="rast_check.json", help="where to write the results (default %(default)s)")
    parser.add_argument("--skip-bf16", action="store_true", help="leave out the bfloat16 agreement rate")
    parser.add_argument("--compare-heads", action="store_true",
                        help="bfloat16 also with the model-dtype output head (hf_overrides head_dtype 'model')")
    parser.add_argument("--perf", action="store_true", help="add the real-size throughput ratio (dummy weights)")
    parser.add_argument("--perf-batches", type=int, nargs="+", default=[1, 32, 256])
    parser.add_argument("--perf-minutes", type=float, default=10.0, help="time budget of --perf (default 10)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
        if args.tensor_parallel_size < 1:
            raise UsageError("--tensor-parallel-size must be at least 1")
        json_path = Path(args.json)
        if not json_path.parent.is_dir():
            raise UsageError(f"--json {json_path}: folder {json_path.parent} does not exist (create it or choose "
                             "another path)")
    except UsageError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    os.environ.setdefault("TRITON_F32_DEFAULT", "ieee")  # float32 Triton matmuls in full precision, not TF32
    os.environ.setdefault("VLLM_CPU_KVCACHE_SPACE", "1")
    report = run_checks(args)
    json_path.write_text(json.dumps(report, indent=1) + "\n")
    print(report["verdict"])
    print(f"(details: {json_path})")
    return 0 if report["passed"] else 1


def run_checks(args) -> dict[str, Any]:
    """Every check ``args`` asks for; the report that ``main`` writes as JSON."""
    import torch
    import vllm

    from rast.tiny_models import tiny_model_paths

    tiny = tiny_model_paths()
    tp = args.tensor_parallel_size
    gpu = torch.cuda.is_available()
    device = torch.cuda.get_device_name(0) if gpu else f"CPU ({platform.processor() or platform.machine()})"
    print(f"rast check: {device}; vLLM {vllm.__version__}, torch {torch.__version__}; tensor parallel {tp}")
    prompts = prompt_ids(tiny["base"])
    expected = {alpha: reference(tiny, alpha).generate(prompts, NEW_TOKENS) for alpha in ALPHAS}

    comparisons: list[Comparison] = []
    for run, settings in (("default settings", {}), ("enforce_eager", {"enforce_eager": True})):
        comparisons += compare_engine(run, tiny, prompts, expected, dtype="float32", tp=tp, **settings)
    mixed = compare_mixed_alphas(tiny, prompts, expected, tp)
    exact = all(c.equal == c.sequences for c in comparisons + mixed)

    agreement: list[Comparison] = []
    if not args.skip_bf16:
        heads = {"bfloat16, float32 head (default)": {}}
        if args.compare_heads:
            heads["bfloat16, bfloat16 head"] = {"hf_overrides": {"head_dtype": "model"}}
        for run, settings in heads.items():
            agreement += compare_engine(run, tiny, prompts, {1.0: expected[1.0]}, dtype="bfloat16", tp=tp,
                                        **settings)

    perf = throughput(tiny["base"], gpu, args.perf_batches if gpu else [1, 8], tp,
                      args.perf_minutes * 60) if args.perf else None
    runs = (f"default settings and enforce_eager, alphas {list(ALPHAS)}, {len(prompts)} staggered sequences, TP {tp}; "
            "the alphas per request in one batch")
    verdict = (f"rast check: PASS: float32 greedy tokens equal the reference ({runs})" if exact else
               f"rast check: FAIL: float32 greedy tokens differ from the reference in "
               f"{sum(c.sequences - c.equal for c in comparisons + mixed)} sequence(s) ({runs}); see the divergences")
    if agreement:
        verdict += "; " + "; ".join(f"{c.run}: {c.equal}/{c.sequences} sequences equal" for c in agreement)
    return {"verdict": verdict, "passed": exact, "device": device, "vllm": vllm.__version__,
            "torch": torch.__version__, "tensor_parallel_size": tp, "float32": [asdict(c) for c in comparisons],
            "per_request_alpha": [asdict(c) for c in mixed], "bfloat16": [asdict(c) for c in agreement], "perf": perf}


def prompt_ids(tokenizer_path: str) -> list[list[int]]:
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(tokenizer_path)
    return [tokenizer(text)["input_ids"] for text in PROMPTS]


def reference(tiny: dict[str, str], alpha: float):
    from rast import ModelPair
    from rast.reference import ReferenceRast

    return ReferenceRast(tiny["base"], [ModelPair(tiny["positive"], tiny["negative"], alpha)])


def compare_engine(run: str, tiny: dict[str, str], prompts: list[list[int]], expected: dict[float, list[list[int]]],
                   dtype: str, tp: int, **settings: Any) -> list[Comparison]:
    """One engine, every alpha of ``expected``: staggered greedy decoding against the reference's tokens."""
    from rast import RastLLM

    comparisons = []
    with RastLLM(tiny["base"], tiny["positive"], tiny["negative"], alpha=1.0, dtype=dtype, seed=0,
                 tensor_parallel_size=tp, max_model_len=512, enable_chunked_prefill=True,
                 max_num_batched_tokens=STEP_TOKEN_BUDGET, **settings) as llm:
        for alpha, wanted in expected.items():
            llm.set_alpha(alpha)
            got, margins = staggered_greedy(llm, prompts)
            comparison = compare_tokens(run, alpha, prompts, got, margins, wanted, tiny)
            print(f"  {run:<34} alpha {alpha:<4}: {comparison.equal}/{comparison.sequences} sequences equal the "
                  f"float32 reference")
            for d in comparison.divergences:
                print(f"    sequence {d.sequence}, token {d.position}: engine {d.engine_token} (margin "
                      f"{d.engine_margin}), reference {d.reference_token} (margin {d.reference_margin:.4g})")
            comparisons.append(comparison)
    return comparisons


def compare_mixed_alphas(tiny: dict[str, str], prompts: list[list[int]], expected: dict[float, list[list[int]]],
                         tp: int) -> list[Comparison]:
    """Every alpha of ``expected`` in one staggered batch, each request carrying its own (``rast_alpha``), on vLLM's
    V1 model runner (per-request alphas are refused on Model Runner V2): each sequence against the reference at its
    own alpha."""
    from rast import RastLLM
    from rast.request_alpha import V1_RUNNER_FIX

    alphas = [list(expected)[index % len(expected)] for index in range(len(prompts))]
    variable, value = V1_RUNNER_FIX.split("=")
    previous = os.environ.get(variable)
    os.environ[variable] = value  # read by vLLM when the engine starts and by its admission check of each request
    try:
        with RastLLM(tiny["base"], tiny["positive"], tiny["negative"], alpha=1.0, dtype="float32", seed=0,
                     tensor_parallel_size=tp, max_model_len=512, enable_chunked_prefill=True,
                     max_num_batched_tokens=STEP_TOKEN_BUDGET) as llm:
            got, margins = staggered_greedy(llm, prompts, alphas)
    finally:
        if previous is None:
            del os.environ[variable]
        else:
            os.environ[variable] = previous
    comparisons = []
    for alpha, wanted in expected.items():
        rows = [index for index, own in enumerate(alphas) if own == alpha]
        comparison = compare_tokens("per-request alphas, one batch", alpha, [prompts[i] for i in rows],
                                    [got[i] for i in rows], [margins[i] for i in rows], [wanted[i] for i in rows],
                                    tiny)
        print(f"  {comparison.run:<34} alpha {alpha:<4}: {comparison.equal}/{comparison.sequences} sequences equal "
              "the float32 reference")
        comparisons.append(comparison)
    return comparisons


def staggered_greedy(llm, prompts: list[list[int]],
                     alphas: Sequence[float] | None = None) -> tuple[list[list[int]], list[list[float | None]]]:
    """Greedy tokens and top-2 margins of each prompt; one new request joins the batch at every engine step. With
    ``alphas``, each request carries its own (``rast_alpha``)."""
    from vllm import SamplingParams
    from vllm.inputs import TokensPrompt

    from rast.request_alpha import with_request_alphas

    engine = llm.llm_engine
    params = SamplingParams(temperature=0.0, max_tokens=NEW_TOKENS, ignore_eos=True, logprobs=2)
    waiting, index_of, finished = list(enumerate(prompts)), {}, {}
    while waiting or engine.has_unfinished_requests():
        if waiting:
            index, ids = waiting.pop(0)
            own = params if alphas is None else with_request_alphas(params, alphas[index])
            index_of[engine.add_request(f"check-{index}", TokensPrompt(prompt_token_ids=ids), own)] = index
            index_of[f"check-{index}"] = index
        for output in engine.step():
            if output.finished:
                finished[index_of[output.request_id]] = output.outputs[0]
    tokens = [list(finished[i].token_ids) for i in range(len(prompts))]
    margins = [[_margin(step) for step in finished[i].logprobs or []] for i in range(len(prompts))]
    return tokens, margins


def _margin(step_logprobs: dict) -> float | None:
    """Top-1 minus top-2 log-probability at one step (None when fewer than two were returned)."""
    top = sorted((entry.logprob for entry in step_logprobs.values()), reverse=True)
    return round(top[0] - top[1], 6) if len(top) >= 2 else None


def compare_tokens(run: str, alpha: float, prompts: list[list[int]], got: list[list[int]],
                   margins: list[list[float | None]], wanted: list[list[int]], tiny: dict[str, str]) -> Comparison:
    """Count equal sequences; for each other one, its first divergence with both margins."""
    divergences, before, oracle = [], 0, None
    for sequence, (prompt, tokens, expected) in enumerate(zip(prompts, got, wanted)):
        position = next((i for i, (g, e) in enumerate(zip(tokens, expected)) if g != e), len(expected))
        before += position
        if position < len(expected):
            oracle = oracle or reference(tiny, alpha)  # loaded once, and only when a sequence diverges
            _, z = oracle.position_logits(prompt + expected[:position])
            top = z[-1].topk(2).values.tolist()
            divergences.append(Divergence(sequence, position, tokens[position], expected[position],
                                          margins[sequence][position], round(top[0] - top[1], 6)))
    return Comparison(run, alpha, len(prompts) - len(divergences), len(prompts), before,
                      sum(len(e) for e in wanted), divergences)


def throughput(tokenizer_from: str, real_sizes: bool, batches: list[int], tp: int,
               budget_s: float) -> dict[str, Any]:
    """RAST / base-alone decode tokens/s at each batch size (dummy weights), within ``budget_s`` seconds."""
    base_config, small_config = (QWEN25_14B, QWEN25_1_5B) if real_sizes else (CPU_BASE, CPU_SMALL)
    label = "Qwen2.5-14B + Qwen2.5-1.5B pair" if real_sizes else "CPU stand-ins of the 14B + 1.5B shapes"
    dtype = "bfloat16" if real_sizes else "float32"
    deadline = time.monotonic() + budget_s
    rates: dict[str, dict[int, float]] = {}
    with tempfile.TemporaryDirectory() as folder:
        base = write_dummy_checkpoint(Path(folder) / "base", base_config, tokenizer_from)
        positive = write_dummy_checkpoint(Path(folder) / "positive", small_config, tokenizer_from)
        negative = write_dummy_checkpoint(Path(folder) / "negative", small_config, tokenizer_from)
        print(f"  perf: {label}, dummy weights, {dtype}, TP {tp}")
        for name, pair in (("base", (None, None)), ("rast", (positive, negative))):
            rates[name] = decode_rates(base, pair, batches, dtype, tp, deadline)
    table = [{"batch": b, "base_tokens_per_s": rates["base"][b], "rast_tokens_per_s": rates["rast"][b],
              "ratio": rates["rast"][b] / rates["base"][b]} for b in batches if b in rates["rast"]]
    for row in table:
        print(f"    batch {row['batch']:>4}: base {row['base_tokens_per_s']:8.0f} tok/s, RAST "
              f"{row['rast_tokens_per_s']:8.0f} tok/s, RAST/base {row['ratio']:.2f}")
    return {"label": label, "dtype": dtype, "rows": table}


def decode_rates(model: str, pair: tuple[str | None, str | None], batches: list[int], dtype: str, tp: int,
                 deadline: float) -> dict[int, float]:
    """Generated tokens per second of one engine at each batch of 32-token prompts, until ``deadline``."""
    from vllm import SamplingParams
    from vllm.inputs import TokensPrompt

    from rast import RastLLM

    rates = {}
    with RastLLM(model, *pair, dtype=dtype, load_format="dummy", max_model_len=1024, seed=0,
                 tensor_parallel_size=tp) as llm:
        llm.generate([TokensPrompt(prompt_token_ids=[1] * 32)], SamplingParams(max_tokens=8, ignore_eos=True),
                     use_tqdm=False)  # warm-up
        for batch in batches:
            if time.monotonic() > deadline:
                print(f"    (time budget spent: batch {batch} and larger left out)")
                break
            prompts = [TokensPrompt(prompt_token_ids=[(7 * i + j) % 500 + 1 for j in range(32)])
                       for i in range(batch)]
            params = SamplingParams(temperature=0.0, max_tokens=128, ignore_eos=True)
            began = time.perf_counter()
            outputs = llm.generate(prompts, params, use_tqdm=False)
            rates[batch] = sum(len(o.outputs[0].token_ids) for o in outputs) / (time.perf_counter() - began)
    return rates


def write_dummy_checkpoint(folder: Path, config: dict, tokenizer_from: str) -> str:
    """A Qwen2 checkpoint folder with a config and a tokenizer but no weights (for ``load_format="dummy"``)."""
    folder.mkdir(parents=True)
    (folder / "config.json").write_text(json.dumps({"architectures": ["Qwen2ForCausalLM"], "model_type": "qwen2",
                                                    "torch_dtype": "bfloat16", "hidden_act": "silu", **config}))
    for name in ("tokenizer.json", "tokenizer_config.json"):
        shutil.copy(Path(tokenizer_from) / name, folder / name)
    return str(folder)


if __name__ == "__main__":
    sys.exit(main())
