"""``RastLLM``: a vLLM ``LLM`` whose next-token logits are ``base + sum_i alpha_i * (positive_i - negative_i)``."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

from rast_benchmarks.hub import HubUnreachable, check_models_available

from rast.config import RastConfig, RastConfigError, build_pairs, check_alpha
from rast.request_alpha import EXTRA_ARG, processor_class, processor_path
from rast.validation import (base_architecture, check_layout, check_model_exists, check_tokenizers_agree,
                             shared_vocab_size)

WORKER_EXTENSION = "rast.worker_extension.RastWorkerExtension"


Model = str | os.PathLike


def rast_config(base: Model, positive: Model | Sequence[Model | None] | None = None,
                negative: Model | Sequence[Model | None] | None = None,
                alpha: float | Sequence[float] = 1.0) -> RastConfig | None:
    """Validate the models and settings, before any model work; ``None`` means the base model alone."""
    base, positives, negatives = os.fspath(base), _as_list(positive), _as_list(negative)
    if len(positives) != len(negatives):
        raise RastConfigError(f"got {len(positives)} positive and {len(negatives)} negative models: give them in pairs")
    pairs = build_pairs(positives, negatives, alphas_per_pair(alpha, max(len(positives), 1)))
    small = [m for pair in pairs for m in (pair.positive, pair.negative)]
    try:
        check_models_available([base, *small])  # a hub id on an offline machine: one line naming the fixes
    except HubUnreachable as error:
        raise RastConfigError(str(error)) from None
    for model in (base, *small):
        check_model_exists(model)
    if not pairs:
        return None
    check_tokenizers_agree(base, small)
    return RastConfig(base_architecture=base_architecture(base), pairs=pairs,
                      shared_vocab_size=shared_vocab_size([base, *small]))


def with_layout(base: Model, config: RastConfig | None, tensor_parallel_size: int, max_model_len: int | None,
                small_tensor_parallel_size: int | Sequence[int | None] | None = None) -> RastConfig | None:
    """Check that every model fits the engine's tensor-parallel size and context (before any model work), and record
    in ``config`` the size each pair runs at: 1 (a copy on every rank) or the engine's; ``None`` lets
    :func:`rast.validation.small_tensor_parallel_size` choose (one value for every pair, or one per pair)."""
    if config is None:
        check_layout([os.fspath(base)], tensor_parallel_size, max_model_len)
        return None
    requested = small_tensor_parallel_size
    requested = list(requested) if isinstance(requested, (list, tuple)) else [requested] * len(config.pairs)
    if len(requested) != len(config.pairs):
        raise RastConfigError(f"got {len(requested)} small tensor parallel sizes for {len(config.pairs)} pairs: give "
                              "one, or one per pair")
    sizes = check_layout([os.fspath(base), *config.small_models], tensor_parallel_size, max_model_len,
                         [size for size in requested for _ in ("positive", "negative")])
    # a pair runs at one size: replicated if either of its models must be
    pairs = tuple(replace(pair, tensor_parallel_size=min(sizes[2 * i:2 * i + 2]))
                  for i, pair in enumerate(config.pairs))
    return replace(config, pairs=pairs)


def platform_engine_kwargs() -> dict[str, Any]:
    """Engine settings this platform needs for seeded sampling to be safe (each can still be set by the caller).

    vLLM 0.32 rewinds a seeded request's ``torch.Generator`` by an offset whenever it discards the token sampled after
    a partial prefill, and CPU generators have no offset ("CPU Generator does not use offset"): on CPU the engine dies
    as soon as a seeded prompt's prefill is split across steps. Without chunked prefill, no prefill is split.
    """
    from vllm.platforms import current_platform

    return {"enable_chunked_prefill": False} if current_platform.is_cpu() else {}


class ComposedOverrides:
    """A user's callable ``hf_overrides`` followed by RAST's own (a picklable class: engine processes receive it)."""

    def __init__(self, user: Callable[[Any], Any], rast: dict[str, Any]) -> None:
        self.user, self.rast = user, rast

    def __call__(self, hf_config: Any) -> Any:
        hf_config = self.user(hf_config) or hf_config
        for key, value in self.rast.items():
            setattr(hf_config, key, value)
        return hf_config


def engine_kwargs(base: Model, config: RastConfig | None, **vllm_kwargs: Any) -> dict[str, Any]:
    """Keyword arguments for ``vllm.LLM`` (or ``AsyncEngineArgs``) that run ``config`` on top of ``base``."""
    kwargs = {**platform_engine_kwargs(), **vllm_kwargs, "model": os.fspath(base)}
    if config is not None:
        user = vllm_kwargs.get("hf_overrides") or {}
        rast = config.hf_overrides()
        kwargs["hf_overrides"] = ComposedOverrides(user, rast) if callable(user) else {**user, **rast}
        kwargs.setdefault("worker_extension_cls", WORKER_EXTENSION)
        # each request's own alphas (SamplingParams.extra_args["rast_alpha"]): checked at admission, applied by row
        kwargs["logits_processors"] = [*(vllm_kwargs.get("logits_processors") or []), processor_path(len(config.pairs))]
    return kwargs


class RastLLM:
    """RAST decoding on vLLM: ``generate`` behaves as ``vllm.LLM.generate`` and returns its usual outputs.

    Without positive/negative models it is plain vLLM on ``base`` (the baseline every RAST table compares against).
    Extra keyword arguments go to ``vllm.LLM`` (``tensor_parallel_size``, ``dtype``, ``gpu_memory_utilization``, ...);
    every other ``vllm.LLM`` attribute (``llm_engine``, ``chat``, ``collective_rpc``, ...) is reached through it.
    """

    def __init__(self, base: Model, positive: Model | Sequence[Model | None] | None = None,
                 negative: Model | Sequence[Model | None] | None = None, alpha: float | Sequence[float] = 1.0,
                 small_tensor_parallel_size: int | Sequence[int | None] | None = None, **vllm_kwargs: Any) -> None:
        from vllm import LLM

        self.config = with_layout(base, rast_config(base, positive, negative, alpha),
                                  vllm_kwargs.get("tensor_parallel_size", 1), vllm_kwargs.get("max_model_len"),
                                  small_tensor_parallel_size)
        self.llm = LLM(**engine_kwargs(os.fspath(base), self.config, **vllm_kwargs))

    def __enter__(self) -> "RastLLM":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.shutdown()

    def __getattr__(self, name: str) -> Any:
        if name == "llm":  # not set yet: __init__ failed before the engine existed
            raise AttributeError(name)
        return getattr(self.llm, name)

    @property
    def alphas(self) -> list[float]:
        return self.config.alphas if self.config else []

    def set_alpha(self, alpha: float | Sequence[float]) -> None:
        """Change the pair weights for the next ``generate`` calls, without reloading any model."""
        if self.config is None:
            raise RastConfigError("this engine runs the base model alone: there is no alpha to set")
        alphas = alphas_per_pair(alpha, len(self.config.pairs))
        self.llm.collective_rpc("rast_set_alphas", args=(alphas,))
        pairs = tuple(replace(pair, alpha=a) for pair, a in zip(self.config.pairs, alphas))
        self.config = replace(self.config, pairs=pairs)

    def generate(self, prompts, sampling_params=None, **kwargs):
        """Same as ``vllm.LLM.generate``; a request's ``extra_args={"rast_alpha": a}`` overrides the engine's alphas
        for it alone (one number, or one per pair). Bad values are refused before any request is submitted."""
        self.check_request_alphas(sampling_params)
        return self.llm.generate(prompts, sampling_params, **kwargs)

    def check_request_alphas(self, sampling_params) -> None:
        """Raise :class:`RastConfigError` (one line) for the first request whose own ``rast_alpha`` cannot run."""
        params = sampling_params if isinstance(sampling_params, (list, tuple)) else [sampling_params]
        processor = None if self.config is None else processor_class(len(self.config.pairs))
        for index, request in enumerate(p for p in params if p is not None):
            if processor is None:
                if (getattr(request, "extra_args", None) or {}).get(EXTRA_ARG) is not None:
                    raise RastConfigError(f"request {index}: {EXTRA_ARG} given, but this engine runs the base model "
                                          "alone: there is no alpha to set")
                continue
            try:
                processor.validate_params(request)
            except ValueError as error:
                raise RastConfigError(f"request {index}: {error}") from None

    def get_tokenizer(self):
        return self.llm.get_tokenizer()

    def shutdown(self) -> None:
        """Stop the engine and free its memory."""
        shutdown_engine(self.llm)


def shutdown_engine(llm: Any) -> None:
    """Stop a ``vllm.LLM``'s engine processes and free their memory now (vLLM 0.32's ``LLM`` has no ``shutdown``)."""
    llm.llm_engine.engine_core.shutdown()


def alphas_per_pair(alpha: float | Sequence[float], num_pairs: int) -> list[float]:
    """One finite alpha per pair: a single value applies to every pair."""
    alphas = [check_alpha(a) for a in (alpha if isinstance(alpha, (list, tuple)) else [alpha])]
    if len(alphas) == 1:
        alphas = alphas * num_pairs
    if len(alphas) != num_pairs:
        raise RastConfigError(f"got {len(alphas)} alphas for {num_pairs} pairs: give one alpha, or one per pair")
    return alphas


def _as_list(value) -> list[str | None]:
    """One model or a sequence of them (``None`` where a pair is absent), as path strings."""
    if value is None:
        return []
    values = [value] if isinstance(value, (str, os.PathLike)) else list(value)
    return [None if v is None else os.fspath(v) for v in values]
