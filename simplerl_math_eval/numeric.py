"""A numeric reading of plain LaTeX expressions: a cheap in-process proof that two answers differ.

``clearly_different(a, b)`` reads two cleaned answers built from numbers, variables (a letter, possibly with a
subscript; ``e`` is Euler's number), ``\\pi``, ``+ - * /``, ``^``, ``\\cdot``, ``\\times``, ``\\frac{}{}``,
``\\sqrt{}``, ``\\sqrt[n]{}``, brackets and implicit products, sets every variable to the same probe value on both
sides and compares the two values. Anything else, or any notation that can be read two ways (``1/2x``, ``2^3^2``,
``2^10``, ``2 3``, ``2\\frac{1}{3}``, ``f(x)``, ``i``), is not read, and the pair is left to the symbolic path.

>>> clearly_different("\\\\frac{9 \\\\sqrt{3}}{22}", "\\\\frac{9 \\\\sqrt{3}}{20}")
True
>>> clearly_different("n(n+1)/2", "\\\\frac{n^{2}+n}{2}")
False
"""

import cmath
import re
from collections.abc import Callable, Collection

from latex2sympy2_extended.math_normalization import units_regex

# Probe values: positive, irrational-looking, inside the domain of roots (the same table in every process).
PROBE_VALUES = [1.3183 + 0.2718 * k for k in range(64)]
# Two values differ when further apart than this, relative to the largest magnitude seen while computing them
# (at least 1): far beyond float rounding, and beyond math-verify's 6-decimal rounding of floats.
CLEARLY_APART = 1e-5
_TOKEN = re.compile(r"\s*(?:(\d+(?:\.\d+)?|\.\d+)|\\([a-zA-Z]+)|([a-zA-Z])|(\S))")
_OPERATORS = {"\\cdot": "*", "\\times": "*"}  # commands that are operators
_FACTOR_STARTS = {"(", "{", "\\pi", "\\frac", "\\sqrt"}
_LETTERS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")

Node = tuple  # ("num", value) | ("var", name) | (op, *children); op in + * / ^ neg root


class Unreadable(Exception):
    """The text is outside the grammar, or ambiguous."""


def _tokens(text: str) -> list[str]:
    tokens, position = [], 0
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None:  # trailing whitespace
            break
        number, command, letter, symbol = match.groups()
        if command is not None:
            tokens.append(_OPERATORS.get("\\" + command, "\\" + command))
        else:
            tokens.append(number or letter or symbol)
        position = match.end()
    return tokens


def _is_number(token: str | None) -> bool:
    return token is not None and (token[0] in "0123456789" or token[0] == "." and len(token) > 1)


def _is_letter(token: str | None) -> bool:
    return token is not None and token in _LETTERS


class _Reader:
    """Recursive descent over the tokens of one answer."""

    def __init__(self, text: str) -> None:
        self.tokens = _tokens(text)
        self.at = 0

    def peek(self) -> str | None:
        return self.tokens[self.at] if self.at < len(self.tokens) else None

    def take(self, expected: str | None = None) -> str:
        token = self.peek()
        if token is None or (expected is not None and token != expected):
            raise Unreadable
        self.at += 1
        return token

    def whole(self) -> Node:
        node = self.sum()
        if self.peek() is not None:
            raise Unreadable
        return node

    def sum(self) -> Node:
        terms = [self.signed_product()]
        while self.peek() in ("+", "-"):
            terms.append(self.signed_product())
        return ("+", *terms) if len(terms) > 1 else terms[0]

    def signed_product(self) -> Node:
        sign = self.take() if self.peek() in ("+", "-") else "+"
        if self.peek() in ("+", "-"):
            raise Unreadable  # "a - -b"
        node = self.product()
        return ("neg", node) if sign == "-" else node

    def product(self) -> Node:
        node = factor = self.power()
        while True:
            token = self.peek()
            if token in ("*", "/"):
                self.take()
                factor = self.power()
                if token == "/" and self._starts_factor(self.peek()):
                    raise Unreadable  # "1/2x": 1/(2x) or x/2
                node = ("*", node, factor) if token == "*" else ("/", node, factor)
            elif self._starts_factor(token):  # an implicit product with the factor before
                if _is_number(token) or token == "\\frac" and factor[0] == "num":
                    raise Unreadable  # "2 3", "x2"; "2\\frac{1}{3}" may be a mixed number
                factor = self.power()
                base = factor[1] if factor[0] == "^" else factor
                if token == "(" and base[0] in ("var", "num"):
                    raise Unreadable  # "f(x)": a function's value; math-verify reads "2(3)" as 5
                node = ("*", node, factor)
            else:
                return node

    @staticmethod
    def _starts_factor(token: str | None) -> bool:
        return token in _FACTOR_STARTS or _is_number(token) or _is_letter(token)

    def power(self) -> Node:
        base = self.primary()
        if self.peek() != "^":
            return base
        self.take("^")
        token = self.peek()
        if token == "{":
            exponent = self.group("{", "}")
        elif _is_letter(token) or _is_number(token) and len(token) == 1:
            exponent = self.primary()
        else:
            raise Unreadable  # "2^10", "2^\\frac..."
        if self.peek() == "^":
            raise Unreadable  # "2^3^2"
        return ("^", base, exponent)

    def group(self, opening: str, closing: str) -> Node:
        self.take(opening)
        node = self.sum()
        self.take(closing)
        return node

    def primary(self) -> Node:
        token = self.peek()
        if token == "(":
            return self.group("(", ")")
        if token == "{":
            return self.group("{", "}")
        if _is_number(token):
            return ("num", float(self.take()))
        if token == "\\pi":
            self.take()
            if self.peek() == "(":
                raise Unreadable  # math-verify reads "\\pi(2)" as a function
            return ("num", cmath.pi.real)
        if token == "\\frac":
            self.take()
            return ("/", self.group("{", "}"), self.group("{", "}"))
        if token == "\\sqrt":
            self.take()
            index = self.group("[", "]") if self.peek() == "[" else ("num", 2.0)
            return ("root", self.group("{", "}"), index)
        if _is_letter(token):
            return self.variable()
        raise Unreadable

    def variable(self) -> Node:
        letter = self.take()
        if letter in "iIE" or letter == "e" and self.peek() == "_":
            raise Unreadable  # the imaginary unit; E and e_1, which math-verify misreads
        if self.peek() != "_":
            return ("num", cmath.e.real) if letter == "e" else ("var", letter.lower())
        self.take("_")
        if self.peek() == "{":
            start = self.at
            self.group("{", "}")
            subscript = "".join(self.tokens[start + 1:self.at - 1])
        else:
            subscript = self.take()
            if len(subscript) > 1:
                raise Unreadable  # "a_12": a_1 times 2 in LaTeX
        return ("var", f"{letter.lower()}_{subscript}")


def read(text: str) -> Node | None:
    """The expression tree of a cleaned answer, or None when it is outside the grammar or ambiguous (also when
    it ends in a unit, ``6 m``, ``2h``: math-verify drops those, a variable reading would keep them)."""
    if units_regex.search(text):
        return None
    try:
        return _Reader(text).whole()
    except (Unreadable, RecursionError):
        return None


def _variables(node: Node) -> set[str]:
    if node[0] == "var":
        return {node[1]}
    if node[0] == "num":
        return set()
    return set().union(*(_variables(child) for child in node[1:]))


def _evaluate(node: Node, values: dict[str, float], largest: list[float]) -> complex:
    """The value of ``node`` (principal branches, as sympy); ``largest[0]`` tracks the largest magnitude seen."""
    kind = node[0]
    if kind == "num":
        value = complex(node[1])
    elif kind == "var":
        value = complex(values[node[1]])
    else:
        children = [_evaluate(child, values, largest) for child in node[1:]]
        operation: Callable[..., complex] = _OPERATIONS[kind]
        value = operation(*children)
    if cmath.isinf(value) or cmath.isnan(value):
        raise OverflowError
    if value.imag == 0:
        value = complex(value.real)  # +0j: a -0j would put a root of a negative number on the other branch
    largest[0] = max(largest[0], abs(value))
    return value


def _power(base: complex, exponent: complex) -> complex:
    if base == 0 and exponent.real <= 0:
        raise ZeroDivisionError
    if exponent.imag == 0 and exponent.real.is_integer() and abs(exponent.real) <= 64:
        return base ** int(exponent.real)
    return base ** exponent


_OPERATIONS: dict[str, Callable[..., complex]] = {
    "+": lambda *terms: sum(terms),
    "*": lambda a, b: a * b,
    "/": lambda a, b: a / b,
    "neg": lambda a: -a,
    "^": _power,
    "root": lambda radicand, index: _power(radicand, 1 / index),
}


def clearly_apart(x: complex, y: complex, scale: float = 1.0) -> bool:
    """``x`` and ``y`` differ by more than ``CLEARLY_APART`` times the largest of ``scale``, ``|x|``, ``|y|`` and 1
    (``scale``: the largest magnitude met while computing them, where cancellation could hide in rounding)."""
    return abs(x - y) > CLEARLY_APART * max(1.0, scale, abs(x), abs(y))


def clearly_different(a: str, b: str, excluded_names: Collection[str] = ()) -> bool:
    """True when cleaned answers ``a`` and ``b`` both read as plain expressions whose values, with each variable
    set to the same probe value in both, are clearly apart; False when that is not shown, or when either uses one
    of ``excluded_names`` (as a variable, lowercase)."""
    trees = [read(a), read(b)]
    if None in trees:
        return False
    largest = [1.0]
    try:
        names = sorted(_variables(trees[0]) | _variables(trees[1]))
        if len(names) > len(PROBE_VALUES) or not set(names).isdisjoint(excluded_names):
            return False
        values = dict(zip(names, PROBE_VALUES))
        first, second = (_evaluate(tree, values, largest) for tree in trees)
    except (OverflowError, ZeroDivisionError, RecursionError):
        return False
    return clearly_apart(first, second, largest[0])


def constant_value(text: str) -> complex | None:
    """The value of a cleaned answer without variables (``\\frac{\\sqrt{2}}{2}``); None when it is not read, uses a
    variable or has no finite value."""
    tree = read(text)
    if tree is None or _variables(tree):
        return None
    try:
        return _evaluate(tree, {}, [1.0])
    except (OverflowError, ZeroDivisionError, RecursionError):
        return None
