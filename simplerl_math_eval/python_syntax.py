"""Reading mathematics written in Python/sympy syntax (``sqrt(3)/2``, ``7*sin(pi*x/5)+1``, ``x**2``) into sympy,
without ever running it as code.

``read_python(text)`` builds what sympy's ``parse_expr`` (default transformations) builds from the same text when
the text is plain mathematics, and refuses anything else. ``parse_expr`` ``eval``-s its input, so text from a model
can run any Python through it, restricted globals or not (attribute access reaches every object:
``().__class__.__base__.__subclasses__()``). Here the text is only parsed (``ast.parse``: syntax, no execution) and
the syntax tree is walked node by node. Numbers become sympy numbers, operators apply to sympy objects, a name is
one of the fixed tables ``_VALUES`` (constants) and ``_CALLABLE`` (mathematical functions) or else a new ``Symbol``
(a new undefined ``Function`` when called). Every other node (attribute access, subscripts, strings, lambdas,
keywords, comprehensions, ``*args``) is refused. So the only things ever called are the tables' mathematical
functions on sympy objects the walk built: no name reaches Python's builtins or modules, and no object's attributes
are ever touched.
"""

import ast
import operator
from collections.abc import Callable

import sympy

# Names with a meaning (as in ``from sympy import *``, which parse_expr uses); every other name is a Symbol.
_FUNCTIONS = (
    "sqrt", "cbrt", "root", "exp", "log", "sin", "cos", "tan", "cot", "sec", "csc", "asin", "acos", "atan", "atan2",
    "acot", "asec", "acsc", "sinh", "cosh", "tanh", "coth", "asinh", "acosh", "atanh", "Abs", "sign", "floor",
    "ceiling", "factorial", "binomial", "gamma", "Rational", "Integer", "Float", "Min", "Max", "re", "im",
    "conjugate", "arg", "gcd", "lcm", "Mod", "Eq", "Ne", "Lt", "Le", "Gt", "Ge", "Interval", "FiniteSet", "Union",
    "Intersection", "Matrix", "Tuple",
)
_CONSTANTS = ("pi", "E", "I", "oo", "zoo", "nan", "EulerGamma", "GoldenRatio", "Catalan")
_CALLABLE: dict[str, Callable] = {
    **{name: getattr(sympy, name) for name in _FUNCTIONS}, "ln": sympy.log, "abs": sympy.Abs, "pow": sympy.Pow,
}
_VALUES: dict[str, sympy.Basic] = {name: getattr(sympy, name) for name in _CONSTANTS}
_BINARY: dict[type, Callable] = {
    ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv,
    ast.Pow: operator.pow, ast.FloorDiv: operator.floordiv, ast.Mod: operator.mod, ast.BitXor: operator.xor,
}
_UNARY: dict[type, Callable] = {ast.USub: operator.neg, ast.UAdd: operator.pos}
_COMPARE: dict[type, Callable] = {
    ast.Lt: sympy.Lt, ast.LtE: sympy.Le, ast.Gt: sympy.Gt, ast.GtE: sympy.Ge, ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
}
_CONTAINERS: dict[type, Callable] = {ast.Tuple: tuple, ast.List: list, ast.Set: set}


class Refused(ValueError):
    """The text is not plain mathematics in Python syntax."""


def _number(node: ast.Constant, text: str) -> sympy.Basic:
    value = node.value
    if isinstance(value, bool) or not isinstance(value, (int, float, complex)):
        raise Refused(f"not a number: {type(value).__name__}")
    if isinstance(value, int):
        return sympy.Integer(value)
    written = (ast.get_source_segment(text, node) or repr(value)).replace("_", "")
    if isinstance(value, complex):  # 2j, 1.5j: as parse_expr, I times the number
        coefficient = written.rstrip("jJ")
        decimal = any(c in coefficient for c in ".eE")
        return sympy.I * (sympy.Float(coefficient) if decimal else sympy.Integer(coefficient))
    return sympy.Float(written)


def _sympy_value(value: object) -> sympy.Basic:
    """``S(1)``: the sympy number itself (``S`` of anything else, a string above all, is refused)."""
    if not isinstance(value, sympy.Basic):
        raise Refused("S() of a value that is not a sympy number")
    return value


def _call(node: ast.Call, text: str) -> object:
    if not isinstance(node.func, ast.Name) or node.keywords:
        raise Refused("only calls of a plain name, without keywords")
    args = [_build(arg, text) for arg in node.args]
    if node.func.id == "S":
        return _sympy_value(*args)
    if node.func.id in _VALUES:
        raise Refused(f"{node.func.id} called")
    # an unknown name called: an undefined function, f(x)
    return _CALLABLE.get(node.func.id, sympy.Function(node.func.id))(*args)


def _build(node: ast.AST, text: str) -> object:
    """The sympy object of one syntax node (refusing every node kind that is not plain mathematics)."""
    if isinstance(node, ast.Constant):
        return _number(node, text)
    if isinstance(node, ast.Name):
        if node.id in _CALLABLE or node.id == "S":
            raise Refused(f"{node.id} without arguments")
        return _VALUES.get(node.id, sympy.Symbol(node.id))
    if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
        return _BINARY[type(node.op)](_build(node.left, text), _build(node.right, text))
    if isinstance(node, ast.UnaryOp) and type(node.op) in _UNARY:
        return _UNARY[type(node.op)](_build(node.operand, text))
    if isinstance(node, ast.Compare) and len(node.ops) == 1 and type(node.ops[0]) in _COMPARE:
        return _COMPARE[type(node.ops[0])](_build(node.left, text), _build(node.comparators[0], text))
    if isinstance(node, ast.Call):
        return _call(node, text)
    if type(node) in _CONTAINERS and not any(isinstance(e, ast.Starred) for e in node.elts):
        return _CONTAINERS[type(node)](_build(element, text) for element in node.elts)
    raise Refused(f"{type(node).__name__} is not plain mathematics")


def read_python(text: str) -> object:
    """The sympy object of ``text`` written in Python syntax, as ``parse_expr`` would build it from plain
    mathematics; raises ``Refused`` for anything else (``SyntaxError``, ``RecursionError`` for too deep nesting)."""
    tree = ast.parse(text.strip(), mode="eval")
    return _build(tree.body, text.strip())
