"""Where a sample ends: the stop token ids a checkpoint itself declares (never ids hard-coded for one family)."""

from __future__ import annotations

from typing import Any

# End-of-turn tokens of the chat formats in use; a checkpoint's tokenizer has some of them (Qwen: <|im_end|>,
# Llama 3: <|eot_id|> and <|eom_id|>, Gemma: <end_of_turn>, Phi-3: <|end|>), and its EOS may be another.
CHAT_END_TOKENS = ("<|im_end|>", "<|eot_id|>", "<|eom_id|>", "<|end_of_text|>", "<|endoftext|>", "<end_of_turn>",
                   "<|end|>", "</s>")


def stop_token_ids(model: str, tokenizer: Any) -> list[int]:
    """EOS ids from ``model``'s generation config and its ``tokenizer``, plus the chat end tokens the tokenizer has."""
    from transformers import GenerationConfig

    ids = [tokenizer.eos_token_id]
    try:
        eos = GenerationConfig.from_pretrained(model).eos_token_id
        ids += eos if isinstance(eos, list) else [eos]
    except OSError:  # no generation_config.json
        pass
    vocabulary = tokenizer.get_vocab()
    ids += [vocabulary[token] for token in CHAT_END_TOKENS if token in vocabulary]
    return sorted({int(i) for i in ids if i is not None})
