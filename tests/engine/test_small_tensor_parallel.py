"""Small models at their own tensor-parallel size: a copy on every rank (1) or sharded like the base.

At tensor parallel 2 (both CPU cores): pair 0's small models (2 heads) split 2 ways, pair 1's (3 heads) do not and are
replicated; greedy tokens equal the float32 reference with the default layout and with every pair replicated, and
seeded samples are the same in both layouts.
"""

import json

import pytest
from engine_helpers import ENGINE_SETTINGS, NEW_TOKENS, greedy_tokens

from rast import ModelPair, RastConfigError, RastLLM
from rast.api import with_layout
from rast.config import RastConfig
from rast.reference import ReferenceRast

TP2 = dict(ENGINE_SETTINGS, tensor_parallel_size=2)
ALPHAS = ([1.0, 0.5], [0.0, 2.0])


@pytest.fixture(scope="module")
def pairs(tiny_models):
    return [ModelPair(tiny_models["positive"], tiny_models["negative"]),
            ModelPair(tiny_models["positive_b"], tiny_models["negative_b"])]


def sampled_tokens(llm, prompt_ids):
    from vllm import SamplingParams
    from vllm.inputs import TokensPrompt

    params = [SamplingParams(temperature=1.0, top_p=0.9, max_tokens=NEW_TOKENS, ignore_eos=True, seed=100 + i)
              for i in range(len(prompt_ids))]
    outputs = llm.generate([TokensPrompt(prompt_token_ids=ids) for ids in prompt_ids], params, use_tqdm=False)
    return [list(output.outputs[0].token_ids) for output in outputs]


@pytest.fixture(scope="module")
def runs(tiny_models, pairs, prompt_ids):
    """Per layout (default sizes; every pair replicated): the pairs' sizes, greedy tokens per alphas, seeded samples."""
    results = {}
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("VLLM_CPU_OMP_THREADS_BIND", "0|1")  # one core per rank
        for layout, sizes in (("default", None), ("replicated", 1)):
            with RastLLM(tiny_models["base"], [p.positive for p in pairs], [p.negative for p in pairs],
                         alpha=ALPHAS[0], small_tensor_parallel_size=sizes, **TP2) as llm:
                greedy = {}
                for alphas in ALPHAS:
                    llm.set_alpha(alphas)
                    greedy[tuple(alphas)] = greedy_tokens(llm, prompt_ids)
                llm.set_alpha(ALPHAS[0])
                results[layout] = {"sizes": [pair.tensor_parallel_size for pair in llm.config.pairs],
                                   "greedy": greedy, "sampled": sampled_tokens(llm, prompt_ids)}
    return results


def test_the_pair_whose_heads_do_not_split_is_replicated_by_default(runs):
    assert runs["default"]["sizes"] == [2, 1]
    assert runs["replicated"]["sizes"] == [1, 1]


@pytest.mark.parametrize("layout", ["default", "replicated"])
@pytest.mark.parametrize("alphas", ALPHAS)
def test_greedy_tokens_equal_the_reference(runs, layout, alphas, tiny_models, pairs, prompt_ids):
    reference = ReferenceRast(tiny_models["base"],
                              [ModelPair(p.positive, p.negative, a) for p, a in zip(pairs, alphas)])
    assert runs[layout]["greedy"][tuple(alphas)] == reference.generate(prompt_ids, NEW_TOKENS)


def test_seeded_samples_are_the_same_replicated_or_sharded(runs):
    assert runs["replicated"]["sampled"] == runs["default"]["sampled"]


def qwen_config(folder, name, heads, kv_heads, hidden):
    """A checkpoint folder holding only a config.json with a published model's attention shape."""
    path = folder / name
    path.mkdir()
    (path / "config.json").write_text(json.dumps({
        "architectures": ["Qwen2ForCausalLM"], "model_type": "qwen2", "num_attention_heads": heads,
        "num_key_value_heads": kv_heads, "hidden_size": hidden, "max_position_embeddings": 32768}))
    return str(path)


@pytest.mark.parametrize("base, small, sizes", [
    (("Qwen2.5-32B", 40, 8, 5120), ("Qwen2.5-7B", 28, 4, 3584), 1),
    (("Qwen2.5-14B", 40, 8, 5120), ("Qwen2.5-1.5B", 12, 2, 1536), 1),
    (("Llama-3.1-70B", 64, 8, 8192), ("Llama-3.1-8B", 32, 8, 4096), 8),
])
def test_every_paper_layout_runs_at_tensor_parallel_8(tmp_path, base, small, sizes):
    base_path = qwen_config(tmp_path, *base)
    small_path = qwen_config(tmp_path, *small)
    config = RastConfig("Qwen2ForCausalLM", (ModelPair(small_path, small_path),))
    assert [p.tensor_parallel_size for p in with_layout(base_path, config, 8, None).pairs] == [sizes]
    assert [p.tensor_parallel_size for p in with_layout(base_path, config, 8, None, 1).pairs] == [1]


@pytest.mark.parametrize("requested, message", [
    (2, "must be 1 (a copy on every rank) or the engine's (8), got 2"),
    (8, "12 attention heads, which tensor parallel size 8 cannot split: use small tensor parallel size 1"),
    ([1, 1], "got 2 small tensor parallel sizes for 1 pairs"),
])
def test_a_small_size_that_cannot_work_is_one_line(tmp_path, requested, message):
    base_path = qwen_config(tmp_path, "Qwen2.5-14B", 40, 8, 5120)
    small_path = qwen_config(tmp_path, "Qwen2.5-1.5B", 12, 2, 1536)
    config = RastConfig("Qwen2ForCausalLM", (ModelPair(small_path, small_path),))
    with pytest.raises(RastConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        with_layout(base_path, config, 8, None, requested)
