"""Checks run before any model work, so bad input fails with one clear line instead of deep inside vLLM."""

from __future__ import annotations

import os
from pathlib import Path

from rast.config import RastConfigError


def check_model_exists(model: str) -> None:
    """Fail unless ``model`` is a checkpoint directory, or a hub id whose config can be loaded (cached or online)."""
    path = Path(model).expanduser()
    if path.is_dir():
        if not (path / "config.json").exists():
            raise RastConfigError(f"model directory {model} has no config.json: point to a Hugging Face checkpoint folder")
        return
    if path.exists() or model.startswith(("/", "./", "../", "~")) or model.count("/") > 1:
        raise RastConfigError(f"model path {model} does not exist: give a checkpoint directory or a hub id like Qwen/Qwen2.5-1.5B")
    try:
        load_config(model)
    except Exception as error:  # noqa: BLE001 - any failure means the hub id is unusable here
        offline = " (HF_HUB_OFFLINE is set: download it first)" if os.environ.get("HF_HUB_OFFLINE") else ""
        raise RastConfigError(f"model {model} is not a local directory and could not be loaded from the hub{offline}: "
                              f"{type(error).__name__}") from None


def load_config(model: str):
    """The transformers config of ``model``."""
    from transformers import AutoConfig

    return AutoConfig.from_pretrained(model)


def base_architecture(model: str) -> str:
    """The vLLM architecture name of a checkpoint, e.g. ``Qwen2ForCausalLM``."""
    architectures = getattr(load_config(model), "architectures", None) or []
    if not architectures:
        raise RastConfigError(f"model {model} names no architecture in its config.json")
    return architectures[0]


def shared_vocab_size(models: list[str]) -> int:
    """The number of embedding rows every model has: the vocabulary RAST combines over."""
    return min(load_config(model).get_text_config().vocab_size for model in models)


def check_tokenizers_agree(base: str, others: list[str]) -> None:
    """Fail unless every tokenizer maps the same token strings to the same ids below the shared vocabulary size."""
    from transformers import AutoTokenizer

    shared = shared_vocab_size([base, *others])
    reference = AutoTokenizer.from_pretrained(base).get_vocab()
    if max(reference.values()) >= shared:
        raise RastConfigError(f"tokenizer of {base} has ids up to {max(reference.values())}, beyond the {shared} embedding "
                              "rows every model shares: the models cannot embed those tokens")
    for other in others:
        vocab = AutoTokenizer.from_pretrained(other).get_vocab()
        differing = [token for token, index in reference.items() if vocab.get(token) != index]
        if differing or len(vocab) != len(reference):
            example = differing[0] if differing else "(sizes differ)"
            raise RastConfigError(
                f"tokenizers of {base} and {other} disagree on the shared vocabulary ({len(differing)} tokens differ, "
                f"e.g. {example!r}): RAST needs models that share one tokenizer"
            )
