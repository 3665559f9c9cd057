"""Reading a benchmark record: which of the registered layouts it has, its question and its gold answer."""

from __future__ import annotations

from typing import Any

from rast_benchmarks.registry import RecordShape, get_spec


def record_shape(name: str, record: dict[str, Any]) -> RecordShape:
    """The registered layout of ``record``: the first whose question and answer fields it has, else the first whose
    question field it has (a file without gold answers still gives prompts), else the first whose answer field it has
    (a bare gold answer)."""
    spec = get_spec(name)
    asked = [shape for shape in spec.shapes if _present(record.get(shape.question_field))]
    answered = [shape for shape in spec.shapes if record.get(shape.answer_field) is not None]
    for shapes in ([shape for shape in asked if shape in answered], asked, answered):
        if shapes:
            return shapes[0]
    raise _unknown_layout(name, record, "field")


def question_text(name: str, record: dict[str, Any]) -> str:
    """The problem statement of a record of benchmark ``name``."""
    question = record.get(record_shape(name, record).question_field)
    if not _present(question):
        raise _unknown_layout(name, record, "question field")
    return question


def gold_answer(name: str, record: dict[str, Any]) -> str:
    """The gold answer of a record of benchmark ``name`` as a string, wherever and however its layout writes it.

    ``value``: the field itself (27.0 -> "27"); ``boxed``: the last ``\\boxed{}`` of the solution; ``after_hashes``:
    the text after "####" without thousands separators; ``list``: the first answer, or all joined with ", " when
    ``is_multiple_answer``, without ``$`` delimiters.
    """
    shape = record_shape(name, record)
    value = record.get(shape.answer_field)
    gold = None if value is None else _GOLD_READERS[shape.answer_form](value, record)
    if gold is None:
        raise ValueError(f"{get_spec(name).name}: record has no {_DESCRIPTIONS[shape.answer_form]} in its "
                         f"{shape.answer_field!r} field: give records a gold answer there")
    return gold


def _unknown_layout(name: str, record: dict[str, Any], what: str) -> KeyError:
    spec = get_spec(name)
    layouts = ", ".join(f"{s.question_field}/{s.answer_field}" for s in spec.shapes)
    return KeyError(f"{spec.name}: record with fields {sorted(record)} has no {what} of a known layout ({layouts}); "
                    "rename its fields to one of them")


def _present(value: Any) -> bool:
    return isinstance(value, str) and bool(value.strip())


def _value(value: Any, record: dict[str, Any]) -> str | None:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _boxed(value: Any, record: dict[str, Any]) -> str | None:
    text = str(value)
    start = text.rfind("\\boxed{")
    if start < 0:
        return None
    depth, opening = 0, start + len("\\boxed")
    for i in range(opening, len(text)):  # text[opening] == "{"
        depth += {"{": 1, "}": -1}.get(text[i], 0)
        if depth == 0:
            return text[opening + 1 : i].strip()
    return None


def _after_hashes(value: Any, record: dict[str, Any]) -> str | None:
    text = str(value)
    return text.split("####")[-1].strip().replace(",", "") if "####" in text else None


def _listed(value: Any, record: dict[str, Any]) -> str | None:
    answers = [str(answer).replace("$", "").strip() for answer in value] if isinstance(value, list) else []
    if not answers:
        return None
    return ", ".join(answers) if record.get("is_multiple_answer") else answers[0]


_GOLD_READERS = {"value": _value, "boxed": _boxed, "after_hashes": _after_hashes, "list": _listed}
_DESCRIPTIONS = {"value": "answer", "boxed": "\\boxed{} answer", "after_hashes": "'#### <answer>'",
                 "list": "non-empty answer list"}
