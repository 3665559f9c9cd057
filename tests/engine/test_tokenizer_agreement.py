"""Tokenizer agreement: shared tokens keep their ids, extra tokens are allowed, base ids stay below the shared rows."""

import json
import logging
import shutil
from pathlib import Path

import pytest

from rast import RastConfigError
from rast.validation import check_tokenizers_agree


def _copy(tiny_models: dict[str, str], role: str, tmp_path: Path, name: str) -> Path:
    """A copy of a tiny checkpoint (weights, config and tokenizer) whose tokenizer a test may change."""
    copy = tmp_path / name
    shutil.copytree(tiny_models[role], copy)
    return copy


def _add_tokens(checkpoint: Path, tokens: list[str]) -> None:
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(checkpoint)
    tokenizer.add_tokens(tokens, special_tokens=True)
    tokenizer.save_pretrained(checkpoint)


def test_identical_tokenizers_agree(tiny_models):
    check_tokenizers_agree(tiny_models["base"], [tiny_models["positive"], tiny_models["negative"]])


def test_small_tokenizer_with_an_added_pad_token_is_accepted_and_logged(tiny_models, tmp_path, caplog):
    positive = _copy(tiny_models, "positive", tmp_path, "rl-with-pad")
    _add_tokens(positive, ["<|pad|>"])
    with caplog.at_level(logging.INFO, logger="rast.validation"):
        check_tokenizers_agree(tiny_models["base"], [str(positive), tiny_models["negative"]])
    assert "adds 1 (e.g. '<|pad|>'=512)" in caplog.text


def test_base_tokenizer_with_an_extra_token_below_the_shared_rows_is_accepted(tiny_models, tmp_path):
    base = _copy(tiny_models, "base", tmp_path, "base-with-extra")
    _add_tokens(base, ["<|extra|>"])
    check_tokenizers_agree(str(base), [tiny_models["positive"], tiny_models["negative"]])


def test_two_swapped_ids_are_refused(tiny_models, tmp_path):
    negative = _copy(tiny_models, "negative", tmp_path, "swapped")
    tokenizer_file = negative / "tokenizer.json"
    tokenizer = json.loads(tokenizer_file.read_text())
    vocab = tokenizer["model"]["vocab"]
    first, second = sorted(vocab, key=vocab.get)[100:102]
    vocab[first], vocab[second] = vocab[second], vocab[first]
    tokenizer_file.write_text(json.dumps(tokenizer))
    with pytest.raises(RastConfigError, match=rf"disagree on the shared vocabulary \(2 tokens have different ids, "
                                              rf"e.g. {first!r} is 100 against 101\)"):
        check_tokenizers_agree(tiny_models["base"], [tiny_models["positive"], str(negative)])


def test_one_id_naming_two_different_added_tokens_is_refused(tiny_models, tmp_path):
    base = _copy(tiny_models, "base", tmp_path, "base-with-a")
    positive = _copy(tiny_models, "positive", tmp_path, "positive-with-b")
    _add_tokens(base, ["<|a|>"])
    _add_tokens(positive, ["<|b|>"])
    with pytest.raises(RastConfigError,
                       match=r"1 ids name different tokens, e.g. id 512 is '<\|a\|>' against '<\|b\|>'"):
        check_tokenizers_agree(str(base), [str(positive), tiny_models["negative"]])


def test_base_ids_beyond_the_shared_rows_are_refused(tiny_models, tmp_path):
    base = _copy(tiny_models, "base", tmp_path, "base-too-many")
    _add_tokens(base, [f"<|extra_{i}|>" for i in range(70)])  # ids 512..581, the small models have 576 rows
    with pytest.raises(RastConfigError, match="has ids up to 581, beyond the 576 embedding rows every model shares"):
        check_tokenizers_agree(str(base), [tiny_models["positive"], tiny_models["negative"]])
