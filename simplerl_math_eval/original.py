"""The Qwen2.5-Math / SimpleRL extraction and grading rules, so new runs can be scored as the paper did
(``math_eval_pred.py --grader original``).

Extraction (``original_extract``): Minerva's "final answer is $...$. I hope", else the last ``\\boxed{}``, else
the text after the last "he answer is", else the last number.

Rules, in order: equal strings (case-insensitive); plain numbers equal within relative tolerance 1e-4,
the reference also taken x100 and /100; brackets of the same kind compared element-wise; equations
compared as lhs - rhs up to sign; otherwise latex2sympy parses both (an answer it cannot parse is read as Python
syntax, as sympy's ``parse_expr`` would, by ``python_syntax.read_python``, which never runs it) and sympy
``simplify`` decides, or their numeric values agree within 1e-4. Run it through ``Grader(compare=original_equal,
fast=None, timeout=3.0)``: the grader's workers give it the original 3 s limit.
"""

import math
import re

from simplerl_math_eval.parser import last_boxed
from simplerl_math_eval.python_syntax import read_python

REL_TOL = 1e-4
TIMEOUT = 3.0

_NUMBER = re.compile(r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?")
_LAST_NUMBER = re.compile(r"-?\d*\.?\d+")


def original_extract(text: str) -> str:
    """The answer the original project extracts from a model output (``""`` when there is none)."""
    if "final answer is $" in text and "$. I hope" in text:
        return text.split("final answer is $", 1)[1].split("$. I hope", 1)[0].strip()
    boxed = last_boxed(text)
    if boxed is not None:
        return boxed.strip()
    if "he answer is" in text:
        return text.split("he answer is")[-1].strip()
    numbers = _LAST_NUMBER.findall(text.replace(",", ""))
    return numbers[-1] if numbers else ""


def _strip(answer: str) -> str:
    s = str(answer).strip().replace("$", "").replace("\\!", "").replace("\\%", "%")
    s = re.sub(r"\\text\{\s*([^{}]*)\}", r"\1", s).strip().rstrip(".")
    return re.sub(r"\\[dt]frac", r"\\frac", s)


def _number(answer: str) -> float | None:
    s = answer.replace(",", "").rstrip("%").strip()
    if not _NUMBER.fullmatch(s):
        return None
    value = float(s)
    return value / 100 if answer.endswith("%") else value


def _numbers_equal(prediction: float, reference: float) -> bool:
    return any(math.isclose(prediction, r, rel_tol=REL_TOL) for r in (reference, reference * 100, reference / 100))


def _sympy(answer: str):
    from latex2sympy2_extended import latex2sympy

    for parse in (latex2sympy, read_python):
        try:
            return parse(answer)
        except Exception:
            continue
    return None


def _symbolic_equal(prediction: str, reference: str) -> bool:
    from sympy import N, simplify

    a, b = _sympy(prediction), _sympy(reference)
    if a is None or b is None:
        return False
    try:
        if a == b or simplify(a - b) == 0:
            return True
    except Exception:
        pass
    try:
        return math.isclose(float(N(a)), float(N(b)), rel_tol=REL_TOL)
    except Exception:
        return False


def _split(answer: str) -> tuple[str, list[str]] | None:
    if len(answer) >= 2 and answer[0] in "([" and answer[-1] in ")]":
        return answer[0] + answer[-1], [item.strip() for item in answer[1:-1].split(",")]
    return None


def original_equal(prediction: str, reference: str) -> bool:
    """True when the original rules find ``prediction`` equal to ``reference`` (no time limit)."""
    p, r = _strip(prediction), _strip(reference)
    if p.lower() == r.lower():
        return True
    p_num, r_num = _number(p), _number(r)
    if p_num is not None and r_num is not None:
        return _numbers_equal(p_num, r_num)
    p_items, r_items = _split(p), _split(r)
    if p_items and r_items and len(p_items[1]) == len(r_items[1]) > 1:
        return p_items[0] == r_items[0] and all(map(original_equal, p_items[1], r_items[1]))
    if p.count("=") == 1 and r.count("=") == 1:
        (pl, pr), (rl, rr) = p.split("="), r.split("=")
        return _symbolic_equal(f"{pl}-({pr})", f"{rl}-({rr})") or _symbolic_equal(f"{pl}-({pr})", f"{rr}-({rl})")
    if p.count("=") == 1 and len(p.split("=")[0].strip()) <= 2:
        p = p.split("=")[1]
    return _symbolic_equal(p, r)
