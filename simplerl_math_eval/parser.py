"""Extracting the final answer from a model output and the gold answer from a benchmark record."""

import re

_BOXED = re.compile(r"\\(?:boxed|fbox)\b")
_MINERVA = re.compile(r"final answer is\s*(.*?)\s*\.?\s*I hope it is correct", re.S | re.I)
_ANSWER_IS = re.compile(r"answer is\s*:?\s*", re.I)
_NUMBER = re.compile(r"-?\d[\d,]*(?:\.\d+)?|-?\.\d+")
_INLINE_MATH = re.compile(r"^\$+(.*?)\$+|^\\\((.*?)\\\)|^\\\[(.*?)\\\]", re.S)
_TEXT_WRAPPED = re.compile(r"\\(?:text|textbf|mathrm|mbox)\s*\{([^{}]*)\}")


def _braced(text: str, start: int) -> str | None:
    """Content of the brace group opening at ``text[start]``, nested braces allowed."""
    depth = 0
    for i in range(start, len(text)):
        if text[i] == "{":
            depth += 1
        elif text[i] == "}":
            depth -= 1
            if depth == 0:
                return text[start + 1 : i]
    return None


def last_boxed(text: str) -> str | None:
    """Content of the last ``\\boxed{...}`` / ``\\fbox{...}`` / ``\\boxed 5`` in ``text``."""
    matches = list(_BOXED.finditer(text))
    if not matches:
        return None
    end = matches[-1].end()
    rest = text[end:]
    stripped = rest.lstrip()
    if stripped.startswith("{"):
        return _braced(text, end + len(rest) - len(stripped))
    token = re.match(r"\s+([^\s$]+)", rest)
    return token.group(1) if token else None


def _strip(answer: str) -> str:
    """Remove math delimiters, a whole-answer ``\\text{}`` and trailing punctuation."""
    s = answer.strip()
    for _ in range(3):
        s = s.strip().rstrip(".").strip()
        m = _INLINE_MATH.match(s)
        if m and m.end() == len(s):
            s = next(g for g in m.groups() if g is not None)
        full_text = _TEXT_WRAPPED.fullmatch(s)
        if full_text:
            s = full_text.group(1)
    return s.strip().rstrip(".").strip().strip("$").strip()


def _after_answer_is(text: str) -> str | None:
    matches = list(_ANSWER_IS.finditer(text))
    if not matches:
        return None
    rest = text[matches[-1].end() :].strip()
    math = _INLINE_MATH.match(rest)
    if math:
        return next(g for g in math.groups() if g is not None)
    return re.split(r"\n|\.(?:\s|$)", rest)[0]


def extract_answer(text: str, data_name: str) -> str:
    """The final answer in a model output (``""`` when there is none).

    Order: Minerva's "final answer is ... I hope it is correct" (first for minerva_math),
    the last ``\\boxed{}``, the last "the answer is ...", then the last number.
    """
    minerva = _MINERVA.findall(text)
    boxed = last_boxed(text)
    if minerva and (data_name == "minerva_math" or boxed is None):
        inner = last_boxed(minerva[-1])
        return _strip(inner if inner is not None else minerva[-1])
    if boxed is not None:
        return _strip(boxed)
    answer_is = _after_answer_is(text)
    if answer_is is not None and answer_is.strip():
        return _strip(answer_is)
    numbers = _NUMBER.findall(text)
    return numbers[-1].rstrip(",") if numbers else ""


def _format_float(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(value)


def parse_ground_truth(record: dict, data_name: str) -> str:
    """The gold answer of a raw benchmark record, as a string."""
    if data_name == "minerva_math":
        gold = last_boxed(record.get("solution", ""))
        if gold is None:
            raise ValueError("minerva_math record has no \\boxed{} answer in its 'solution' field")
        return gold.strip()
    if data_name == "olympiadbench":
        answers = record.get("final_answer")
        if not answers:
            raise ValueError("olympiadbench record has no 'final_answer' field")
        answers = [a.replace("$", "").strip() for a in answers]
        return ", ".join(answers) if record.get("is_multiple_answer") else answers[0]
    if data_name == "gsm8k":
        if "####" not in str(record.get("answer", "")):
            raise ValueError("gsm8k record has no '#### <answer>' in its 'answer' field")
        return record["answer"].split("####")[-1].strip().replace(",", "")
    if "answer" in record and record["answer"] is not None:
        answer = record["answer"]
        return _format_float(answer) if isinstance(answer, float) else str(answer).strip()
    raise ValueError(f"{data_name} record has no 'answer' field to take the gold answer from")
