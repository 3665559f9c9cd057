"""Symbolic equivalence through math-verify (sympy); meant to run inside a worker process."""

import logging
import random
from functools import lru_cache

import sympy
from sympy.core.function import AppliedUndef
from math_verify import parse, verify
from math_verify.parser import ExprExtractionConfig, LatexExtractionConfig

from simplerl_math_eval.normalize import clean

# Timeouts are enforced by killing the worker process, so math-verify's own signal-based
# timeouts are disabled; silence its warning about that.
logging.getLogger("math_verify").setLevel(logging.ERROR)

_CONFIG = [LatexExtractionConfig(boxed_match_priority=0), ExprExtractionConfig()]


@lru_cache(maxsize=4096)
def _parse(answer: str, keep_equation: bool = False) -> list:
    return parse(f"$\\boxed{{{clean(answer, keep_equation)}}}$", _CONFIG, parsing_timeout=None)


def _as_complex(expr: object) -> object | None:
    """``expr`` with the symbol i read as the imaginary unit, when it has no other symbol."""
    if not isinstance(expr, sympy.Expr) or {str(s) for s in expr.free_symbols} - {"i"}:
        return None
    return expr.subs({s: sympy.I for s in expr.free_symbols})


# Two fixed points at which a ratio is evaluated before ``simplify`` is tried (same in every worker).
_PROBE_RNG = random.Random(0)
PROBES = [[sympy.Rational(_PROBE_RNG.randint(50, 250), 97) for _ in range(64)] for _ in range(2)]


def _varies(ratio: sympy.Expr) -> bool:
    """True when ``ratio`` takes clearly different finite values at the two probe points (so it is not a
    constant); False when that is not shown. Symbols and applied functions (``f(x)``) get probe values."""
    unknowns = sorted(ratio.atoms(AppliedUndef) | ratio.free_symbols, key=str)
    if len(unknowns) > len(PROBES[0]):
        return False
    values = []
    for probe in PROBES:
        value = ratio.xreplace(dict(zip(unknowns, probe))).evalf(30)
        if not (value.is_number and value.is_finite):
            return False
        values.append(complex(value))
    return abs(values[0] - values[1]) > 1e-12 * max(abs(values[0]), abs(values[1]))


def _same_equation(a: object, b: object) -> bool:
    """Two equations with the same solutions up to a constant factor (``y = 2x`` and ``2x - y = 0``).

    A ratio that differs at two probe points is not constant; only the others go to ``simplify``."""
    if not (isinstance(a, sympy.Equality) and isinstance(b, sympy.Equality)):
        return False
    ratio = (a.lhs - a.rhs) / (b.lhs - b.rhs)
    if _varies(ratio):
        return False
    ratio = sympy.simplify(ratio)
    return bool(ratio.is_number and ratio != 0)


def symbolic_equal(prediction: str, reference: str) -> bool:
    """True when math-verify finds ``prediction`` equivalent to ``reference`` (no time limit).

    Also equal: two equations that differ by a constant factor, and expressions in i alone that
    agree with i as the imaginary unit.
    """
    gold, target = _parse(reference), _parse(prediction)
    if gold and target and verify(gold, target, timeout_seconds=None):
        return True
    if "=" in prediction and "=" in reference:
        gold_eq, target_eq = _parse(reference, True), _parse(prediction, True)
        if gold_eq and target_eq and _same_equation(gold_eq[0], target_eq[0]):
            return True
    complex_gold, complex_target = (_as_complex(x[0]) if x else None for x in (gold, target))
    uses_i = "i" in {str(s) for x in (gold, target) if x and isinstance(x[0], sympy.Expr) for s in x[0].free_symbols}
    if uses_i and complex_gold is not None and complex_target is not None:
        return sympy.simplify(complex_gold - complex_target) == 0
    return False


def math_verify_answer(response: str, gold: str = "") -> str:
    """math-verify's reading of a whole response (its own extraction), as text; ``""`` when it finds none.
    ``gold`` is unused: the signature is a worker pool's ``(a, b)`` task."""
    parsed = parse(response, parsing_timeout=None)
    return str(parsed[1]) if len(parsed) > 1 else ""
