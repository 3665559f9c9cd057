"""The RAST configuration: which small-model pairs shift the base model, and by how much.

It travels inside vLLM as the ``rast`` section of the base model's ``hf_overrides``::

    {"architectures": ["RastForCausalLM"],
     "rast": {"base_architecture": "Qwen2ForCausalLM",
              "pairs": [{"positive": "...", "negative": "...", "alpha": 1.0}]}}
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

ARCHITECTURE = "RastForCausalLM"
MAX_PAIRS = 3


class RastConfigError(ValueError):
    """A RAST setting that cannot work; the message names the problem and the fix."""


@dataclass(frozen=True)
class ModelPair:
    """A small RL-tuned model (positive) and the same model before RL (negative), weighted by ``alpha``."""

    positive: str
    negative: str
    alpha: float = 1.0
    positive_revision: str | None = None  # hub revisions of the small checkpoints (default: main)
    negative_revision: str | None = None
    # 1: a whole copy of each small model on every rank; the engine's size: sharded like the base; None: decided by
    # rast.validation.small_tensor_parallel_size (the engine's size where the heads split, else 1)
    tensor_parallel_size: int | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "alpha", check_alpha(self.alpha))  # "1.0" from JSON becomes 1.0; "x" is refused


@dataclass(frozen=True)
class RastConfig:
    """The small-model pairs, the architecture of the base model they shift, and the vocabulary they share.

    ``shared_vocab_size`` (the fewest embedding rows of any model) becomes the composite model's vocabulary: vLLM then
    refuses, per request, any token id a small model cannot embed, and never samples one.
    """

    base_architecture: str
    pairs: tuple[ModelPair, ...]
    shared_vocab_size: int | None = None

    def __post_init__(self) -> None:
        if not 1 <= len(self.pairs) <= MAX_PAIRS:
            raise RastConfigError(f"RAST takes 1 to {MAX_PAIRS} (positive, negative) pairs, got {len(self.pairs)}")

    @property
    def small_models(self) -> list[str]:
        """Every pair's positive and negative model, in pair order."""
        return [model for pair in self.pairs for model in (pair.positive, pair.negative)]

    @property
    def alphas(self) -> list[float]:
        return [pair.alpha for pair in self.pairs]

    def hf_overrides(self) -> dict[str, Any]:
        """The ``hf_overrides`` that turn the base model into the RAST composite model."""
        overrides: dict[str, Any] = {
            "architectures": [ARCHITECTURE],
            "rast": {
                "base_architecture": self.base_architecture,
                "pairs": [_pair_section(p) for p in self.pairs],
            },
        }
        if self.shared_vocab_size is not None:
            overrides["vocab_size"] = self.shared_vocab_size
        return overrides

    def section_without_alphas(self) -> dict[str, Any]:
        """The ``rast`` section less the alphas: what identifies the composite model (alphas change at run time)."""
        section = self.hf_overrides()["rast"]
        for pair in section["pairs"]:
            del pair["alpha"]
        return section

    @classmethod
    def from_section(cls, section: dict[str, Any]) -> "RastConfig":
        """Parse the ``rast`` section of ``hf_overrides``."""
        try:
            pairs = tuple(ModelPair(p["positive"], p["negative"], p.get("alpha", 1.0), p.get("positive_revision"),
                                    p.get("negative_revision"), p.get("tensor_parallel_size"))
                          for p in section["pairs"])
            return cls(base_architecture=section["base_architecture"], pairs=pairs)
        except (KeyError, TypeError) as missing:
            raise RastConfigError(
                f"malformed 'rast' section in hf_overrides (missing {missing}); expected "
                '{"base_architecture": ..., "pairs": [{"positive": ..., "negative": ..., "alpha": ...}]}'
            ) from None


def _pair_section(pair: ModelPair) -> dict[str, Any]:
    """One pair as the ``rast`` section lists it (revisions and tensor-parallel size only when set)."""
    section: dict[str, Any] = {"positive": pair.positive, "negative": pair.negative, "alpha": pair.alpha}
    for key in ("positive_revision", "negative_revision", "tensor_parallel_size"):
        if getattr(pair, key) is not None:
            section[key] = getattr(pair, key)
    return section


def check_alpha(alpha: Any) -> float:
    """Return ``alpha`` as a float, or raise if it is not a finite number."""
    try:
        value = float(alpha)
    except (TypeError, ValueError):
        raise RastConfigError(f"alpha must be a number, got {alpha!r}") from None
    if isinstance(alpha, bool) or not math.isfinite(value):
        raise RastConfigError(f"alpha must be a finite number, got {alpha!r}")
    return value


def build_pairs(positives: list[str | None], negatives: list[str | None], alphas: list[Any]) -> tuple[ModelPair, ...]:
    """Pair up positive and negative models position by position, each with its alpha."""
    pairs = []
    for index, (positive, negative, alpha) in enumerate(zip(positives, negatives, alphas)):
        if positive is None and negative is None:
            continue
        if positive is None or negative is None:
            given, missing = ("positive", "negative") if negative is None else ("negative", "positive")
            raise RastConfigError(
                f"pair {index} has a {given} model but no {missing} model: give both (the RL-tuned small model "
                "and the same small model before RL)"
            )
        pairs.append(ModelPair(positive, negative, check_alpha(alpha)))
    return tuple(pairs)
