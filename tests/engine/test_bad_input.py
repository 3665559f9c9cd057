"""Bad input fails before any model work, with one clear line naming the problem."""


import pytest

from rast import RastConfigError, RastLLM


def test_missing_model_path(tiny_models):
    with pytest.raises(RastConfigError, match="/no/such/model does not exist"):
        RastLLM(tiny_models["base"], "/no/such/model", tiny_models["negative"])


def test_directory_without_config(tiny_models, tmp_path):
    with pytest.raises(RastConfigError, match="has no config.json"):
        RastLLM(str(tmp_path), tiny_models["positive"], tiny_models["negative"])


@pytest.mark.parametrize("alpha", [float("nan"), float("inf"), "strong", None])
def test_alpha_not_a_finite_number(tiny_models, alpha):
    with pytest.raises(RastConfigError, match="alpha must be a"):
        RastLLM(tiny_models["base"], tiny_models["positive"], tiny_models["negative"], alpha=alpha)


def test_positive_without_negative(tiny_models):
    with pytest.raises(RastConfigError, match="positive model but no negative model"):
        RastLLM(tiny_models["base"], [tiny_models["positive"]], [None])
    with pytest.raises(RastConfigError, match="give them in pairs"):
        RastLLM(tiny_models["base"], tiny_models["positive"])
