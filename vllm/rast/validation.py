"""Checks run before any model work, so bad input fails with one clear line instead of deep inside vLLM."""

from __future__ import annotations

import logging
import os
from pathlib import Path

from rast.config import RastConfigError

logger = logging.getLogger(__name__)


def check_model_exists(model: str) -> None:
    """Fail unless ``model`` is a checkpoint directory, or a hub id whose config can be loaded (cached or online)."""
    path = Path(model).expanduser()
    if path.is_dir():
        if not (path / "config.json").exists():
            raise RastConfigError(f"model directory {model} has no config.json: point to a Hugging Face checkpoint "
                                  "folder")
        return
    if path.exists() or model.startswith(("/", "./", "../", "~")) or model.count("/") > 1:
        raise RastConfigError(f"model path {model} does not exist: give a checkpoint directory or a hub id like "
                              "Qwen/Qwen2.5-1.5B")
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
    """Fail unless the tokenizers agree on the shared vocabulary (see :func:`vocab_disagreement`)."""
    from transformers import AutoTokenizer

    shared = shared_vocab_size([base, *others])
    reference = AutoTokenizer.from_pretrained(base).get_vocab()
    highest = max(reference.values())
    if highest >= shared:
        raise RastConfigError(f"tokenizer of {base} has ids up to {highest}, beyond the {shared} embedding rows every "
                              "model shares: the models cannot embed those tokens; use checkpoints with more rows")
    for other in others:
        vocab = AutoTokenizer.from_pretrained(other).get_vocab()
        problem = vocab_disagreement(reference, vocab)
        if problem:
            raise RastConfigError(f"tokenizers of {base} and {other} disagree on the shared vocabulary ({problem}): "
                                  "RAST needs models that share one tokenizer")
        only_base, only_other = reference.keys() - vocab.keys(), vocab.keys() - reference.keys()
        if only_base or only_other:
            logger.warning("tokenizer of %s lacks %d of the base's tokens (e.g. %s) and adds %d (e.g. %s); they "
                           "agree on every token both have", other, len(only_base), _examples(only_base, reference),
                           len(only_other), _examples(only_other, vocab))


def vocab_disagreement(base: dict[str, int], other: dict[str, int]) -> str | None:
    """Why two token -> id maps disagree, or ``None``: a token both have must have one id, an id both use one token.

    A token only one of them has is fine (e.g. a pad token an RL checkpoint added), unless its id names another
    token in the other map.
    """
    moved = sorted((token for token in base.keys() & other.keys() if base[token] != other[token]), key=base.get)
    if moved:
        token = moved[0]
        return f"{len(moved)} tokens have different ids, e.g. {token!r} is {base[token]} against {other[token]}"
    other_tokens = {index: token for token, index in other.items()}
    reused = sorted((index, token, other_tokens[index]) for token, index in base.items()
                    if index in other_tokens and other_tokens[index] != token)
    if reused:
        index, mine, theirs = reused[0]
        return f"{len(reused)} ids name different tokens, e.g. id {index} is {mine!r} against {theirs!r}"
    return None


def _examples(tokens: set[str], vocab: dict[str, int], count: int = 3) -> str:
    return ", ".join(f"{token!r}={vocab[token]}" for token in sorted(tokens, key=vocab.get)[:count]) or "none"


def _heads_fit(config, tensor_parallel_size: int) -> bool:
    """vLLM's rule: query heads split evenly over the ranks; KV heads split evenly, or each is replicated evenly."""
    heads = config.num_attention_heads
    kv_heads = getattr(config, "num_key_value_heads", None) or heads
    kv_fits = kv_heads % tensor_parallel_size == 0 if kv_heads >= tensor_parallel_size else \
        tensor_parallel_size % kv_heads == 0
    return heads % tensor_parallel_size == 0 and kv_fits


def small_tensor_parallel_size(model: str, config, tensor_parallel_size: int, requested: int | None = None) -> int:
    """The tensor-parallel size the small ``model`` (its HF ``config``) runs at under an engine of that size.

    1 (a whole copy on every rank, no collective) or the engine's size (sharded like the base). By default the
    engine's when its heads split that many ways, else 1; ``requested`` chooses, and is refused when it cannot work.
    """
    fits = _heads_fit(config, tensor_parallel_size)
    if requested is None:
        return tensor_parallel_size if fits else 1
    if requested not in (1, tensor_parallel_size):
        raise RastConfigError(f"a small model's tensor parallel size must be 1 (a copy on every rank) or the "
                              f"engine's ({tensor_parallel_size}), got {requested}")
    if requested == tensor_parallel_size and not fits:
        raise RastConfigError(f"{model} has {config.num_attention_heads} attention heads, which tensor parallel "
                              f"size {requested} cannot split: use small tensor parallel size 1 (a copy on every rank)")
    return requested


def check_layout(models: list[str], tensor_parallel_size: int, max_model_len: int | None,
                 small_sizes: list[int | None] | None = None) -> list[int]:
    """Fail, naming a layout that works, unless every model (base first) can run at this TP size and context length.

    The base is sharded ``tensor_parallel_size`` ways; each small model runs at the size ``small_sizes`` asks for
    (``None``: the default of :func:`small_tensor_parallel_size`). Returns the small models' sizes.
    """
    configs = {model: load_config(model).get_text_config() for model in models}
    base = configs[models[0]]
    if not _heads_fit(base, tensor_parallel_size):
        fitting = max(t for t in range(1, tensor_parallel_size) if tensor_parallel_size % t == 0
                      and _heads_fit(base, t))
        raise RastConfigError(
            f"{models[0]} has {base.num_attention_heads} attention heads "
            f"({getattr(base, 'num_key_value_heads', None) or base.num_attention_heads} KV heads), which tensor "
            f"parallel size {tensor_parallel_size} cannot split: use tensor parallel size {fitting} with "
            f"{tensor_parallel_size // fitting} data-parallel replicas on the same {tensor_parallel_size} GPUs")
    requested = small_sizes or [None] * (len(models) - 1)
    sizes = [small_tensor_parallel_size(model, configs[model], tensor_parallel_size, size)
             for model, size in zip(models[1:], requested, strict=True)]
    positions = {model: getattr(config, "max_position_embeddings", None) for model, config in configs.items()}
    context = max_model_len or positions[models[0]]
    short = {model: n for model, n in positions.items() if n is not None and context is not None and n < context}
    if short:
        model, n = min(short.items(), key=lambda item: item[1])
        raise RastConfigError(f"{model} has {n} positions, fewer than the context of {context} tokens the engine "
                              f"would run: set max_model_len to {n} or less")
    return sizes
