"""Equivalence table for math_equal, every case checked in both directions."""

import pytest

from simplerl_math_eval.grader import Grader, fast_equal, math_equal
from simplerl_math_eval.symbolic import symbolic_equal

# (prediction, reference, expected verdict)
CASES = [
    # integers and decimals
    ("3", "3", True),
    ("3", "3.0", True),
    ("3.50", "3.5", True),
    ("007", "7", True),
    ("-2", "-2.000", True),
    ("1,000", "1000", True),
    ("1,234,567", "1234567", True),
    ("+5", "5", True),
    ("3", "3.5", False),
    ("3", "-3", False),
    ("2.5", "2.05", False),
    ("1000", "100", False),
    ("0.1", "0.01", False),
    ("3", "4", False),
    ("1.6", "1.63", False),
    ("10", "1", False),
    ("3.001", "3", False),
    # scientific notation
    ("1e3", "1000", True),
    ("1.5e-3", "0.0015", True),
    ("1.5\\times10^{3}", "1500", True),
    ("2.5 \\times 10^{-2}", "0.025", True),
    ("10^{3}", "1000", True),
    ("6.02\\times 10^{23}", "6.02 \\times 10^{23}", True),
    ("1e3", "100", False),
    ("2.5e-3", "\\frac{1}{400}", True),
    ("3.33\\times10^{-5}", "\\frac{1}{30000}", True),
    ("2.5e-3", "\\frac{1}{300}", False),
    ("1.23e-5", "0.00001", False),
    ("1.23e-5", "\\frac{1}{100000}", False),
    ("1.5\\times10^{3}", "150", False),
    ("3\\times10^{8}", "3 \\times 10^{7}", False),
    # percentages
    ("50\\%", "0.5", True),
    ("50\\%", "50", True),
    ("50%", "\\frac{1}{2}", True),
    ("12.5\\%", "0.125", True),
    ("50\\%", "5", False),
    ("0.5\\%", "50\\%", False),
    ("25\\%", "0.5", False),
    # fractions
    ("\\frac{1}{2}", "0.5", True),
    ("\\dfrac{1}{2}", "\\frac{1}{2}", True),
    ("\\tfrac{3}{4}", "3/4", True),
    ("\\frac12", "1/2", True),
    ("\\frac{2}{4}", "\\frac{1}{2}", True),
    ("-\\frac{1}{2}", "\\frac{-1}{2}", True),
    ("-\\frac{1}{2}", "-0.5", True),
    ("\\frac{1}{3}", "0.333", True),
    ("\\frac{2}{3}", "0.6667", True),
    ("\\frac{4}{9}", "0.444444", True),
    ("\\frac{10}{4}", "2.5", True),
    ("1/2", "2", False),
    ("\\frac{1}{2}", "\\frac{2}{1}", False),
    ("\\frac{1}{3}", "0.3", False),
    ("\\frac{1}{2}", "-\\frac{1}{2}", False),
    ("\\frac{3}{4}", "0.7", False),
    ("\\frac{2}{3}", "0.66", False),
    ("\\frac{5}{8}", "\\frac{8}{5}", False),
    # roots
    ("\\sqrt{2}/2", "\\frac{1}{\\sqrt{2}}", True),
    ("\\frac{\\sqrt{2}}{2}", "\\frac{\\sqrt2}{2}", True),
    ("2\\sqrt{3}", "\\sqrt{12}", True),
    ("\\sqrt{8}", "2\\sqrt{2}", True),
    ("5 \\sqrt{10}", "\\sqrt{250}", True),
    ("\\sqrt[3]{8}", "2", True),
    ("3\\sqrt{2}", "\\sqrt{18}", True),
    ("\\sqrt{2}", "2", False),
    ("2\\sqrt{3}", "3\\sqrt{2}", False),
    ("\\sqrt{3}", "1.7", False),
    ("\\sqrt[3]{4}", "\\sqrt{4}", False),
    # pi
    ("2\\pi", "\\pi \\cdot 2", True),
    ("\\frac{\\pi}{2}", "\\pi/2", True),
    ("4 \\pi^{2}-1", "-1+4\\pi^2", True),
    ("\\frac{3\\pi}{4}", "\\frac{3}{4}\\pi", True),
    ("\\pi", "3", False),
    ("2\\pi", "\\pi", False),
    ("\\frac{\\pi}{3}", "\\frac{\\pi}{6}", False),
    # degrees
    ("30^\\circ", "30", True),
    ("30^{\\circ}", "30", True),
    ("45°", "45", True),
    ("30^\\circ", "60", False),
    ("90^{\\circ}", "45^{\\circ}", False),
    # text and units
    ("10\\text{ cm}", "10", True),
    ("10 \\text{cm}^2", "10", True),
    ("18 \\text{ dollars}", "18", True),
    ("5 \\mathrm{~m}", "5", True),
    ("\\$18", "18", True),
    ("18 dollars", "18", True),
    ("\\text{Evelyn}", "Evelyn", True),
    ("\\text{(A)}", "(A)", True),
    ("\\textbf{12}", "12", True),
    ("10\\text{ cm}", "11", False),
    ("\\text{Evelyn}", "Bob", False),
    ("\\text{(A)}", "(B)", False),
    # x = 3
    ("x = 3", "3", True),
    ("x=3", "3", True),
    ("k = \\frac{1}{2}", "0.5", True),
    ("M=2^{N-2}+1", "2^{N-2}+1", True),
    ("g(x)=x^2-2x+2", "x^2-2x+2", True),
    ("\\theta = 30^\\circ", "30", True),
    ("x = 3", "4", False),
    ("y=5", "-5", False),
    # intervals
    ("(0,1]", "(0, 1]", True),
    ("[2,\\infty)", "[2, \\infty)", True),
    ("(-\\infty,-5)", "(-\\infty, -5)", True),
    ("\\left[0,\\frac{1}{2}\\right)", "[0, 0.5)", True),
    ("[1,2]", "\\left[ 1, 2 \\right]", True),
    ("(1, 3)", "(1,3)", True),
    ("(0,1]", "[0,1]", False),
    ("[1,2]", "(1,2)", False),
    ("[0,1)", "[0,1]", False),
    ("(0,1)", "(0,2)", False),
    ("[2,\\infty)", "(2,\\infty)", False),
    ("(-\\infty,-5)", "(-\\infty,-5]", False),
    ("(-\\infty, 0) \\cup (1, \\infty)", "(-\\infty,0)\\cup(1,\\infty)", True),
    ("(-\\infty, 0) \\cup (1, \\infty)", "(-\\infty,0]\\cup(1,\\infty)", False),
    # tuples / ordered pairs
    ("(1,2)", "(1, 2)", True),
    ("(3, \\frac{\\pi}{2})", "\\left( 3, \\frac{\\pi}{2} \\right)", True),
    ("(0.5, 2)", "(\\frac12, 2)", True),
    ("(1,2,3)", "(1, 2, 3)", True),
    ("(-1, 0, -1)", "(-1,0,-1)", True),
    ("(1,2)", "(2,1)", False),
    ("(1,2)", "(1,2,3)", False),
    ("(1,2)", "(1,3)", False),
    ("(3, \\frac{\\pi}{2})", "(3, \\pi)", False),
    # sets and lists (order-free)
    ("\\{1,2\\}", "\\{2,1\\}", True),
    ("\\{1, 2, 3\\}", "\\{3, 2, 1\\}", True),
    ("1,3,9,11", "11, 9, 3, 1", True),
    ("-3, 0", "0,-3", True),
    ("100, \\frac{1}{100}", "\\frac{1}{100}, 100", True),
    ("64,\\frac{1}{4}", "0.25, 64", True),
    ("x=2 \\text{ or } x=3", "2, 3", True),
    ("\\{1,2\\}", "\\{1,3\\}", False),
    ("1,3,9,11", "1,3,9", False),
    ("-3, 0", "3, 0", False),
    ("\\{1,2\\}", "\\{1,2,3\\}", False),
    ("2, 3", "2", False),
    # matrices
    ("\\begin{pmatrix}1&2\\\\3&4\\end{pmatrix}", "\\begin{bmatrix}1 & 2 \\\\ 3 & 4\\end{bmatrix}", True),
    ("\\begin{pmatrix}1\\\\2\\end{pmatrix}", "\\begin{pmatrix} 1 \\\\ 2 \\end{pmatrix}", True),
    ("\\begin{pmatrix}\\frac12&0\\\\0&1\\end{pmatrix}", "\\begin{pmatrix}0.5&0\\\\0&1\\end{pmatrix}", True),
    ("\\begin{pmatrix}1&2\\\\3&4\\end{pmatrix}", "\\begin{pmatrix}1&2\\\\4&3\\end{pmatrix}", False),
    ("\\begin{pmatrix}1\\\\2\\end{pmatrix}", "\\begin{pmatrix}1&2\\end{pmatrix}", False),
    ("\\begin{pmatrix}1&0\\\\0&1\\end{pmatrix}", "\\begin{pmatrix}1&0\\\\0&2\\end{pmatrix}", False),
    # complex numbers
    ("3+4i", "4i+3", True),
    ("1-i", "-i+1", True),
    ("\\frac{1+i}{2}", "\\frac12+\\frac{i}{2}", True),
    ("2i", "0+2i", True),
    ("3+4i", "3-4i", False),
    ("i", "-i", False),
    ("1+i", "1", False),
    # symbolic expressions
    ("3 n", "3n", True),
    ("\\frac{1}{4} n(n+1)", "\\frac{n^2+n}{4}", True),
    ("2^{k-n}", "\\frac{2^k}{2^n}", True),
    ("\\frac{a b}{2}", "\\frac{ab}{2}", True),
    ("(x+1)^2", "x^2+2x+1", True),
    ("x^2-2x+2", "2 - 2x + x^2", True),
    ("\\frac{15-8 \\sqrt{3}}{33}", "\\frac{5}{11}-\\frac{8\\sqrt{3}}{33}", True),
    ("2-\\sqrt{3}", "\\frac{1}{2+\\sqrt{3}}", True),
    ("\\log_2 8", "3", True),
    ("n+1", "n-1", False),
    ("3n", "3m", False),
    ("x^2", "2x", False),
    ("2^{k-n}", "2^{n-k}", False),
    ("\\frac{a}{b}", "\\frac{b}{a}", False),
    ("(x+1)^2", "x^2+1", False),
    # inequalities
    ("k \\geqslant 2", "k \\geq 2", True),
    ("x > 3", "3 < x", True),
    ("x \\le 5", "x \\leq 5", True),
    ("x > 3", "x \\geq 3", False),
    # empty / junk
    ("", "3", False),
    ("3", "", False),
    ("\\boxed{}", "3", False),
]


def test_table_is_large_enough():
    assert len(CASES) >= 150
    assert sum(not expected for _, _, expected in CASES) >= 60


@pytest.mark.parametrize("prediction,reference,expected", CASES)
def test_math_equal_both_directions(grader: Grader, prediction: str, reference: str, expected: bool):
    forward, backward = grader.grade_many([(prediction, reference), (reference, prediction)])
    assert not forward.timed_out and not backward.timed_out
    assert forward.correct == expected, f"{prediction!r} vs {reference!r}"
    assert backward.correct == expected, f"{reference!r} vs {prediction!r}"


def test_fast_path_decides_common_cases_without_sympy():
    assert fast_equal("\\dfrac{1}{2}", "0.5") is True
    assert fast_equal("[1,2]", "(1,2)") is False
    assert fast_equal("1,3,9", "9,3,1") is True
    assert fast_equal("x+1", "1+x") is None


def test_math_equal_function():
    assert math_equal("\\frac{1}{2}", "0.5")
    assert not math_equal("\\sqrt{2}", "2")


def test_symbolic_path_compares_answers_that_are_not_plain_expressions():
    """An equation whose right side is a list (n = 1, 2, 3) and a clock time math-verify reads as 12/0 are compared,
    not raised on (a raise in a worker would grade the pair wrong)."""
    assert symbolic_equal("12:00", "12:00 \\text{P.M.}")
    assert not symbolic_equal("n=1, 2, 3", "n=2, 3, 4")
    assert symbolic_equal("n=1, 2, 3", "n=1, 2, 3")
