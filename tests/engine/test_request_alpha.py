"""Alpha per request (``SamplingParams.extra_args["rast_alpha"]``) on the V1 runner: every request of a mixed batch
gets exactly what the same engine gives after ``set_alpha`` of its alpha (tokens equal, logprobs within 1e-5), through
batch churn (few sequences at once, different lengths) and preemption (a KV cache of a few blocks); bad values are
refused at admission for that request alone; prompt logprobs of another request in the same step keep the engine's
alphas."""

import math

import pytest
from engine_helpers import ENGINE_SETTINGS, NEW_TOKENS

from rast import ModelPair, RastLLM
from rast.config import RastConfigError
from rast.reference import ReferenceRast

ENGINE_ALPHA = 1.0
ALPHAS = [0.0, 0.5, 1.0, 2.0]
LOGPROBS = 3
# few sequences at once and a KV cache of few blocks: requests join, finish and get preempted mid-generation
CHURN_SETTINGS = {**ENGINE_SETTINGS, "max_num_seqs": 3, "max_model_len": 96, "block_size": 32,
                  "num_gpu_blocks_override": 4, "disable_log_stats": False}


@pytest.fixture(scope="module")
def engine(tiny_models):
    with RastLLM(tiny_models["base"], tiny_models["positive"], tiny_models["negative"], alpha=ENGINE_ALPHA,
                 **CHURN_SETTINGS) as llm:
        yield llm


@pytest.fixture(scope="module")
def reference(tiny_models):
    return ReferenceRast(tiny_models["base"], [ModelPair(tiny_models["positive"], tiny_models["negative"], 0.0)])


def params(alpha=None, max_tokens=NEW_TOKENS, **extra):
    from vllm import SamplingParams

    return SamplingParams(temperature=0.0, max_tokens=max_tokens, ignore_eos=True, logprobs=LOGPROBS,
                          extra_args=None if alpha is None else {"rast_alpha": alpha}, **extra)


def run(engine, prompt_ids, sampling_params):
    """(tokens, top logprobs per step) of each prompt, in prompt order."""
    from vllm.inputs import TokensPrompt

    outputs = engine.generate([TokensPrompt(prompt_token_ids=ids) for ids in prompt_ids], sampling_params,
                              use_tqdm=False)
    return [(list(o.outputs[0].token_ids), [{t: p.logprob for t, p in step.items()} for step in o.outputs[0].logprobs])
            for o in outputs]


def assert_same(got, expected, what: str) -> None:
    tokens, logprobs = got
    want_tokens, want_logprobs = expected
    assert tokens == want_tokens[:len(tokens)], what
    for step, (mine, theirs) in enumerate(zip(logprobs, want_logprobs)):
        assert mine.keys() == theirs.keys(), f"{what}, step {step}"
        assert all(math.isclose(mine[t], theirs[t], abs_tol=1e-5) for t in mine), f"{what}, step {step}"


@pytest.fixture(scope="module")
def at_engine_alpha(engine, prompt_ids):
    """Every prompt's greedy tokens and logprobs after set_alpha(a), for each alpha of ALPHAS."""
    results = {}
    for alpha in ALPHAS:
        engine.set_alpha(alpha)
        results[alpha] = run(engine, prompt_ids, params())
    engine.set_alpha(ENGINE_ALPHA)
    return results


def preemptions(engine) -> float:
    return sum(m.value for m in engine.get_metrics() if m.name == "vllm:num_preemptions")


def test_mixed_batch_equals_the_engine_at_each_alpha(engine, prompt_ids, at_engine_alpha):
    # each prompt once per alpha, plus once without its own (the engine's alpha): 40 requests through 3 slots
    requests = [(ids, alpha) for alpha in [*ALPHAS, None] for ids in prompt_ids]
    before = preemptions(engine)
    got = run(engine, [ids for ids, _ in requests], [params(alpha) for _, alpha in requests])
    assert preemptions(engine) > before, "the KV cache should be small enough to preempt requests"
    for index, (result, (_, alpha)) in enumerate(zip(got, requests)):
        expected = at_engine_alpha[ENGINE_ALPHA if alpha is None else alpha][index % len(prompt_ids)]
        assert_same(result, expected, f"request {index} at alpha {alpha}")


def test_requests_finishing_at_different_lengths_keep_their_alphas(engine, prompt_ids, at_engine_alpha):
    alphas = [ALPHAS[i % len(ALPHAS)] for i in range(len(prompt_ids))]
    lengths = [4 + 4 * i for i in range(len(prompt_ids))]  # each request leaves the batch at another step
    got = run(engine, prompt_ids, [params(a, max_tokens=n) for a, n in zip(alphas, lengths)])
    for index, (result, alpha, length) in enumerate(zip(got, alphas, lengths)):
        assert len(result[0]) == length
        assert_same(result, at_engine_alpha[alpha][index], f"prompt {index} at alpha {alpha}")


def test_alpha_zero_is_the_base_models_greedy(engine, prompt_ids, reference):
    mixed = run(engine, prompt_ids * 2, [params(a) for a in [0.0] * len(prompt_ids) + [2.0] * len(prompt_ids)])
    assert [tokens for tokens, _ in mixed[:len(prompt_ids)]] == reference.generate(prompt_ids, NEW_TOKENS)


def test_one_alpha_per_pair_as_a_list(engine, prompt_ids, at_engine_alpha):
    got = run(engine, prompt_ids[:2], [params([0.5]), params([2.0])])
    assert_same(got[0], at_engine_alpha[0.5][0], "list [0.5]")
    assert_same(got[1], at_engine_alpha[2.0][1], "list [2.0]")


def test_prompt_logprobs_in_the_same_step_keep_the_engines_alpha(engine, prompt_ids):
    # a 3-token prompt gives 2 prompt-logprob rows; with another request that is also the batch size: a prompt-logprob
    # call that took the step's per-request rows would score the prompt at alpha 2 and 0, not the engine's alpha
    short = prompt_ids[1][:3]
    alone = engine.generate([{"prompt_token_ids": short}], params(max_tokens=1, prompt_logprobs=LOGPROBS),
                            use_tqdm=False)[0].prompt_logprobs
    both = engine.generate([{"prompt_token_ids": short}, {"prompt_token_ids": prompt_ids[2]}],
                           [params(max_tokens=1, prompt_logprobs=LOGPROBS), params(0.0, max_tokens=1)],
                           use_tqdm=False)[0].prompt_logprobs
    engine.set_alpha([2.0])
    try:
        at_two = engine.generate([{"prompt_token_ids": short}], params(max_tokens=1, prompt_logprobs=LOGPROBS),
                                 use_tqdm=False)[0].prompt_logprobs
    finally:
        engine.set_alpha(ENGINE_ALPHA)
    assert close(both, alone)
    assert not close(alone, at_two), "alpha should move the prompt's scores"


def close(prompt_logprobs, others) -> bool:
    """Two prompts' logprobs (the first position has none) name the same tokens with scores within 1e-5."""
    return all(mine.keys() == theirs.keys() and all(math.isclose(mine[t].logprob, theirs[t].logprob, abs_tol=1e-5)
                                                    for t in mine)
               for mine, theirs in zip(prompt_logprobs[1:], others[1:], strict=True))


@pytest.mark.parametrize("value, problem", [
    ([0.5, 1.0], "has 2 values but this engine has 1 pair"),
    (float("nan"), "must be finite"),
    (float("inf"), "must be finite"),
    ("0.5", "must be a number"),
    (True, "must be a number"),
    ([], "must be a number"),
])
def test_a_bad_alpha_is_refused_in_one_line_before_anything_runs(engine, prompt_ids, value, problem):
    good = params(0.5)
    with pytest.raises(RastConfigError, match=problem) as error:
        engine.generate([{"prompt_token_ids": prompt_ids[0]}] * 2, [good, params(value)], use_tqdm=False)
    assert str(error.value).startswith("request 1: ") and "\n" not in str(error.value)


def test_vllms_own_admission_refuses_a_bad_alpha_and_the_engine_keeps_serving(engine, prompt_ids, at_engine_alpha):
    from vllm.exceptions import VLLMValidationError

    with pytest.raises(VLLMValidationError, match="rast_alpha must be finite"):
        engine.llm.generate([{"prompt_token_ids": prompt_ids[0]}], params(float("nan")), use_tqdm=False)
    assert_same(run(engine, prompt_ids[:1], params(2.0))[0], at_engine_alpha[2.0][0], "after a refused request")


def test_per_request_alpha_with_prompt_logprobs_is_refused(engine, prompt_ids):
    with pytest.raises(RastConfigError, match="cannot be combined with prompt_logprobs"):
        engine.generate([{"prompt_token_ids": prompt_ids[0]}], params(0.5, prompt_logprobs=1), use_tqdm=False)


def test_seeded_samples_in_a_mixed_batch_equal_the_engine_at_each_alpha(engine, prompt_ids):
    # what run.py's one-pass sweep relies on: a seeded request samples the same tokens whatever shares its batch
    from vllm import SamplingParams

    def sampled(alpha=None):
        return SamplingParams(n=2, temperature=1.0, seed=7, max_tokens=12, ignore_eos=True,
                              extra_args=None if alpha is None else {"rast_alpha": alpha})

    def tokens(outputs):
        return [[list(sample.token_ids) for sample in output.outputs] for output in outputs]

    prompts = [{"prompt_token_ids": ids} for ids in prompt_ids[:4]]
    mixed = tokens(engine.generate(prompts * len(ALPHAS), [sampled(a) for a in ALPHAS for _ in prompts],
                                   use_tqdm=False))
    try:
        for position, alpha in enumerate(ALPHAS):
            engine.set_alpha(alpha)
            alone = tokens(engine.generate(prompts, sampled(), use_tqdm=False))
            assert mixed[position * len(prompts):(position + 1) * len(prompts)] == alone, alpha
    finally:
        engine.set_alpha(ENGINE_ALPHA)
