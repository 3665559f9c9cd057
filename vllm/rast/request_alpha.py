"""Alpha per request: ``SamplingParams(extra_args={"rast_alpha": 0.5})`` (or ``"vllm_xargs"`` through the server).

A request may carry its own alphas (one number for every pair, or one per pair); a request without them uses the
engine's (``set_alpha``). They reach the model through a vLLM logits processor, :class:`RequestAlpha`, whose
``validate_params`` refuses bad values at admission (HTTP 400 on the server, for that request alone) and whose
``update_state`` keeps one alpha row per row of the V1 runner's persistent batch, from the batch's
added/removed/moved requests, before every forward pass. ``RastForCausalLM.compute_logits`` reads those rows in the
sampling call of the same step (:meth:`RowAlphas.take`): the per-row alpha is applied to the logits themselves, so
sampled tokens and returned logprobs both see it (vLLM computes logprobs before any processor's ``apply``).

Only the sampling call consumes the rows: ``update_state`` arms them once per step and the first call of the step
with one row per request takes them; later calls of the same step (prompt logprobs) and dummy or profiling runs use
the engine's alphas. Prompt logprobs are therefore refused together with a per-request alpha. Model Runner V2 (the
GPU default) is not proven: a per-request alpha is refused there with one line naming ``VLLM_USE_V2_MODEL_RUNNER=0``.
"""

from __future__ import annotations

import math
import weakref
from typing import Any

import torch
from vllm.sampling_params import SamplingParams
from vllm.v1.sample.logits_processor import BatchUpdate
from vllm.v1.sample.logits_processor import LogitsProcessor as V1LogitsProcessor
from vllm.v1.sample.logits_processor.builtin import process_dict_updates
from vllm.v1.worker.gpu.sample.logits_processor import LogitsProcessor as V2LogitsProcessor

from rast.config import MAX_PAIRS

EXTRA_ARG = "rast_alpha"  # the key in SamplingParams.extra_args / the server's vllm_xargs
V1_RUNNER_FIX = "VLLM_USE_V2_MODEL_RUNNER=0"


def request_alphas(params: SamplingParams, pairs: int) -> list[float] | None:
    """The request's own alphas, one per pair; ``None`` if it carries none. ``ValueError`` (one line) if malformed."""
    value = (params.extra_args or {}).get(EXTRA_ARG)
    if value is None:
        return None
    values = value if isinstance(value, list) else [value]
    if not values or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
        raise ValueError(f"{EXTRA_ARG} must be a number or a list of numbers (one per pair), got {value!r}")
    if not all(math.isfinite(v) for v in values):
        raise ValueError(f"{EXTRA_ARG} must be finite, got {value!r}")
    if len(values) == 1:
        values = values * pairs
    if len(values) != pairs:
        raise ValueError(f"{EXTRA_ARG} has {len(values)} values but this engine has {pairs} pair(s): give one number, "
                         f"or one per pair")
    return [float(v) for v in values]


def with_request_alphas(params: SamplingParams, alphas: float | list[float]) -> SamplingParams:
    """A copy of ``params`` carrying its own alphas (a number for every pair, or one per pair): a sweep in one pass."""
    own = params.clone()
    own.extra_args = {**(params.extra_args or {}), EXTRA_ARG: alphas if isinstance(alphas, (int, float))
                      else list(alphas)}
    return own


def v1_runner_certain() -> bool:
    """Whether vLLM will run the V1 model runner (where per-request alphas are exact), decided from what every
    process sees alike: ``VLLM_USE_V2_MODEL_RUNNER=0``, or no Triton (CPU) with the variable unset."""
    import vllm.envs as envs
    from vllm.triton_utils import HAS_TRITON

    choice = envs.VLLM_USE_V2_MODEL_RUNNER
    return choice is False or (choice is None and not HAS_TRITON)


class RowAlphas:
    """The alphas of each row of the V1 runner's persistent batch that carries its own (``NaN``: the engine's)."""

    def __init__(self, pairs: int) -> None:
        self.pairs = pairs
        self.by_index: dict[int, list[float]] = {}  # batch index -> that request's own alphas
        self.rows: torch.Tensor | None = None  # [batch size, pairs], None when no request carries its own
        self.batch_size = 0
        self.armed = False

    def update(self, batch_update: BatchUpdate | None) -> None:
        """Follow the batch's changes (before every forward pass) and arm the rows for this step's sampling call."""
        if batch_update is not None:
            process_dict_updates(self.by_index, batch_update, lambda params, _, __: request_alphas(params, self.pairs))
            self.batch_size = batch_update.batch_size
            self.rows = None
            if self.by_index:
                self.rows = torch.full((self.batch_size, self.pairs), math.nan)
                for index, alphas in self.by_index.items():
                    self.rows[index] = torch.tensor(alphas)
        self.armed = True

    def take(self, num_rows: int) -> torch.Tensor | None:
        """This step's rows for the sampling call (one row per request), once; ``None``: the engine's alphas."""
        armed, self.armed = self.armed, False
        if not armed or self.rows is None:
            return None
        if num_rows != self.batch_size:
            raise RuntimeError(f"RAST per-request alphas: the sampling call has {num_rows} rows for {self.batch_size} "
                               f"requests (speculative decoding?); run without per-request {EXTRA_ARG}")
        return self.rows


def missing_processor(vllm_config: Any, pairs: int) -> str | None:
    """One warning line if the engine was started without this model's :class:`RequestAlpha` processor (a hand-made
    ``vllm serve`` command): its requests' own alphas would be ignored; ``None`` if it has it."""
    path = processor_path(pairs)
    loaded = [p if isinstance(p, str) else f"{p.__module__}:{p.__qualname__}"
              for p in vllm_config.model_config.logits_processors or []]
    if path in loaded:
        return None
    return (f"RAST: no per-request alphas on this engine ({EXTRA_ARG} would be ignored): start it with "
            f"--logits-processors {path} (rast serve and RastLLM add it)")


_SHARED: weakref.WeakValueDictionary[int, RowAlphas] = weakref.WeakValueDictionary()


def shared_rows(vllm_config: Any, pairs: int) -> RowAlphas:
    """The one :class:`RowAlphas` of an engine's worker, shared by its logits processor and its model (both are given
    the same ``VllmConfig`` object by the runner)."""
    rows = _SHARED.get(id(vllm_config))
    if rows is None:
        rows = _SHARED[id(vllm_config)] = RowAlphas(pairs)
    return rows


class RequestAlpha(V1LogitsProcessor, V2LogitsProcessor):
    """vLLM logits processor (V1 and V2 interfaces) carrying each request's ``rast_alpha`` to ``RastForCausalLM``.

    It changes no logits itself (``apply`` returns them as they are): the model applies the alphas, in the sampling
    call of ``compute_logits``. Use :func:`processor_path` to name the class for an engine's number of pairs.
    """

    pairs = 1  # set per subclass: admission checks the count in the frontend, which has no engine config

    def __init__(self, vllm_config: Any, *runner_args: Any) -> None:
        if vllm_config.use_v2_model_runner:
            if v1_runner_certain():  # the frontend accepts per-request alphas, but this runner could not apply them
                raise RuntimeError(f"RAST per-request alphas need vLLM's V1 model runner, but this engine runs Model "
                                   f"Runner V2 although {V1_RUNNER_FIX} is set (watermarking or HiSparse force it): "
                                   "turn those off")
            self.rows = None
        else:
            self.rows = shared_rows(vllm_config, self.pairs)

    @classmethod
    def validate_params(cls, sampling_params: SamplingParams) -> None:
        """Admission: a bad ``rast_alpha`` fails its request alone, with one line (HTTP 400 on the server)."""
        if request_alphas(sampling_params, cls.pairs) is None:
            return
        if sampling_params.prompt_logprobs is not None:
            raise ValueError(f"{EXTRA_ARG} cannot be combined with prompt_logprobs (prompt logprobs use the engine's "
                             "alphas): drop one of them")
        if not v1_runner_certain():
            raise ValueError(f"{EXTRA_ARG} is exact only on vLLM's V1 model runner: start the engine with "
                             f"{V1_RUNNER_FIX}, or drop {EXTRA_ARG} and use the engine's alphas")

    def is_argmax_invariant(self) -> bool:
        return True  # apply changes nothing

    def update_state(self, batch_update: BatchUpdate | None) -> None:
        if self.rows is not None:
            self.rows.update(batch_update)

    def add_request(self, req_idx: int, sampling_params: SamplingParams) -> bool:
        return False  # Model Runner V2: per-request alphas are refused at admission

    def apply(self, logits: torch.Tensor, ctx: Any = None) -> torch.Tensor:
        return logits


def _for_pairs(pairs: int) -> type[RequestAlpha]:
    return type(f"RequestAlpha{pairs}", (RequestAlpha,), {"pairs": pairs, "__module__": __name__})


RequestAlpha1, RequestAlpha2, RequestAlpha3 = (_for_pairs(pairs) for pairs in range(1, MAX_PAIRS + 1))


def processor_class(pairs: int) -> type[RequestAlpha]:
    """The logits processor of an engine with ``pairs`` pairs."""
    return globals()[f"RequestAlpha{pairs}"]


def processor_path(pairs: int) -> str:
    """:func:`processor_class` as vLLM's ``logits_processors`` entry (``module:class``)."""
    return f"{__name__}:{processor_class(pairs).__name__}"
