"""``RastForCausalLM``: the base model and its small (positive, negative) pairs as ONE vLLM model.

Every sub-model is a stock vLLM model class for its checkpoint's architecture, built under its own prefix
(``base.``, ``positive_i.``, ``negative_i.``; vLLM wants exactly one integer, the layer index, in each
attention layer's name), so each has its own attention layers and KV-cache pages, all
addressed by the engine's block table and sharded by the engine's tensor parallelism. ``forward`` runs every
sub-model on the same tokens and positions and returns their final hidden states side by side; ``compute_logits``
turns them into

    z = base + sum_i alpha_i * (positive_i - negative_i)

over the shared vocabulary ``V = min(vocab sizes)`` in float32, with every id >= V set to -inf, and hands z to
vLLM's sampler (temperature, top-p, top-k and seeds all act on z).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable

import torch
from torch import nn
from vllm.compilation.backends import set_model_tag
from vllm.config import ModelConfig, VllmConfig
from vllm.config.utils import replace
from vllm.model_executor.model_loader import DefaultModelLoader
from vllm.model_executor.model_loader.utils import get_model_architecture, initialize_model
from vllm.model_executor.models import ModelRegistry

from rast.config import RastConfig


class RastForCausalLM(nn.Module):
    """The RAST composite model, selected by ``hf_overrides`` (see :mod:`rast.config`)."""

    def __init__(self, *, vllm_config: VllmConfig, prefix: str = "") -> None:
        super().__init__()
        base_config = vllm_config.model_config
        self.rast_config = RastConfig.from_section(base_config.hf_config.rast)
        base_class, _ = ModelRegistry.resolve_model_cls(self.rast_config.base_architecture, base_config)
        with set_model_tag("rast_base"):
            self.base = initialize_model(vllm_config, prefix="base", model_class=base_class)

        self.secondary_weights: list[DefaultModelLoader.Source] = []
        for index, pair in enumerate(self.rast_config.pairs):
            for role, path in (("positive", pair.positive), ("negative", pair.negative)):
                name = f"{role}_{index}"
                with set_model_tag(f"rast_{name}"):
                    self.add_module(name, initialize_model(_small_vllm_config(vllm_config, path), prefix=name))
                self.secondary_weights.append(DefaultModelLoader.Source(path, revision=None, prefix=name + "."))

        # the base model, then every positive, then every negative, in pair order (a plain list: already registered)
        pairs = range(len(self.rast_config.pairs))
        self.sub_models = [self.base] + [self.get_submodule(f"{role}_{i}") for role in ("positive", "negative")
                                         for i in pairs]
        self.hidden_sizes = [_hidden_size(model) for model in self.sub_models]
        self.vocab_size = base_config.get_vocab_size()
        self.shared_vocab_size = min(_vocab_size(model) for model in self.sub_models)
        self.register_buffer("alphas", torch.tensor(self.rast_config.alphas, dtype=torch.float32), persistent=False)

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
            raise ValueError("RAST needs token ids (each sub-model embeds them itself); prompt embeddings are not supported")
        return torch.cat([model(input_ids, positions) for model in self.sub_models], dim=-1)

    def compute_logits(self, hidden_states: torch.Tensor) -> torch.Tensor | None:
        logits = [model.compute_logits(h) for model, h in
                  zip(self.sub_models, torch.split(hidden_states, self.hidden_sizes, dim=-1))]
        if logits[0] is None:  # tensor-parallel ranks other than the one that samples
            return None
        shared = self.shared_vocab_size
        base, small = logits[0], logits[1:]
        pairs = len(self.alphas)
        combined = base[:, :shared].float()
        for i in range(pairs):
            combined += self.alphas[i] * (small[i][:, :shared].float() - small[pairs + i][:, :shared].float())
        out = combined.new_full((combined.shape[0], self.vocab_size), float("-inf"))
        out[:, :shared] = combined
        return out

    def load_weights(self, weights: Iterable[tuple[str, torch.Tensor]]) -> set[str]:
        """Route each checkpoint tensor to its sub-model: unprefixed names are the base's."""
        loaded: set[str] = set()
        for owner, group in itertools.groupby(weights, key=_owner_prefix):
            module = self.get_submodule(owner.rstrip(".")) if owner else self.base
            stripped = ((name[len(owner):], tensor) for name, tensor in group)
            loaded |= {(owner or "base.") + name for name in module.load_weights(stripped)}
        return loaded


def _owner_prefix(item: tuple[str, torch.Tensor]) -> str:
    """``positive_i.`` or ``negative_i.`` for a small checkpoint's tensor, ``""`` for the base's."""
    head = item[0].split(".", 1)[0]
    return head + "." if head.startswith(("positive_", "negative_")) else ""


def _small_vllm_config(vllm_config: VllmConfig, path: str) -> VllmConfig:
    """A copy of the engine's config whose model config describes the small checkpoint at ``path``."""
    base = vllm_config.model_config
    small = ModelConfig(
        model=path, tokenizer=base.tokenizer, dtype=base.dtype, seed=base.seed,
        max_model_len=base.max_model_len, enforce_eager=base.enforce_eager, max_logprobs=base.max_logprobs,
        trust_remote_code=base.trust_remote_code, skip_tokenizer_init=True,
    )
    get_model_architecture(small)  # resolve early, so an unsupported architecture fails here
    return replace(vllm_config, model_config=small, quant_config=None)


def _hidden_size(model: nn.Module) -> int:
    return model.config.hidden_size


def _vocab_size(model: nn.Module) -> int:
    return model.config.vocab_size
