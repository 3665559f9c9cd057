"""The reference implementation: RAST decoding as a plain Hugging Face transformers loop.

Slow but readable, and independent of vLLM: it is the oracle the engine is tested against. Every model keeps its
own KV cache; at each step

    z = base + sum_i alpha_i * (positive_i - negative_i)      (float32, over the shared vocabulary V)
    z[id >= V] = -inf

and the next token is argmax(z) (temperature 0) or a sample from softmax(z / T) restricted to the top-p nucleus.
Prompts of different lengths are batched with left padding.

For the analysis tools it also teacher-forces a given sequence (:meth:`ReferenceRast.logit_blocks`), on any device and
in any dtype, keeping one block of positions' logits at a time so that long outputs of real models fit in memory.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import torch
from transformers import AutoModelForCausalLM

from rast.config import ModelPair, RastConfigError

DEFAULT_BLOCK_SIZE = 256  # teacher-forced positions whose logits exist at once


@dataclass
class LogitBlock:
    """Teacher-forced logits of positions ``start .. start + B - 1`` of one sequence, float32 over the shared V.

    Row t is the distribution of the token after token ``start + t``.
    """

    start: int
    base: torch.Tensor  # [B, V]
    deltas: list[torch.Tensor]  # per pair, positive - negative: [B, V]


class ReferenceRast:
    """Base model plus (positive, negative) pairs, decoded step by step with transformers."""

    def __init__(self, base: str, pairs: Sequence[ModelPair] = (), dtype: torch.dtype = torch.float32,
                 device: str | None = None) -> None:
        """``device``: None (CPU), a torch device (``"cuda"``, ``"cuda:1"``) or ``"auto"`` (every model spread over
        all visible GPUs by accelerate's ``device_map="auto"``)."""
        if device == "auto" and importlib.util.find_spec("accelerate") is None:
            raise RastConfigError("device 'auto' needs the accelerate package: pip install accelerate, or name one "
                                  "device such as cuda")
        self.base = _load(base, dtype, device)
        self.positives = [_load(pair.positive, dtype, device) for pair in pairs]
        self.negatives = [_load(pair.negative, dtype, device) for pair in pairs]
        self.alphas = [pair.alpha for pair in pairs]
        self.models = [self.base, *self.positives, *self.negatives]
        self.shared_vocab_size = min(model.config.vocab_size for model in self.models)

    @torch.inference_mode()
    def generate(
        self,
        prompts: Sequence[Sequence[int]],
        max_new_tokens: int,
        temperature: float = 0.0,
        top_p: float = 1.0,
        seed: int = 0,
        eos_token_id: int | None = None,
    ) -> list[list[int]]:
        """New token ids for each prompt (token ids); generation of a sequence stops after ``eos_token_id``."""
        generator = torch.Generator().manual_seed(seed)
        input_ids, attention_mask = _left_pad(prompts)
        caches: list = [None] * len(self.models)
        finished = torch.zeros(len(prompts), dtype=torch.bool)
        outputs: list[list[int]] = [[] for _ in prompts]
        for _ in range(max_new_tokens):
            positions = (attention_mask.cumsum(-1) - 1).clamp(min=0)[:, -input_ids.shape[1]:]
            logits = []
            for index, model in enumerate(self.models):
                out = model(input_ids=input_ids.to(model.device), attention_mask=attention_mask.to(model.device),
                            position_ids=positions.to(model.device), past_key_values=caches[index], use_cache=True)
                caches[index] = out.past_key_values
                logits.append(out.logits[:, -1, :].float().cpu())  # [B, vocab]: combined and sampled on the CPU
            next_tokens = self._pick(self._combine(logits), temperature, top_p, generator)
            for row, token in enumerate(next_tokens.tolist()):
                if not finished[row]:
                    outputs[row].append(token)
                    finished[row] = token == eos_token_id
            if finished.all():
                break
            input_ids = next_tokens[:, None]
            attention_mask = torch.cat([attention_mask, torch.ones_like(input_ids)], dim=-1)
        return outputs

    @torch.inference_mode()
    def logit_blocks(self, token_ids: Sequence[int], block_size: int = DEFAULT_BLOCK_SIZE,
                     start: int = 0) -> Iterator[LogitBlock]:
        """Teacher forcing over one sequence, from position ``start`` on, ``block_size`` positions at a time.

        Each model runs once over the whole sequence and keeps only its final hidden states ([T, hidden]); its output
        layer then runs on one block at a time, so memory holds one block's logits ([block_size, V] per model), never
        [T, V]. Every block is on the base model's output device.
        """
        shared = self.shared_vocab_size
        input_ids = torch.tensor([list(token_ids)], dtype=torch.long)  # [1, T]
        hidden = [_final_hidden(model, input_ids) for model in self.models]  # [T, hidden_m] each
        pairs = len(self.alphas)
        for begin in range(start, len(token_ids), block_size):
            logits = [model.get_output_embeddings()(states[begin:begin + block_size])[:, :shared].float()
                      for model, states in zip(self.models, hidden)]  # [B, V] each
            base = logits[0]
            positives = [p.to(base.device) for p in logits[1:1 + pairs]]
            negatives = [n.to(base.device) for n in logits[1 + pairs:]]
            yield LogitBlock(begin, base, [p - n for p, n in zip(positives, negatives)])

    def position_logits(self, token_ids: Sequence[int]) -> tuple[torch.Tensor, torch.Tensor]:
        """Teacher forcing over one short sequence: the base logits and the combined z, float32 [T, V] (shared V).

        Row t is the distribution of the token after token t. Long sequences: use :meth:`logit_blocks`.
        """
        block = next(self.logit_blocks(token_ids, block_size=max(len(token_ids), 1)))
        return block.base, self.combine(block.base, block.deltas)

    def combine(self, base: torch.Tensor, deltas: Sequence[torch.Tensor],
                alphas: Sequence[float] | None = None) -> torch.Tensor:
        """z = base + sum_i alpha_i * delta_i, [B, V] over the shared vocabulary (``alphas`` default: the pairs')."""
        z = base.clone()
        for alpha, delta in zip(self.alphas if alphas is None else alphas, deltas, strict=True):
            z += alpha * delta
        return z

    def _combine(self, logits: list[torch.Tensor]) -> torch.Tensor:
        """z of each model's full logits [B, vocab_m]: the shared vocabulary combined, -inf elsewhere."""
        shared, pairs = self.shared_vocab_size, len(self.alphas)
        base, positives, negatives = logits[0], logits[1:1 + pairs], logits[1 + pairs:]
        z = torch.full_like(base, float("-inf"))
        z[:, :shared] = self.combine(base[:, :shared], [p[:, :shared] - n[:, :shared]
                                                        for p, n in zip(positives, negatives)])
        return z

    @staticmethod
    def _pick(z: torch.Tensor, temperature: float, top_p: float, generator: torch.Generator) -> torch.Tensor:
        if temperature == 0.0:
            return z.argmax(dim=-1)
        probs = torch.softmax(z / temperature, dim=-1)
        sorted_probs, order = probs.sort(dim=-1, descending=True)
        outside_nucleus = sorted_probs.cumsum(-1) - sorted_probs > top_p
        sorted_probs[outside_nucleus] = 0.0
        choice = torch.multinomial(sorted_probs, 1, generator=generator)
        return order.gather(-1, choice).squeeze(-1)


def _load(path: str, dtype: torch.dtype, device: str | None) -> torch.nn.Module:
    """A checkpoint in eval mode on ``device`` (see ``ReferenceRast``); one named device needs no accelerate."""
    if device == "auto":
        return AutoModelForCausalLM.from_pretrained(path, dtype=dtype, device_map="auto").eval()
    return AutoModelForCausalLM.from_pretrained(path, dtype=dtype).to(device or "cpu").eval()


def _left_pad(prompts: Sequence[Sequence[int]]) -> tuple[torch.Tensor, torch.Tensor]:
    width = max(len(prompt) for prompt in prompts)
    input_ids = torch.zeros(len(prompts), width, dtype=torch.long)
    attention_mask = torch.zeros(len(prompts), width, dtype=torch.long)
    for row, prompt in enumerate(prompts):
        input_ids[row, width - len(prompt):] = torch.tensor(prompt, dtype=torch.long)
        attention_mask[row, width - len(prompt):] = 1
    return input_ids, attention_mask


def _final_hidden(model: torch.nn.Module, input_ids: torch.Tensor) -> torch.Tensor:
    """The final hidden states [T, hidden] of one sequence [1, T]: the model without its output layer."""
    return model.get_decoder()(input_ids=input_ids.to(model.device), use_cache=False).last_hidden_state[0]
