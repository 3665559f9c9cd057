"""The per-request alpha state without an engine: vLLM 0.32's own V1 ``InputBatch`` (adds, removals, condensing,
swaps) keeps each row's alpha right; only the first call of a step with one row per request takes the rows; bad values
are refused in one line; Model Runner V2 loads the processor and refuses per-request alphas, naming the fallback."""

import math

import pytest
import torch
from vllm import SamplingParams

from rast.request_alpha import (EXTRA_ARG, V1_RUNNER_FIX, processor_class, processor_path,
                                request_alphas)

PAIRS = 2


def sampling(alpha=None, **extra) -> SamplingParams:
    return SamplingParams(extra_args=None if alpha is None else {EXTRA_ARG: alpha}, **extra)


@pytest.fixture
def batch():
    """vLLM's V1 persistent batch with the RAST processor of a 2-pair engine, and that processor."""
    from vllm.config import VllmConfig
    from vllm.v1.sample.logits_processor import LogitsProcessors
    from vllm.v1.worker.gpu_input_batch import InputBatch

    processor = processor_class(PAIRS)(VllmConfig(), torch.device("cpu"), False)
    batch = InputBatch(max_num_reqs=8, max_model_len=64, max_num_batched_tokens=64, device=torch.device("cpu"),
                       vocab_size=32, block_sizes=[16], max_num_blocks_per_req=[4],
                       logitsprocs=LogitsProcessors([processor]), logitsprocs_need_output_token_ids=True)
    return batch, processor


def add(batch, name: str, alpha=None) -> None:
    from vllm.v1.worker.gpu_input_batch import CachedRequestState

    batch.add_request(CachedRequestState(req_id=name, prompt_token_ids=[1, 2, 3], mm_features=[],
                                         sampling_params=sampling(alpha), generator=None, block_ids=([],),
                                         num_computed_tokens=0, output_token_ids=[]))


def rows_by_request(batch, processor) -> dict[str, list[float] | None]:
    """Each request's alphas as the model's sampling call sees them (None: the engine's)."""
    rows = processor.rows.take(batch.num_reqs)
    if rows is None:
        return {name: None for name in batch.req_ids}
    return {name: None if math.isnan(rows[i, 0]) else rows[i].tolist() for i, name in enumerate(batch.req_ids)}


def step(batch) -> None:
    """What the runner does before every forward pass: condense the gaps, then refresh the logits processors."""
    batch.condense()
    batch.refresh_metadata()


def test_rows_follow_adds_removals_condensing_and_swaps(batch):
    batch, processor = batch
    for name, alpha in [("a", 0.5), ("b", None), ("c", [0.0, 2.0]), ("d", 1.5)]:
        add(batch, name, alpha)
    step(batch)
    assert rows_by_request(batch, processor) == {"a": [0.5, 0.5], "b": None, "c": [0.0, 2.0], "d": [1.5, 1.5]}

    batch.remove_request("a")  # removals first, as the runner does
    batch.remove_request("c")
    add(batch, "e", None)  # fills the lowest free row (a's); d moves into c's when the batch is condensed
    step(batch)
    assert rows_by_request(batch, processor) == {"e": None, "b": None, "d": [1.5, 1.5]}

    batch.swap_states(0, 2)  # the attention backend's reordering
    step(batch)
    assert rows_by_request(batch, processor) == {"d": [1.5, 1.5], "b": None, "e": None}

    batch.remove_request("d")  # the last request carrying its own alpha leaves
    step(batch)
    assert processor.rows.take(batch.num_reqs) is None


def test_only_the_first_call_of_a_step_with_one_row_per_request_takes_the_rows(batch):
    batch, processor = batch
    assert processor.rows.take(8) is None  # profiling and dummy runs before any step
    add(batch, "a", 2.0)
    add(batch, "b", None)
    step(batch)
    assert processor.rows.take(2) is not None  # the sampling call
    assert processor.rows.take(2) is None  # a prompt-logprobs call of the same step: the engine's alphas
    batch.refresh_metadata()  # the next step, batch unchanged
    assert processor.rows.take(2)[0].tolist() == [2.0, 2.0]
    batch.refresh_metadata()
    with pytest.raises(RuntimeError, match="3 rows for 2 requests"):
        processor.rows.take(3)


def test_rows_of_one_engine_are_shared_by_its_processor_and_model():
    from vllm.config import VllmConfig

    from rast.request_alpha import shared_rows

    config = VllmConfig()
    processor = processor_class(1)(config, torch.device("cpu"), False)
    assert shared_rows(config, 1) is processor.rows
    assert shared_rows(VllmConfig(), 1) is not processor.rows


@pytest.mark.parametrize("value, problem", [
    ([0.5, 1.0, 2.0], "has 3 values but this engine has 2 pair(s)"),
    (float("nan"), "must be finite"),
    ([1.0, float("-inf")], "must be finite"),
    ("0.5", "must be a number"),
    (False, "must be a number"),
    ({"a": 1}, "must be a number"),
    ([], "must be a number"),
])
def test_bad_values_are_one_line(value, problem):
    with pytest.raises(ValueError) as error:
        processor_class(PAIRS).validate_params(sampling(value))
    assert problem in str(error.value) and "\n" not in str(error.value)


def test_good_values():
    assert request_alphas(sampling(), PAIRS) is None
    assert request_alphas(sampling(1), PAIRS) == [1.0, 1.0]
    assert request_alphas(sampling([0, 2.5]), PAIRS) == [0.0, 2.5]
    processor_class(PAIRS).validate_params(sampling([0, 2.5]))


def test_prompt_logprobs_are_refused_with_a_per_request_alpha():
    processor_class(1).validate_params(sampling(prompt_logprobs=2))  # the engine's alpha: allowed
    with pytest.raises(ValueError, match="cannot be combined with prompt_logprobs"):
        processor_class(1).validate_params(sampling(0.5, prompt_logprobs=2))


def test_model_runner_v2_loads_the_processor_and_refuses_per_request_alphas(monkeypatch):
    from vllm.exceptions import VLLMValidationError
    from vllm.v1.worker.gpu.sample.logits_processor import build_custom_logits_processors_params_validator

    monkeypatch.setenv("VLLM_USE_V2_MODEL_RUNNER", "1")
    validate = build_custom_logits_processors_params_validator([processor_path(1)])  # vLLM's V2 frontend check
    validate(sampling())  # the engine's alphas: fine on either runner
    with pytest.raises(VLLMValidationError, match=V1_RUNNER_FIX):
        validate(sampling(0.5))
    monkeypatch.setenv("VLLM_USE_V2_MODEL_RUNNER", "0")
    validate(sampling(0.5))



def test_with_request_alphas_copies_the_params():
    from rast.request_alpha import with_request_alphas

    original = sampling(temperature=0.7, seed=3)
    own = with_request_alphas(original, [0.25, 2.0])
    assert request_alphas(own, PAIRS) == [0.25, 2.0] and (own.temperature, own.seed) == (0.7, 3)
    assert request_alphas(original, PAIRS) is None
    assert request_alphas(with_request_alphas(original, 0.5), PAIRS) == [0.5, 0.5]


def test_an_engine_without_the_processor_is_named_with_the_flag_that_adds_it():
    from vllm.config import ModelConfig, VllmConfig

    from rast.request_alpha import missing_processor
    from rast.tiny_models import tiny_model_paths

    base = tiny_model_paths()["base"]
    without = VllmConfig(model_config=ModelConfig(model=base))
    warning = missing_processor(without, 2)
    assert f"--logits-processors {processor_path(2)}" in warning and "\n" not in warning
    for given in (processor_path(2), processor_class(2)):
        assert missing_processor(VllmConfig(model_config=ModelConfig(model=base, logits_processors=[given])), 2) is None
