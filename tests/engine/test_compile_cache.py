"""vLLM's compile caches with RAST's sub-models: one artifact per sub-model and rank, and a new alpha reuses them.

vLLM keys its ahead-of-time compile artifacts (``torch_aot_compile/<hash>/rank_<rank>_<dp rank>``) by the config's
hash, not by the model tag. A compiled graph names its attention layers (so, which KV cache it reads and writes): two
sub-models of one checkpoint must never share an artifact, nor the ranks of a pair replicated on each rank; and the
alphas, which change at run time, must not be in the hash, or a new alpha recompiles the base model (minutes at 14B).
Tensor parallel 2: pair 0 is sharded, pair 1 (the same checkpoints) replicated.
"""

import pytest
from engine_helpers import NEW_TOKENS, greedy_tokens

from rast import ModelPair, RastLLM
from rast.reference import ReferenceRast

# enforce_eager off: every sub-model is compiled
COMPILED = dict(dtype="float32", seed=0, max_model_len=512, tensor_parallel_size=2, small_tensor_parallel_size=[2, 1])


def aot_artifacts(cache_root) -> set[str]:
    """The ahead-of-time compile artifacts under a VLLM_CACHE_ROOT: config hash / rank folder."""
    folder = cache_root / "torch_compile_cache" / "torch_aot_compile"
    return {f"{path.parent.name}/{path.name}" for path in folder.glob("*/rank_*")}


@pytest.fixture(scope="module")
def cache_root(tmp_path_factory):
    root = tmp_path_factory.mktemp("vllm_cache")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("VLLM_CACHE_ROOT", str(root))
        patch.setenv("VLLM_USE_AOT_COMPILE", "1")
        patch.setenv("VLLM_CPU_OMP_THREADS_BIND", "0|1")  # one core per rank
        yield root


def run_compiled(tiny_models, alphas, prompt_ids):
    """Greedy tokens of a compiled engine whose two pairs share one positive and one negative checkpoint, and the
    reference's."""
    small = tiny_models["positive"], tiny_models["negative"]
    with RastLLM(tiny_models["base"], [small[0]] * 2, [small[1]] * 2, alpha=alphas, **COMPILED) as llm:
        got = greedy_tokens(llm, prompt_ids)
    reference = ReferenceRast(tiny_models["base"], [ModelPair(*small, alpha) for alpha in alphas])
    return got, reference.generate(prompt_ids, NEW_TOKENS)


def test_each_sub_model_has_its_own_artifact_and_a_new_alpha_adds_none(cache_root, tiny_models, prompt_ids):
    cold_tokens = run_compiled(tiny_models, [1.0, 0.5], prompt_ids)
    cold = aot_artifacts(cache_root)
    warm_tokens = run_compiled(tiny_models, [2.0, 0.25], prompt_ids)
    warm = aot_artifacts(cache_root)

    assert cold_tokens[0] == cold_tokens[1] and warm_tokens[0] == warm_tokens[1], "tokens differ from the reference"
    assert warm == cold, "a new alpha must reuse every compiled sub-model"
    assert len({artifact.split("/")[0] for artifact in cold}) == 5, \
        "base, positive_0, positive_1, negative_0, negative_1: one artifact each"
    assert {artifact.split("/")[1] for artifact in cold} == {"rank_0_0", "rank_1_0"}
    assert len(cold) == 10, "each rank its own artifact of each sub-model"
