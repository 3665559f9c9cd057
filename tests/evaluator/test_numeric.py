"""The in-process numeric reading: it decides clearly wrong answers without sympy, reads expressions as
math-verify does, and refuses whatever could be read two ways."""

import logging
import random

import pytest
import sympy

from simplerl_math_eval import symbolic
from simplerl_math_eval.grader import fast_equal
from simplerl_math_eval.normalize import clean
from simplerl_math_eval.numeric import PROBE_VALUES, _evaluate, _variables, clearly_different, read


def test_clearly_wrong_answers_are_decided_in_process():
    assert fast_equal("9-\\sqrt{3}", "2-\\sqrt{3}") is False
    assert fast_equal("\\frac{n(n+10)(2 n+1)}{6}", "\\frac{n(n+1)(2 n+1)}{6}") is False
    assert fast_equal("k\\left(4 k^{9}+k-1\\right) / 2", "k\\left(4 k^{2}+k-1\\right) / 2") is False
    assert fast_equal("\\frac{1}{6} \\pi, \\frac{6}{6} \\pi", "\\frac{1}{6} \\pi, \\frac{5}{6} \\pi") is False
    assert fast_equal("x=\\frac{1}{6} \\pi+\\pi k, \\frac{9}{3} \\pi+\\pi k",
                      "x=\\frac{1}{6} \\pi+\\pi k, \\frac{1}{3} \\pi+\\pi k") is False
    assert fast_equal("k=n+7", "k=n+1") is False


def test_equal_or_unsure_pairs_are_left_to_sympy():
    assert fast_equal("n(n+1)/2", "\\frac{n^{2}+n}{2}") is None
    assert fast_equal("x = \\frac{y}{2}", "y = 2x") is None  # the same line, solved for another variable
    assert fast_equal("x = 4 - x", "x = 2") is None  # the assigned variable appears in the value
    assert fast_equal("6 m", "6") is None  # a unit, which math-verify drops
    assert fast_equal("\\frac{7}{3}", "2\\frac{1}{3}") is None  # a mixed number
    assert fast_equal("1.4142136", "\\sqrt{2}") is None  # within math-verify's 6-decimal rounding
    assert not clearly_different("2^{60}+1-2^{60}", "1")  # float cancellation is no evidence


@pytest.mark.parametrize("text", ["1/2x", "x/2y", "2^10", "2^3^2", "2 3", "x2", "f(x)", "a(2)", "2(3)", "(2)(3)",
                                  "2\\frac{1}{3}", "i+1", "E", "e_1", "a_12", "\\pi(2)", "\\log 2", "x!", "1,000",
                                  "50%", "x = 3", "\\{1\\}", "é", "²", "."])
def test_ambiguous_or_foreign_notation_is_not_read(text):
    assert read(text) is None


def random_expression(rng: random.Random, depth: int) -> str:
    """A LaTeX expression in the styles answers use: implicit products, spaces or none, braces or none."""
    names = ["x", "y", "n", "k", "a", "A", "X", "x_1", "a_{n}", "e", "m", "z"]
    if depth == 0:
        return rng.choice([str(rng.randint(0, 30)), f"{rng.randint(0, 9)}.{rng.randint(0, 99)}", "\\pi",
                           rng.choice(names)])
    a, b = random_expression(rng, depth - 1), random_expression(rng, depth - 1)
    space = rng.choice(["", " "])
    return rng.choice([
        f"{a}{space}+{space}{b}", f"{a}{space}-{space}{b}", f"\\frac{{{a}}}{{{b}}}", f"\\dfrac {{{a}}} {{{b}}}",
        f"{a}{space}\\cdot{space}{b}", f"{a} \\times {b}", f"{a}{space}{b}", f"({a})^{{{b}}}",
        f"{rng.choice(names)}^{rng.choice(['2', 'n', '{-1}', '{1/2}'])}{rng.choice(names)}",
        f"\\sqrt{{{a}}}", f"\\sqrt[{rng.randint(2, 4)}]{{{a}}}", f"\\sqrt{rng.randint(2, 9)}{rng.choice(names)}",
        f"({a})", f"\\left({a}{space}+{space}{b}\\right)", f"{a}/{b}", f"-{a}", f".{rng.randint(1, 9)}{a}",
    ])


def test_reading_agrees_with_math_verify_on_random_expressions():
    logging.getLogger("math_verify").setLevel(logging.ERROR)
    rng = random.Random(0)
    compared = 0
    for _ in range(800):
        text = random_expression(rng, rng.randint(1, 3))
        tree = read(clean(text))
        parsed = symbolic._parse(text)
        if tree is None or not parsed or not isinstance(parsed[0], sympy.Expr):
            continue
        values = dict(zip(sorted(_variables(tree)), PROBE_VALUES))
        symbols = {s: sympy.Float(values[str(s).replace("{", "").replace("}", "").lower()], 30)
                   for s in parsed[0].free_symbols}
        try:
            ours = _evaluate(tree, values, [1.0])
        except (OverflowError, ZeroDivisionError):
            continue
        theirs = complex(parsed[0].xreplace(symbols).evalf(30))
        assert abs(ours - theirs) <= 1e-6 * max(1.0, abs(ours), abs(theirs)), (text, parsed[0])
        compared += 1
    assert compared > 500


def test_benchmark_answers_are_never_separated_from_sympy_rewritings_of_themselves(shared_benchmarks):
    from rast_benchmarks import load_benchmark

    from simplerl_math_eval.parser import parse_ground_truth

    golds = {parse_ground_truth(record, name) for name in ("math500", "minerva_math", "olympiadbench")
             for record in load_benchmark(name, str(shared_benchmarks))}
    checked = 0
    for gold in sorted(g for g in golds if read(clean(g)) is not None):
        parsed = symbolic._parse(gold)
        if not parsed or not isinstance(parsed[0], sympy.Expr) or sympy.count_ops(parsed[0]) > 40:
            continue
        for rewritten in {sympy.latex(parsed[0]), sympy.latex(sympy.expand(parsed[0])),
                          sympy.latex(sympy.factor(parsed[0]))}:
            assert fast_equal(rewritten, gold) is not False, (gold, rewritten)
            checked += 1
    assert checked > 500


def test_wrong_answers_skip_math_verify_when_their_values_differ(monkeypatch):
    calls = []

    def counting_verify(*args, **kwargs):
        calls.append(args)
        return sympy_verify(*args, **kwargs)

    sympy_verify = symbolic.verify
    monkeypatch.setattr(symbolic, "verify", counting_verify)
    assert not symbolic.symbolic_equal("\\frac{\\log 2}{\\log 2-\\log 12}", "\\frac{\\log 2}{\\log 2-\\log 3}")
    assert calls == []
    assert symbolic.symbolic_equal("\\log 8", "3\\log 2")
    assert len(calls) == 1
