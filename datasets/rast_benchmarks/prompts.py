"""Prompt templates; each is a ``str.format`` template with a ``{question}`` placeholder."""

from __future__ import annotations

PROMPT_TEMPLATES: dict[str, str] = {
    "original": "Question:\n{question}\nAnswer:\nLet's think step by step.\n",
    "qwen_boxed": (
        "<|im_start|>system\nPlease reason step by step, and put your final answer within \\boxed{{}}."
        "<|im_end|>\n<|im_start|>user\n{question}<|im_end|>\n<|im_start|>assistant\n"
    ),
    "toy": "Q:{question}\nA:",  # the toy world of rast.toy_world
}
DEFAULT_TEMPLATE = "original"


def build_prompt(template: str, question: str) -> str:
    """Fill a template, given by name (see PROMPT_TEMPLATES) or as a literal string with ``{question}``."""
    text = PROMPT_TEMPLATES.get(template, template)
    if "{question}" not in text:
        raise ValueError(
            f"prompt template {template!r} is neither a known name ({', '.join(PROMPT_TEMPLATES)}) "
            "nor a template string containing '{question}'"
        )
    try:
        return text.format(question=question)
    except (KeyError, IndexError, ValueError) as err:
        raise ValueError(
            f"prompt template {template!r} is not a valid format string with only {{question}} "
            f"(escape literal braces as '{{{{' and '}}}}'): {err}"
        ) from err


# Where each template's answer ends when the model does not stop by itself: a base model on the ``original`` template
# answers, then writes a new "Question:" block and answers that too, and its last \boxed{} would be an invented one.
TEMPLATE_STOPS: dict[str, list[str]] = {
    "original": ["\nQuestion:"],
}


def default_stops(template: str) -> list[str]:
    """The stop strings of a template given by name; none for other templates (the model's own stop tokens end it)."""
    return list(TEMPLATE_STOPS.get(template, []))
