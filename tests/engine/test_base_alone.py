"""alpha = 0 gives exactly what plain vLLM gives for the base model alone (and that equals transformers)."""

import pytest
from engine_helpers import ENGINE_SETTINGS, NEW_TOKENS, greedy_tokens

from rast import RastLLM, rast_config
from rast.api import engine_kwargs, shutdown_engine
from rast.reference import ReferenceRast


@pytest.fixture(scope="module")
def base_alone_tokens(tiny_models, prompt_ids):
    """Greedy tokens of plain vLLM on the base model (engine shut down afterwards: one engine in memory at a time)."""
    from vllm import LLM

    llm = LLM(model=tiny_models["base"], **ENGINE_SETTINGS)
    try:
        return greedy_tokens(llm, prompt_ids)
    finally:
        shutdown_engine(llm)


def test_plain_vllm_equals_transformers(tiny_models, prompt_ids, base_alone_tokens):
    assert base_alone_tokens == ReferenceRast(tiny_models["base"]).generate(prompt_ids, NEW_TOKENS)


def test_rast_at_alpha_zero_equals_base_alone(tiny_models, prompt_ids, base_alone_tokens):
    rast = RastLLM(tiny_models["base"], tiny_models["positive"], tiny_models["negative"], alpha=0.0, **ENGINE_SETTINGS)
    try:
        assert greedy_tokens(rast, prompt_ids) == base_alone_tokens
    finally:
        rast.shutdown()


def test_without_pairs_the_engine_is_plain_vllm(tiny_models):
    from rast.api import platform_engine_kwargs

    kwargs = engine_kwargs(tiny_models["base"], rast_config(tiny_models["base"]), dtype="float32")
    assert kwargs == {"model": tiny_models["base"], "dtype": "float32", **platform_engine_kwargs()}
