"""One (positive, negative) pair through RastLLM: greedy tokens equal the transformers reference at every alpha,
alpha changes without reloading, sampling is reproducible with a seed."""

from pathlib import Path

import pytest
from engine_helpers import ENGINE_SETTINGS, NEW_TOKENS, greedy_tokens

from rast import ModelPair, RastLLM
from rast.reference import ReferenceRast

ALPHAS = [0.0, 0.5, 1.0, 2.0]


@pytest.fixture(scope="module")
def engine(tiny_models):
    # vLLM's default compiled path here (the other engine tests run eager to start faster)
    # given as pathlib.Path, and used as a context manager that shuts the engine down
    settings = {**ENGINE_SETTINGS, "enforce_eager": False}
    paths = [Path(tiny_models[role]) for role in ("base", "positive", "negative")]
    with RastLLM(*paths, alpha=1.0, **settings) as llm:
        yield llm


@pytest.fixture(scope="module")
def reference(tiny_models):
    return ReferenceRast(tiny_models["base"], [ModelPair(tiny_models["positive"], tiny_models["negative"], 1.0)])


def test_vocabulary_padding_differs(tiny_models):
    from transformers import AutoConfig

    sizes = {role: AutoConfig.from_pretrained(tiny_models[role]).vocab_size for role in ("base", "positive")}
    assert sizes["base"] > sizes["positive"]


@pytest.mark.parametrize("alpha", ALPHAS)
def test_greedy_equals_reference(engine, reference, prompt_ids, alpha):
    engine.set_alpha(alpha)
    reference.alphas = [alpha]
    got = greedy_tokens(engine, prompt_ids)
    expected = reference.generate(prompt_ids, NEW_TOKENS)
    assert got == expected


def test_alpha_changes_the_tokens(engine, prompt_ids):
    engine.set_alpha(0.0)
    at_zero = greedy_tokens(engine, prompt_ids)
    engine.set_alpha(2.0)
    at_two = greedy_tokens(engine, prompt_ids)
    assert at_zero != at_two, "the small models' delta should move at least one greedy token"


def test_tokens_never_leave_the_shared_vocabulary(engine, prompt_ids, tiny_models):
    from transformers import AutoConfig

    shared = AutoConfig.from_pretrained(tiny_models["positive"]).vocab_size
    engine.set_alpha(1.0)
    assert max(max(tokens) for tokens in greedy_tokens(engine, prompt_ids)) < shared


def test_sampling_is_reproducible_with_a_seed(engine, prompt_ids):
    from vllm import SamplingParams
    from vllm.inputs import TokensPrompt

    engine.set_alpha(1.0)
    prompts = [TokensPrompt(prompt_token_ids=ids) for ids in prompt_ids[:4]]

    def sample(seed):
        params = SamplingParams(n=4, temperature=1.0, top_p=0.95, seed=seed, max_tokens=16)
        return [[list(c.token_ids) for c in out.outputs] for out in engine.generate(prompts, params, use_tqdm=False)]

    first, again, other = sample(7), sample(7), sample(8)
    assert first == again
    assert first != other
    assert all(len(samples) == 4 for samples in first)
    assert any(len({tuple(s) for s in samples}) > 1 for samples in first), "n=4 samples should not all be equal"


def test_set_alpha_rejects_bad_values(engine):
    from rast import RastConfigError

    with pytest.raises(RastConfigError, match="finite"):
        engine.set_alpha(float("nan"))
    with pytest.raises(RastConfigError, match="2 alphas for 1 pairs"):
        engine.set_alpha([1.0, 2.0])


def test_an_id_a_small_model_cannot_embed_is_refused_alone(engine, prompt_ids, tiny_models):
    """Ids from the small models' rows up to the base's pass a plain base-model check; RAST refuses them per request."""
    from transformers import AutoConfig
    from vllm import SamplingParams
    from vllm.exceptions import VLLMValidationError
    from vllm.inputs import TokensPrompt

    small_rows = AutoConfig.from_pretrained(tiny_models["positive"]).vocab_size
    assert AutoConfig.from_pretrained(tiny_models["base"]).vocab_size > small_rows
    params = SamplingParams(temperature=0.0, max_tokens=4)
    with pytest.raises(VLLMValidationError, match=f"Token id {small_rows} is out of vocabulary"):
        engine.generate([TokensPrompt(prompt_token_ids=[5, small_rows])], params, use_tqdm=False)
    engine.set_alpha(1.0)
    assert greedy_tokens(engine, prompt_ids[:2]) == greedy_tokens(engine, prompt_ids[:2])  # the engine still serves


def test_many_seeded_samples_in_one_call(engine, prompt_ids):
    """64 prompts x n=32, seeded (the README's example): more tokens than one step takes, which on CPU used to split a
    prefill and kill the engine ("CPU Generator does not use offset")."""
    from vllm import SamplingParams
    from vllm.inputs import TokensPrompt

    prompts = [TokensPrompt(prompt_token_ids=prompt_ids[i % len(prompt_ids)] * 8) for i in range(64)]
    params = SamplingParams(n=32, temperature=1.0, top_p=0.95, seed=3, max_tokens=2)
    outputs = engine.generate(prompts, params, use_tqdm=False)
    assert [len(output.outputs) for output in outputs] == [32] * 64
