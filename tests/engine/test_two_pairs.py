"""Two pairs through plain ``vllm.LLM`` with the ``hf_overrides`` form: greedy tokens equal the reference."""

import pytest
from engine_helpers import ENGINE_SETTINGS, NEW_TOKENS, greedy_tokens

from rast import ModelPair, RastLLM, rast_config
from rast.api import engine_kwargs, shutdown_engine
from rast.reference import ReferenceRast

ALPHAS = [0.0, 0.5, 1.0, 2.0]


@pytest.fixture(scope="module")
def pairs(tiny_models):
    return [ModelPair(tiny_models["positive"], tiny_models["negative"]),
            ModelPair(tiny_models["positive_b"], tiny_models["negative_b"])]


@pytest.fixture(scope="module")
def engine(tiny_models, pairs):
    from vllm import LLM

    config = rast_config(tiny_models["base"], [p.positive for p in pairs], [p.negative for p in pairs], [1.0, 1.0])
    llm = LLM(**engine_kwargs(tiny_models["base"], config, **ENGINE_SETTINGS))
    yield llm
    shutdown_engine(llm)


@pytest.mark.parametrize("alpha", ALPHAS)
def test_greedy_equals_reference(engine, tiny_models, pairs, prompt_ids, alpha):
    alphas = [alpha, 1.0 - alpha / 2]  # each pair its own weight
    engine.collective_rpc("rast_set_alphas", args=(alphas,))
    reference = ReferenceRast(tiny_models["base"],
                              [ModelPair(p.positive, p.negative, a) for p, a in zip(pairs, alphas)])
    assert greedy_tokens(engine, prompt_ids) == reference.generate(prompt_ids, NEW_TOKENS)


def test_the_second_pair_matters(engine, prompt_ids):
    engine.collective_rpc("rast_set_alphas", args=([1.0, 0.0],))
    first_only = greedy_tokens(engine, prompt_ids)
    engine.collective_rpc("rast_set_alphas", args=([1.0, 2.0],))
    assert greedy_tokens(engine, prompt_ids) != first_only


def test_three_pairs_are_the_limit_and_four_are_refused(tiny_models):
    from rast import RastConfigError

    positives = [tiny_models["positive"]] * 4
    negatives = [tiny_models["negative"]] * 4
    with pytest.raises(RastConfigError, match="1 to 3"):
        RastLLM(tiny_models["base"], positives, negatives)
