"""What ``engine_kwargs`` and the ``rast`` section of ``hf_overrides`` hand to vLLM (no engine needed)."""

import pickle

import pytest
from transformers import AutoConfig

from rast import RastConfig, RastConfigError, engine_kwargs, rast_config


def rast_section(alpha) -> dict:
    return {"base_architecture": "Qwen2ForCausalLM", "pairs": [{"positive": "p", "negative": "n", "alpha": alpha}]}


def test_an_alpha_given_as_text_in_hf_overrides_becomes_a_number():
    """``vllm serve --hf-overrides`` JSON written by hand may quote the alpha."""
    assert RastConfig.from_section(rast_section("1.5")).alphas == [1.5]
    assert isinstance(RastConfig.from_section(rast_section("1.5")).alphas[0], float)
    with pytest.raises(RastConfigError, match="alpha must be a number"):
        RastConfig.from_section(rast_section("strong"))


def test_the_composite_vocabulary_is_the_shared_one(tiny_models):
    config = rast_config(tiny_models["base"], tiny_models["positive"], tiny_models["negative"])
    small_rows = AutoConfig.from_pretrained(tiny_models["positive"]).vocab_size
    assert engine_kwargs(tiny_models["base"], config)["hf_overrides"]["vocab_size"] == small_rows


def add_marker(hf_config):
    hf_config.marker = "user"
    return hf_config


def test_a_callable_hf_overrides_is_kept_and_rast_applied_after_it(tiny_models):
    config = rast_config(tiny_models["base"], tiny_models["positive"], tiny_models["negative"])
    overrides = engine_kwargs(tiny_models["base"], config, hf_overrides=add_marker)["hf_overrides"]
    hf_config = pickle.loads(pickle.dumps(overrides))(AutoConfig.from_pretrained(tiny_models["base"]))
    assert hf_config.marker == "user"
    assert hf_config.architectures == ["RastForCausalLM"] and hf_config.rast == config.hf_overrides()["rast"]


def test_seeded_sampling_settings_apply_unless_the_caller_sets_them(tiny_models):
    from vllm.platforms import current_platform

    if not current_platform.is_cpu():
        pytest.skip("the chunked-prefill workaround is for vLLM's CPU backend")
    assert engine_kwargs(tiny_models["base"], None)["enable_chunked_prefill"] is False
    assert engine_kwargs(tiny_models["base"], None, enable_chunked_prefill=True)["enable_chunked_prefill"] is True


def test_small_models_keep_the_engine_settings_that_concern_them(tiny_models):
    """Tokenizer mode, remote code, logprobs mode, dtype and context carry over to every small model's ModelConfig;
    each small model has its own checkpoint and revision."""
    from vllm.config import ModelConfig, VllmConfig

    from rast.model import _small_vllm_config

    engine = ModelConfig(model=tiny_models["base"], tokenizer_mode="slow", trust_remote_code=True, dtype="float32",
                         max_model_len=256, logprobs_mode="processed_logprobs")
    small_config, size = _small_vllm_config(VllmConfig(model_config=engine), tiny_models["positive"], None,
                                            "positive_0", None)
    small = small_config.model_config
    assert size == 1 and small.hf_config.rast_sub_model == "positive_0"
    assert (small.model, small.tokenizer_mode, small.trust_remote_code, small.max_model_len, small.logprobs_mode) == (
        tiny_models["positive"], "slow", True, 256, "processed_logprobs")
    assert small.dtype == engine.dtype and small.tokenizer == engine.tokenizer


def test_pair_revisions_travel_in_the_rast_section():
    section = {"base_architecture": "Qwen2ForCausalLM",
               "pairs": [{"positive": "p", "negative": "n", "alpha": 1.0, "positive_revision": "v2"}]}
    config = RastConfig.from_section(section)
    assert (config.pairs[0].positive_revision, config.pairs[0].negative_revision) == ("v2", None)
    assert config.hf_overrides()["rast"] == section
