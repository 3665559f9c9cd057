"""The reference implementation: RAST decoding as a plain Hugging Face transformers loop.

Slow but readable, and independent of vLLM: it is the oracle the engine is tested against. Every model keeps its
own KV cache; at each step

    z = base + sum_i alpha_i * (positive_i - negative_i)      (float32, over the shared vocabulary V)
    z[id >= V] = -inf

and the next token is argmax(z) (temperature 0) or a sample from softmax(z / T) restricted to the top-p nucleus.
Prompts of different lengths are batched with left padding.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from transformers import AutoModelForCausalLM

from rast.config import ModelPair


class ReferenceRast:
    """Base model plus (positive, negative) pairs, decoded step by step with transformers."""

    def __init__(self, base: str, pairs: Sequence[ModelPair] = (), dtype: torch.dtype = torch.float32) -> None:
        load = lambda path: AutoModelForCausalLM.from_pretrained(path, dtype=dtype).eval()  # noqa: E731
        self.base = load(base)
        self.positives = [load(pair.positive) for pair in pairs]
        self.negatives = [load(pair.negative) for pair in pairs]
        self.alphas = [pair.alpha for pair in pairs]
        models = [self.base, *self.positives, *self.negatives]
        self.shared_vocab_size = min(model.config.vocab_size for model in models)

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
        models = [self.base, *self.positives, *self.negatives]
        caches: list = [None] * len(models)
        finished = torch.zeros(len(prompts), dtype=torch.bool)
        outputs: list[list[int]] = [[] for _ in prompts]
        for _ in range(max_new_tokens):
            positions = (attention_mask.cumsum(-1) - 1).clamp(min=0)[:, -input_ids.shape[1]:]
            logits = []
            for index, model in enumerate(models):
                out = model(input_ids=input_ids, attention_mask=attention_mask, position_ids=positions,
                            past_key_values=caches[index], use_cache=True)
                caches[index] = out.past_key_values
                logits.append(out.logits[:, -1, :].float())
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
    def position_logits(self, token_ids: Sequence[int]) -> tuple[torch.Tensor, torch.Tensor]:
        """Teacher forcing over one sequence: the base logits and the combined z at every position.

        Both are float32 [T, V] over the shared vocabulary V; row t is the distribution of the token after token t.
        """
        shared = self.shared_vocab_size
        logits = _teacher_forced([self.base, *self.positives, *self.negatives], token_ids)
        return logits[0][:, :shared], self._combine(logits)[:, :shared]

    @torch.inference_mode()
    def pair_deltas(self, token_ids: Sequence[int]) -> list[torch.Tensor]:
        """Teacher forcing over one sequence: positive - negative logits of each pair, float32 [T, V] (shared V)."""
        shared = self.shared_vocab_size
        positives, negatives = _teacher_forced(self.positives, token_ids), _teacher_forced(self.negatives, token_ids)
        return [positive[:, :shared] - negative[:, :shared] for positive, negative in zip(positives, negatives)]

    def _combine(self, logits: list[torch.Tensor]) -> torch.Tensor:
        """z = base + sum_i alpha_i (positive_i - negative_i) over the shared vocabulary, -inf elsewhere."""
        shared = self.shared_vocab_size
        base, positives, negatives = logits[0], logits[1:1 + len(self.alphas)], logits[1 + len(self.alphas):]
        z = torch.full_like(base, float("-inf"))
        z[:, :shared] = base[:, :shared]
        for alpha, positive, negative in zip(self.alphas, positives, negatives):
            z[:, :shared] += alpha * (positive[:, :shared] - negative[:, :shared])
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


def _left_pad(prompts: Sequence[Sequence[int]]) -> tuple[torch.Tensor, torch.Tensor]:
    width = max(len(prompt) for prompt in prompts)
    input_ids = torch.zeros(len(prompts), width, dtype=torch.long)
    attention_mask = torch.zeros(len(prompts), width, dtype=torch.long)
    for row, prompt in enumerate(prompts):
        input_ids[row, width - len(prompt):] = torch.tensor(prompt, dtype=torch.long)
        attention_mask[row, width - len(prompt):] = 1
    return input_ids, attention_mask


def _teacher_forced(models: Sequence[torch.nn.Module], token_ids: Sequence[int]) -> list[torch.Tensor]:
    """Each model's float32 logits [T, vocab] for one sequence, in one forward pass per model."""
    input_ids = torch.tensor([list(token_ids)], dtype=torch.long)
    return [model(input_ids=input_ids).logits[0].float() for model in models]
