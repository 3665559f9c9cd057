"""Symbolic equivalence through math-verify (sympy); meant to run inside a worker process."""

import logging
import random
import re
from collections.abc import Sequence
from functools import lru_cache
from itertools import product

import sympy
from sympy import UnevaluatedExpr
from sympy.core.function import AppliedUndef
from sympy.matrices.expressions import MatrixExpr
from math_verify import parse, verify
from math_verify.parser import ExprExtractionConfig, LatexExtractionConfig
from latex2sympy2_extended.latex2sympy2 import NormalizationConfig

from simplerl_math_eval.normalize import clean, parse_number, squeeze
from simplerl_math_eval.numeric import clearly_apart
from simplerl_math_eval.python_syntax import read_python

# Timeouts are enforced by killing the worker process, so math-verify's own signal-based
# timeouts are disabled; silence its warning about that.
logging.getLogger("math_verify").setLevel(logging.ERROR)

_CONFIG = [LatexExtractionConfig(boxed_match_priority=0), ExprExtractionConfig()]
# The same without math-verify's unit removal, which reads a closing g, m, s, h or d as a unit even in a product of
# variables (m_{1} g -> m_1, a m -> a).
_CONFIG_KEEPING_LETTERS = [
    LatexExtractionConfig(
        boxed_match_priority=0,
        normalization_config=NormalizationConfig(
            basic_latex=True, units=False, malformed_operators=True, nits=True, boxed="all", equations=False),
    ),
    ExprExtractionConfig(),
]
_CLOSING_LETTER = re.compile(r"(?<![A-Za-z\\])[A-Za-z]\s*$")
_VARIABLE = re.compile(r"(?<![A-Za-z\\])[A-Za-z](?![A-Za-z])")  # a one-letter name, not part of a word or command


def _closes_a_product_of_variables(cleaned: str) -> bool:
    """The answer ends in a one-letter variable that follows another variable, not a number (``m_{1} g``,
    ``\\mu m g``, but not ``5 m``, which is read as five metres)."""
    letter = _CLOSING_LETTER.search(cleaned)
    before = cleaned[:letter.start()].rstrip() if letter else ""
    return bool(before) and not before[-1].isdigit() and _VARIABLE.search(before) is not None


# An answer in programming syntax: ``*``, a call such as ``sqrt(3)`` or the name ``pi``, and nothing of LaTeX.
_PYTHON_SYNTAX = re.compile(r"\*|[A-Za-z]\(|\bpi\b")
_LATEX_SYNTAX = re.compile(r"[\\{}^$]")


def _python_reading(answer: str) -> list:
    """``[expr]``: an answer written in programming syntax (``sqrt(3)/2``, ``7*sin(pi*x/5)+1``, ``x**2``), read
    without running it (python_syntax.read_python); ``[]`` for anything else."""
    text = answer.strip()
    if not _PYTHON_SYNTAX.search(text) or _LATEX_SYNTAX.search(text):
        return []
    try:
        expr = read_python(text)
    except Exception:  # refused, not Python, or a sympy function given arguments it rejects: not read this way
        return []
    if not isinstance(expr, sympy.Basic) or expr.atoms(AppliedUndef):
        return []  # a container, or a name called as a function: i(2-i) is a product here, left to math-verify
    return [expr.xreplace({s: sympy.Symbol(s.name, real=True) for s in expr.free_symbols})]  # as math-verify's


@lru_cache(maxsize=4096)
def _parse(answer: str, keep_equation: bool = False) -> list:
    """math-verify's readings of ``answer``, after its reading in programming syntax when it has one."""
    cleaned = clean(answer, keep_equation)
    config = _CONFIG_KEEPING_LETTERS if _closes_a_product_of_variables(cleaned) else _CONFIG
    readings = parse(f"$\\boxed{{{cleaned}}}$", config, parsing_timeout=None)
    return _python_reading(answer) + readings


def _as_complex(expr: object) -> object | None:
    """``expr`` with the symbol i read as the imaginary unit, when it has no other symbol."""
    if not isinstance(expr, sympy.Expr) or {str(s) for s in expr.free_symbols} - {"i"}:
        return None
    return expr.subs({s: sympy.I for s in expr.free_symbols})


# Two fixed points at which expressions are evaluated before math-verify or ``simplify`` is tried (same in every
# worker): positive rationals, inside the domain of roots and logarithms.
_PROBE_RNG = random.Random(0)
PROBES = [[sympy.Rational(_PROBE_RNG.randint(50, 250), 97) for _ in range(64)] for _ in range(2)]


def _probe_values(exprs: Sequence[sympy.Expr], probe: Sequence[sympy.Rational]) -> list[complex] | None:
    """The values of ``exprs`` with each unknown (symbol, applied function such as ``f(x)``) set to one ``probe``
    value, the same in every expression; None when there are more unknowns than probe values or a value is not
    a finite number."""
    unknowns = sorted(set().union(*(e.atoms(AppliedUndef) | e.free_symbols for e in exprs)), key=str)
    if len(unknowns) > len(probe):
        return None
    values = []
    for expr in exprs:
        value = expr.xreplace(dict(zip(unknowns, probe))).evalf(30)
        if not (value.is_number and value.is_finite):
            return None
        values.append(complex(value))
    return values


def _varies(ratio: sympy.Expr) -> bool:
    """True when ``ratio`` takes clearly different finite values at the two probe points (so it is not a
    constant); False when that is not shown."""
    first, second = (_probe_values([ratio], probe) for probe in PROBES)
    if first is None or second is None:
        return False
    return abs(first[0] - second[0]) > 1e-12 * max(abs(first[0]), abs(second[0]))


def _compared_by_value(expr: object) -> bool:
    """An expression math-verify compares by value alone (numerically, then by ``simplify``): not a relation, set,
    tuple, matrix, bare symbol (compared by name) or percentage, and free of ``i`` (our complex rule reads it)."""
    return (isinstance(expr, sympy.Expr) and not isinstance(expr, (sympy.Symbol, MatrixExpr))
            and not expr.has(UnevaluatedExpr) and "i" not in {str(s) for s in expr.free_symbols})


def _cannot_match(gold: list, target: list) -> bool:
    """True when no pair of math-verify readings (``parse`` results) can be equal: their strings differ, and each
    pair of expressions compared by value takes clearly different values at a probe point. Shown this way, a
    wrong answer skips ``verify``'s ``simplify``."""
    for g, t in product(gold, target):
        if isinstance(g, str) and isinstance(t, str):
            if g.strip() == t.strip():
                return False
        elif isinstance(g, str) or isinstance(t, str):
            continue  # math-verify never matches a string with an expression
        elif not (_compared_by_value(g) and _compared_by_value(t)):
            return False
        else:
            values = _probe_values([g, t], PROBES[0])
            if values is None or not clearly_apart(*values):
                return False
    return True


def _same_equation(a: object, b: object) -> bool:
    """Two equations with the same solutions up to a constant factor (``y = 2x`` and ``2x - y = 0``).

    A ratio that differs at two probe points is not constant; only the others go to ``simplify``."""
    if not (isinstance(a, sympy.Equality) and isinstance(b, sympy.Equality)):
        return False
    if not all(isinstance(side, sympy.Expr) for side in (a.lhs, a.rhs, b.lhs, b.rhs)):
        return False  # n = {1, 2, 3}: not an equation between expressions
    ratio = (a.lhs - a.rhs) / (b.lhs - b.rhs)
    if _varies(ratio):
        return False
    ratio = sympy.simplify(ratio)
    return bool(ratio.is_number and ratio != 0)


def _solution_set(expr: object) -> tuple[sympy.Set, sympy.Symbol | None] | None:
    """``expr`` as a set of real numbers, with the variable it constrains: an inequality or a chain of them in one
    variable (``x \\ge 2``, ``-1 < x \\le 3``), inequalities joined by "or", ``x \\in S``, or a set of numbers
    (no variable); None for anything else."""
    if isinstance(expr, sympy.Set) and not isinstance(expr, sympy.FiniteSet):
        return (expr, None) if not expr.free_symbols else None
    if isinstance(expr, sympy.Equality) and isinstance(expr.rhs, sympy.Set) and isinstance(expr.lhs, sympy.Symbol):
        return (expr.rhs, expr.lhs) if not expr.rhs.free_symbols else None
    parts = list(expr) if isinstance(expr, sympy.FiniteSet) else [expr]
    inequality = (sympy.StrictLessThan, sympy.LessThan, sympy.StrictGreaterThan, sympy.GreaterThan, sympy.And)
    if not all(isinstance(part, inequality) for part in parts):
        return None
    variables = set().union(*(part.free_symbols for part in parts))
    if len(variables) != 1:
        return None
    try:
        return sympy.Union(*(part.as_set() for part in parts)), variables.pop()
    except (NotImplementedError, TypeError, ValueError):  # an inequality sympy cannot solve
        return None


def _same_solution_set(a: object, b: object) -> bool:
    """An inequality and the interval (or union of intervals) of its solutions, in either order (``x \\ge 2`` and
    ``[2, \\infty)``, ``x \\in [2, \\infty)``); two inequalities must constrain the same variable."""
    sets = [_solution_set(a), _solution_set(b)]
    if None in sets or (sets[0][1] is None and sets[1][1] is None):
        return False  # two plain sets are math-verify's to compare
    (set_a, variable_a), (set_b, variable_b) = sets
    if variable_a is not None and variable_b is not None and variable_a != variable_b:
        return False
    return bool(set_a == set_b)


# Two exact values (no decimal written) are equal only when they agree to this relative precision at 60 digits.
EXACT_PRECISION = sympy.Rational(1, 10**40)


def _tolerance(answer: str, expr: sympy.Expr) -> sympy.Rational | None:
    """How far a value may be from ``answer``'s: 0 (relative EXACT_PRECISION) for an exact value, half a unit in
    the last place for a written decimal; None when a decimal sits inside a larger expression (not judged here)."""
    if not expr.has(sympy.Float):
        return sympy.Integer(0)
    number = parse_number(squeeze(clean(answer)))
    if number is None or number.places is None or number.percent:
        return None
    return sympy.Rational(1, 2 * 10**number.places)


def _numbers_apart(prediction: str, reference: str, target: list, gold: list) -> bool:
    """True when math-verify's first readings are two numbers (no unknowns) that differ beyond what the answers'
    own precision allows: math-verify compares numbers after rounding to 6 decimal places, which calls far-apart
    tiny or huge exact values equal (1/20! and 1/21!)."""
    t, g = target[0], gold[0]
    if not all(isinstance(x, sympy.Expr) and x.is_number for x in (t, g)) or "%" in prediction + reference:
        return False
    tolerances = [_tolerance(prediction, t), _tolerance(reference, g)]
    if None in tolerances:
        return False
    difference, scale = abs(sympy.N(t - g, 60)), max(abs(sympy.N(t, 60)), abs(sympy.N(g, 60)))
    if not (difference.is_finite and scale.is_finite):  # a ratio over 0 (12:00 read as 12/0) has no value
        return False
    return bool(difference > max(max(tolerances), EXACT_PRECISION * scale))


def symbolic_equal(prediction: str, reference: str) -> bool:
    """True when math-verify finds ``prediction`` equivalent to ``reference`` (no time limit).

    Also equal: two equations that differ by a constant factor, expressions in i alone that agree with i as the
    imaginary unit, and an inequality and the interval of its solutions. Not equal: two numbers math-verify rounds
    together but that differ beyond the precision of what was written (exact values exactly, a decimal to half a
    unit in its last place).
    """
    gold, target = _parse(reference), _parse(prediction)
    if gold and target and not _cannot_match(gold, target) and verify(gold, target, timeout_seconds=None):
        return not _numbers_apart(prediction, reference, target, gold)
    if gold and target and _same_solution_set(gold[0], target[0]):
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
