"""Tiny Qwen2 checkpoints for tests and the offline demo, built deterministically and offline.

One byte-level BPE tokenizer is trained locally and shared by three checkpoints:

- ``base``: 3 layers, hidden 128, 4 query heads, 2 KV heads, untied embeddings, vocabulary padded to 640 rows
  (a larger padding than the small models', as Qwen2.5-14B's 152064 rows against Qwen2.5-1.5B's 151936);
- ``negative``: 2 layers, hidden 64, 2 query heads, 1 KV head, tied embeddings, 576 rows (the small model before RL);
- ``positive``: ``negative`` plus a seeded perturbation of every weight (the same small model after "RL");
- ``negative_b`` / ``positive_b``: a second small family (1 layer, hidden 96, 3 query heads, 1 KV head, 600 rows),
  for tests with two pairs.

The weights are random but large enough that greedy decoding has clear margins; embedding and output rows past
the tokenizer's size stay near zero, as the untrained padding rows of real checkpoints do. Checkpoints are cached under
``$RAST_CACHE_DIR`` (default ``~/.cache/rast``) in a folder named after :data:`RECIPE_VERSION`.

Command line: ``python -m rast.tiny_models`` prints the three paths, building them if needed.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import torch

RECIPE_VERSION = "tiny-qwen2-v3"
SPECIAL_TOKENS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
TOKENIZER_VOCAB_SIZE = 512
ROLES = ("base", "positive", "negative", "positive_b", "negative_b")

_ARCHITECTURES = {
    "base": dict(hidden_size=128, intermediate_size=256, num_hidden_layers=3, num_attention_heads=4,
                 num_key_value_heads=2, vocab_size=640, tie_word_embeddings=False),
    "small": dict(hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=2,
                  num_key_value_heads=1, vocab_size=576, tie_word_embeddings=True),
    "small_b": dict(hidden_size=96, intermediate_size=192, num_hidden_layers=1, num_attention_heads=3,
                    num_key_value_heads=1, vocab_size=600, tie_word_embeddings=False),
}
_SEEDS = {"base": 1234, "small": 5678, "small_b": 2468, "rl_delta": 91011}
_INIT_STD = 0.1
_RL_DELTA_STD = 0.03


def cache_root() -> Path:
    """The folder that holds cached tiny checkpoints."""
    return Path(os.environ.get("RAST_CACHE_DIR", Path.home() / ".cache" / "rast"))


def tiny_model_paths() -> dict[str, str]:
    """Paths of the tiny checkpoints by role (see :data:`ROLES`), built on first use."""
    root = cache_root() / RECIPE_VERSION
    if not (root / "complete").exists():
        _build_atomically(root)
    return {role: str(root / role) for role in ROLES}


def fill_missing_models(args: Any, roles: dict[str, str]) -> None:
    """Give every model option of ``args`` left unset (``roles``: attribute name -> tiny role) its tiny model."""
    if any(getattr(args, name) is None for name in roles):
        tiny = tiny_model_paths()
        for name, role in roles.items():
            if getattr(args, name) is None:
                setattr(args, name, tiny[role])


def _build_atomically(root: Path) -> None:
    root.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=root.name + ".", dir=root.parent))
    try:
        build_tiny_models(staging)
        (staging / "complete").write_text(RECIPE_VERSION)
        try:
            staging.rename(root)
        except OSError:  # another process finished first
            if not (root / "complete").exists():
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def build_tiny_models(out_dir: Path) -> None:
    """Write one checkpoint folder (config, safetensors, tokenizer) per role to ``out_dir``."""
    tokenizer = _train_tokenizer()
    negative, negative_b = _random_model("small"), _random_model("small_b")
    models = {"base": _random_model("base"), "positive": _perturbed_copy(negative), "negative": negative,
              "positive_b": _perturbed_copy(negative_b), "negative_b": negative_b}
    for role, model in models.items():
        model.save_pretrained(out_dir / role, safe_serialization=True)
        tokenizer.save_pretrained(out_dir / role)


def _random_model(kind: str):
    from transformers import Qwen2Config, Qwen2ForCausalLM

    eos_id = SPECIAL_TOKENS.index("<|endoftext|>")
    config = Qwen2Config(
        **_ARCHITECTURES[kind], max_position_embeddings=2048, rope_theta=10000.0, rms_norm_eps=1e-6,
        initializer_range=_INIT_STD, bos_token_id=eos_id, eos_token_id=eos_id, dtype="float32",
        architectures=["Qwen2ForCausalLM"],
    )
    torch.manual_seed(_SEEDS[kind])
    model = Qwen2ForCausalLM(config).to(torch.float32)
    with torch.no_grad():  # norms start at 1; make them differ so every weight matters
        for name, param in model.named_parameters():
            if "norm" in name:
                param.uniform_(0.5, 1.5)
            elif "embed_tokens" in name or "lm_head" in name:
                param[TOKENIZER_VOCAB_SIZE:] *= 1e-3
    return model


def _perturbed_copy(model):
    import copy

    tuned = copy.deepcopy(model)
    generator = torch.Generator().manual_seed(_SEEDS["rl_delta"])
    with torch.no_grad():
        for name, param in tuned.named_parameters():
            delta = torch.randn(param.shape, generator=generator) * _RL_DELTA_STD
            if "embed_tokens" in name or "lm_head" in name:
                delta[TOKENIZER_VOCAB_SIZE:] = 0.0  # RL does not train padding rows
            param.add_(delta)
    return tuned


def _train_tokenizer():
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=TOKENIZER_VOCAB_SIZE, special_tokens=SPECIAL_TOKENS, show_progress=False,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
    )
    tokenizer.train_from_iterator(_training_corpus(), trainer=trainer)
    return PreTrainedTokenizerFast(
        tokenizer_object=tokenizer, eos_token="<|endoftext|>", pad_token="<|endoftext|>",
        additional_special_tokens=SPECIAL_TOKENS[1:],
    )


def _training_corpus() -> list[str]:
    words = ("Question Answer Let's think step by step. The answer is \\boxed{} so we have x y z = + - * / "
             "\\frac{}{} sum of the numbers total each how many what is find compute therefore because "
             "apples books cars miles hours minutes percent dollars triangle circle area radius square").split()
    lines = []
    for i in range(400):
        a, b = (i * 37) % 101, (i * 53) % 97
        chosen = " ".join(words[(i * k) % len(words)] for k in range(1, 12))
        lines.append(f"Question:\n{chosen} {a} + {b} = {a + b}\nAnswer:\nLet's think step by step.\n"
                     f"We compute {a} * {b} = {a * b}, so the answer is $\\boxed{{{a + b}}}$.")
    return lines


if __name__ == "__main__":
    print(json.dumps(tiny_model_paths(), indent=2))
