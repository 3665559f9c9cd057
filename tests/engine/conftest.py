"""Fixtures of the engine tests."""

import pytest
from engine_helpers import PROMPT_TEXTS


@pytest.fixture(scope="session")
def prompt_ids(tiny_models) -> list[list[int]]:
    """Token ids of 8 prompts of different lengths."""
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(tiny_models["base"])
    ids = [tokenizer(text)["input_ids"] for text in PROMPT_TEXTS]
    assert len({len(i) for i in ids}) >= 6, "prompts should have different lengths"
    return ids
