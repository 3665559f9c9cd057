"""``RastForCausalLM``: the base model and its small (positive, negative) pairs as ONE vLLM model.

Every sub-model is a stock vLLM model class for its checkpoint's architecture, built under its own prefix
(``base.``, ``positive_i.``, ``negative_i.``; vLLM wants exactly one integer, the layer index, in each
attention layer's name), so each has its own attention layers and KV-cache pages, all
addressed by the engine's block table. The base is sharded by the engine's tensor parallelism; each pair is sharded
the same way or, as a copy on every rank, runs in a tensor-parallel group of its own rank (:mod:`rast.parallel`;
the size is decided by :func:`rast.validation.small_tensor_parallel_size`). ``forward`` runs every
sub-model on the same tokens and positions and returns their final hidden states side by side; ``compute_logits``
turns them into

    z = base + sum_i alpha_i * (positive_i - negative_i)

over the shared vocabulary ``V = min(vocab sizes)`` in float32, and hands z to vLLM's sampler (temperature, top-p,
top-k and seeds all act on z). V is also the composite's own vocabulary size (``hf_overrides["vocab_size"]``, set by
:meth:`rast.config.RastConfig.hf_overrides`): the base's embedding and output rows past V are dropped at load time, so
vLLM refuses a request holding an id >= V before it reaches a small model's embedding, and no id >= V is ever sampled
(as if its logit were -inf).
"""

from __future__ import annotations

import functools
import itertools
import re
from collections.abc import Callable, Iterable, Sequence

import torch
from torch import nn
from vllm.compilation.backends import set_model_tag
from vllm.config import ModelConfig, VllmConfig
from vllm.config.utils import replace
from vllm.model_executor.model_loader import DefaultModelLoader
from vllm.model_executor.model_loader.utils import get_model_architecture, initialize_model
from vllm.distributed import get_tensor_model_parallel_rank
from vllm.logger import init_logger
from vllm.model_executor.models import ModelRegistry
from vllm.model_executor.models.utils import AutoWeightsLoader, WeightsMapper, maybe_prefix

from rast.config import RastConfig
from rast.parallel import GroupCoordinator, replicated_group, tensor_parallel_group
from rast.request_alpha import missing_processor, shared_rows
from rast.validation import small_tensor_parallel_size

logger = init_logger(f"vllm.{__name__}")  # under "vllm", whose handler and level vLLM configures

DEFAULT_HEAD_DTYPE = "float32"  # the sub-models' output layers, unless hf_overrides sets "head_dtype"


class RastForCausalLM(nn.Module):
    """The RAST composite model, selected by ``hf_overrides`` (see :mod:`rast.config`)."""

    def __init__(self, *, vllm_config: VllmConfig, prefix: str = "") -> None:
        super().__init__()
        base_config = vllm_config.model_config
        hf_config = base_config.hf_config
        self.rast_config = RastConfig.from_section(hf_config.rast)
        # the alphas are runtime state (set_alphas), not part of the model: keep them out of the config that vLLM
        # hashes for its compile caches, so a new alpha reuses the compiled base model
        hf_config.rast = self.rast_config.section_without_alphas()
        # every sub-model's output layer in float32 unless hf_overrides names a head_dtype: rounding each model's
        # logits to bf16 before the difference would add noise of ~alpha * |logit| / 256 to z
        if getattr(hf_config, "head_dtype", None) is None:
            hf_config.head_dtype = DEFAULT_HEAD_DTYPE
        base_class, _ = ModelRegistry.resolve_model_cls(self.rast_config.base_architecture, base_config)
        with set_model_tag("rast_base"):
            self.base = initialize_model(vllm_config, prefix=maybe_prefix(prefix, "base"), model_class=base_class)

        self.secondary_weights: list[DefaultModelLoader.Source] = []
        self.tensor_parallel_sizes = {"base": vllm_config.parallel_config.tensor_parallel_size}
        for index, pair in enumerate(self.rast_config.pairs):
            for role, path, revision in (("positive", pair.positive, pair.positive_revision),
                                         ("negative", pair.negative, pair.negative_revision)):
                name = f"{role}_{index}"
                small_config, size = _small_vllm_config(vllm_config, path, revision, name, pair.tensor_parallel_size)
                group = replicated_group() if size != self.tensor_parallel_sizes["base"] else None
                with set_model_tag(f"rast_{name}"), tensor_parallel_group(group):
                    small_model = initialize_model(small_config, prefix=maybe_prefix(prefix, name))
                self.add_module(name, _in_own_group(small_model, group))
                self.tensor_parallel_sizes[name] = size
                self.secondary_weights.append(DefaultModelLoader.Source(path, revision=revision, prefix=name + "."))

        # the base model, then every positive, then every negative, in pair order (a plain list: already registered)
        pairs = self.rast_config.pairs
        self.sub_model_names = ["base"] + [f"{role}_{i}" for role in ("positive", "negative")
                                           for i in range(len(pairs))]
        self.sub_model_paths = [base_config.model] + [p.positive for p in pairs] + [p.negative for p in pairs]
        self.sub_models = [self.get_submodule(name) for name in self.sub_model_names]
        self.hidden_sizes = [_hidden_size(model) for model in self.sub_models]
        ends = itertools.accumulate(self.hidden_sizes)
        self.hidden_columns = [slice(end - size, end) for size, end in zip(self.hidden_sizes, ends)]
        self.dtype = base_config.dtype
        self.vocab_size = base_config.get_vocab_size()
        small_vocab_size = min(_vocab_size(model) for model in self.sub_models[1:])
        if self.vocab_size > small_vocab_size:
            raise ValueError(f"the RAST model's vocabulary ({self.vocab_size} rows) is larger than the small models' "
                             f"({small_vocab_size}): add \"vocab_size\": {small_vocab_size} to hf_overrides (as "
                             "rast.RastConfig.hf_overrides() does), so vLLM refuses ids a small model cannot embed")
        self.register_buffer("alphas", torch.tensor(self.rast_config.alphas, dtype=torch.float32), persistent=False)
        # each request's own alphas (rast.request_alpha), by row of the V1 runner's batch
        self.request_alphas = shared_rows(vllm_config, len(self.rast_config.pairs))
        if get_tensor_model_parallel_rank() == 0:
            if warning := missing_processor(vllm_config, len(self.rast_config.pairs)):
                logger.warning("%s", warning)
            logger.info("%s", self._describe(vllm_config))

    def _describe(self, vllm_config: VllmConfig) -> str:
        """One start-up block: the sub-models, the shared vocabulary, the alphas, the parallel layout and the dtype."""
        lines = [f"RAST: z = base + sum_i alpha_i * (positive_i - negative_i), alphas {self.rast_config.alphas}, "
                 f"shared vocabulary {self.vocab_size}, "
                 f"tensor parallel {vllm_config.parallel_config.tensor_parallel_size}, "
                 f"dtype {vllm_config.model_config.dtype}"]
        for name, path, model in zip(self.sub_model_names, self.sub_model_paths, self.sub_models):
            config, size = model.config, self.tensor_parallel_sizes[name]
            kv_heads = getattr(config, "num_key_value_heads", None) or config.num_attention_heads
            layout = "a copy on every rank" if size == 1 < self.tensor_parallel_sizes["base"] else \
                f"tensor parallel {size}"
            lines.append(f"  {name:<11} {path}: {config.num_hidden_layers} layers, hidden {config.hidden_size}, "
                         f"{config.num_attention_heads} heads / {kv_heads} KV heads, {config.vocab_size} rows, "
                         f"{layout} ({max(kv_heads // size, 1)} KV heads in each rank's cache)")
        return "\n".join(lines)

    def set_alphas(self, alphas: list[float]) -> None:
        """Change the pair weights in place (no reload); takes effect at the next decoding step."""
        if len(alphas) != len(self.alphas):
            raise ValueError(f"expected {len(self.alphas)} alphas (one per pair), got {len(alphas)}")
        self.alphas.copy_(torch.tensor(alphas, dtype=torch.float32))

    def embed_input_ids(self, input_ids: torch.Tensor) -> torch.Tensor:
        return self.base.embed_input_ids(input_ids)

    def forward(
        self,
        input_ids: torch.Tensor | None,
        positions: torch.Tensor,
        intermediate_tensors=None,
        inputs_embeds: torch.Tensor | None = None,
    ) -> torch.Tensor:
        if input_ids is None:
            raise ValueError("RAST needs token ids (each sub-model embeds them itself); prompt embeddings are not "
                             "supported")
        states = torch.empty((input_ids.shape[0], sum(self.hidden_sizes)), dtype=self.dtype,
                             device=input_ids.device)  # [num_tokens, sum(hidden sizes)]
        for model, columns in zip(self.sub_models, self.hidden_columns):
            # copied before the next sub-model runs: under piecewise CUDA graphs a compiled model's output lives in
            # vLLM's shared graph memory pool (a weak reference), which the next model's graphs may overwrite
            states[:, columns].copy_(model(input_ids, positions))
        return states

    def compute_logits(self, hidden_states: torch.Tensor) -> torch.Tensor | None:
        # hidden_states: [num_tokens, sum(hidden sizes)], the sub-models' final states side by side
        # the rows' own alphas if this is the step's sampling call, taken on every rank (their turns stay in step)
        row_alphas = self.request_alphas.take(hidden_states.shape[0])
        logits = [model.compute_logits(hidden_states[:, columns])
                  for model, columns in zip(self.sub_models, self.hidden_columns)]
        if logits[0] is None:  # tensor-parallel ranks other than the one that samples
            return None
        alphas = self.alphas
        if row_alphas is not None:  # [T, pairs]: a request's own alphas, NaN where it uses the engine's
            row_alphas = row_alphas.to(alphas.device, non_blocking=True)
            alphas = torch.where(row_alphas.isnan(), alphas, row_alphas)
        pairs = len(self.alphas)
        return combine_logits(logits[0], logits[1:1 + pairs], logits[1 + pairs:], alphas, self.vocab_size)

    def load_weights(self, weights: Iterable[tuple[str, torch.Tensor]]) -> set[str]:
        """Route each checkpoint tensor to its sub-model: unprefixed names are the base's, cut to the shared rows."""
        cut = ((name, tensor if _SMALL_TENSOR.match(name) else self._shared_rows(name, tensor))
               for name, tensor in weights)
        return AutoWeightsLoader(self).load_weights(cut, mapper=_BASE_NAMES)

    def _shared_rows(self, name: str, tensor: torch.Tensor) -> torch.Tensor:
        """A base tensor indexed by token id (embedding, output layer) cut to the shared vocabulary's rows."""
        if name.endswith(_VOCAB_INDEXED) and tensor.shape[0] > self.vocab_size:
            return tensor[:self.vocab_size]
        return tensor


def combine_logits(base: torch.Tensor, positives: Sequence[torch.Tensor], negatives: Sequence[torch.Tensor],
                   alphas: torch.Tensor, vocab: int) -> torch.Tensor:
    """z = base + sum_i alpha_i * (positive_i - negative_i) over the first ``vocab`` ids, in float32.

    base: [T, vocab]; positive_i, negative_i: [T, rows_i >= vocab]; alphas: [pairs] (one per pair) or [T, pairs]
    (one per row). Two float32 [T, vocab] tensors are the most it allocates (z and one difference, updated in
    place); a float32 base is updated in place. The rounding is the reference's: the difference, then alpha times it.
    """
    z = base.float()  # [T, vocab]
    difference = torch.empty_like(z)  # [T, vocab]
    for pair, (positive, negative) in enumerate(zip(positives, negatives, strict=True)):
        difference.copy_(positive[:, :vocab]).sub_(negative[:, :vocab])
        z.add_(difference.mul_(alphas[..., pair, None]))  # alpha: [1] or [T, 1]
    return z


# checkpoint tensors whose rows are token ids (the names of Qwen2, Llama, Mistral and most decoder checkpoints)
_VOCAB_INDEXED = ("embed_tokens.weight", "lm_head.weight")
# small checkpoints arrive prefixed by their sub-model (``secondary_weights``); the base checkpoint's names do not
_SMALL_TENSOR = re.compile(r"(positive|negative)_\d+\.")
_BASE_NAMES = WeightsMapper(orig_to_new_regex={re.compile(rf"^(?!{_SMALL_TENSOR.pattern})"): "base."})


# Engine settings a small model's ModelConfig keeps: how to load and run a checkpoint, not which one.
_SHARED_MODEL_SETTINGS = ("tokenizer", "tokenizer_mode", "tokenizer_revision", "trust_remote_code", "dtype", "seed",
                          "max_model_len", "enforce_eager", "max_logprobs", "logprobs_mode", "config_format",
                          "hf_token", "disable_sliding_window", "model_impl")


def _small_vllm_config(vllm_config: VllmConfig, path: str, revision: str | None, name: str,
                       requested_size: int | None) -> tuple[VllmConfig, int]:
    """A copy of the engine's config whose model config describes the small checkpoint at ``path``, and the
    tensor-parallel size that sub-model runs at (see :func:`rast.validation.small_tensor_parallel_size`).

    Its hf_config carries the sub-model's name: vLLM's ahead-of-time compile cache is keyed by the config's hash and
    not by the model tag, and a compiled graph holds its attention layers' names (hence which KV cache it uses), so
    two sub-models of one checkpoint (a negative shared by two pairs, dummy-weight checks) must not share an artifact.
    A replicated sub-model's parallel config says tensor parallel 1 (vLLM checks its heads against it; it is in the
    hash too) and keeps the rank, which keys the compile caches, so ranks never share or overwrite artifacts.
    """
    base = vllm_config.model_config
    shared = {setting: getattr(base, setting) for setting in _SHARED_MODEL_SETTINGS}
    overrides = {"rast_sub_model": name, "head_dtype": getattr(base.hf_config, "head_dtype", None)}
    small = ModelConfig(model=path, revision=revision, skip_tokenizer_init=True, hf_overrides=overrides, **shared)
    get_model_architecture(small)  # resolve early, so an unsupported architecture fails here
    parallel = vllm_config.parallel_config
    size = small_tensor_parallel_size(path, small.hf_text_config, parallel.tensor_parallel_size, requested_size)
    if size != parallel.tensor_parallel_size:
        parallel = replace(parallel, tensor_parallel_size=size)
    return replace(vllm_config, model_config=small, parallel_config=parallel, quant_config=None), size


def _in_own_group(model: nn.Module, group: GroupCoordinator | None) -> nn.Module:
    """``model`` with its forward, logits and weight loading run while vLLM sees ``group`` as the tensor-parallel
    group (a replicated small model: its own rank); ``None`` leaves it in the engine's group."""
    if group is not None:
        for method in ("forward", "compute_logits", "load_weights"):
            setattr(model, method, functools.partial(_run_in_group, group, getattr(model, method)))
    return model


def _run_in_group(group: GroupCoordinator, function: Callable, *args, **kwargs):
    with tensor_parallel_group(group):
        return function(*args, **kwargs)


def _hidden_size(model: nn.Module) -> int:
    return model.config.hidden_size


def _vocab_size(model: nn.Module) -> int:
    return model.config.vocab_size
