"""Mathematical equivalence of a predicted answer and a reference answer.

Each comparison first goes through a cheap in-process path (normalised strings, exact
rational arithmetic on plain numbers, element-wise comparison of tuples, intervals, sets and
matrices). Only pairs it cannot decide go to math-verify/sympy, which runs in a pool of
worker processes under a hard time limit; a timed-out comparison counts as not equal.
Verdicts are cached by (prediction, reference). A grader may be shared between threads and
used inside ``multiprocessing`` workers; its verdicts are the same as in a serial run.
"""

import atexit
import os
import re
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from itertools import pairwise

from simplerl_math_eval.normalize import (
    MAX_ANSWER_CHARS,
    Number,
    assigned_name,
    clean,
    drop_thousands_commas,
    option_letter,
    parse_number,
    split_top_level,
    squeeze,
)
from simplerl_math_eval.numeric import clearly_different
from simplerl_math_eval.symbolic import symbolic_equal
from simplerl_math_eval.workers import Compare, WorkerPool

DEFAULT_TIMEOUT = 5.0
FAST_PATH_MAX_CHARS = 1000  # longer answers skip the in-process path (its cost grows with length)
_ZERO_DENOMINATOR = re.compile(r"/0+(?![\d.])|\\frac\{[^{}]*\}\{0+\}")  # on squeezed answers


@dataclass(frozen=True)
class Verdict:
    """Outcome of one comparison."""

    correct: bool
    timed_out: bool = False


# ---------------------------------------------------------------- numbers


def _rounds_to(decimal: Number, exact: Number) -> bool:
    """A decimal with >= 3 significant digits matches a value that rounds to it."""
    if decimal.places is None or exact.places is not None or decimal.significant < 3:
        return False
    return abs(decimal.value - exact.value) <= Fraction(1, 2 * 10**decimal.places)


def _numbers_equal(a: Number, b: Number) -> bool:
    if a.percent == b.percent:
        candidates = [(a, b)]
    else:  # 50% may stand for 0.5 or for 50
        pct, other = (a, b) if a.percent else (b, a)
        scaled = Number(pct.value / 100, pct.places, pct.significant)
        candidates = [(pct, other), (scaled, other)]
    return any(
        x.value == y.value or _rounds_to(x, y) or _rounds_to(y, x) for x, y in candidates
    )


# ---------------------------------------------------------------- structures


@dataclass(frozen=True)
class _Structure:
    kind: str  # "seq" (tuple/interval/list in brackets), "set" or "matrix"
    items: tuple[str, ...]
    brackets: str = ""
    shape: tuple[int, int] = (0, 0)


_MATRIX = re.compile(r"\\begin\{([pbvB]?matrix|array)\}(?:\{[^{}]*\})?(.*)\\end\{\1\}", re.S)


def _enclosed(s: str, opening: str, closing: str) -> bool:
    if not (s.startswith(opening) and s.endswith(closing)):
        return False
    depth = 0
    for i, ch in enumerate(s):
        depth += ch in "([{"
        depth -= ch in ")]}"
        if depth == 0 and len(opening) <= i < len(s) - 1:
            return False
    return True


def _structure(s: str) -> _Structure | None:
    if m := _MATRIX.fullmatch(s):
        rows = [split_top_level(row, "&") for row in m.group(2).split("\\\\") if row.strip()]
        if rows and len({len(row) for row in rows}) == 1:
            items = tuple(item for row in rows for item in row)
            return _Structure("matrix", items, shape=(len(rows), len(rows[0])))
        return None
    if _enclosed(s, "\\{", "\\}"):
        return _Structure("set", tuple(split_top_level(s[2:-2])))
    if s[:1] in "([" and s[-1:] in ")]" and _enclosed(s, s[0], s[-1]):
        items = split_top_level(s[1:-1])
        if len(items) > 1:
            return _Structure("seq", tuple(items), brackets=s[0] + s[-1])
    items = split_top_level(s)
    if len(items) > 1:
        return _Structure("set", tuple(items))
    return None


def _all_equal(verdicts: list[bool | None]) -> bool | None:
    if False in verdicts:
        return False
    return None if None in verdicts else True


# ---------------------------------------------------------------- sequences with an ellipsis

_ELLIPSES = frozenset({"\\ldots", "\\dots", "\\cdots", "\\dotsc", "\\dotsb", "...", "\u2026"})


def _around_ellipsis(s: _Structure) -> tuple[tuple[str, ...], tuple[str, ...]] | None:
    """The items before and after the first ellipsis of a list ("1, 2, 4, \\ldots": (1, 2, 4), ();
    "1, 2, \\ldots, n": (1, 2), (n)); None when it has none."""
    if s.kind == "matrix":
        return None
    marks = [i for i, item in enumerate(s.items) if item.strip() in _ELLIPSES]
    return (s.items[:marks[0]], s.items[marks[0] + 1:]) if marks else None


def _differences(terms: list[Fraction], times: int) -> list[Fraction]:
    for _ in range(times):
        terms = [b - a for a, b in pairwise(terms)]
    return terms


def _follows_rule(numbers: list[Fraction], known: int) -> bool:
    """True when all ``numbers`` follow a simple rule that their first ``known`` (at least 3) determine: a constant
    ratio (1, 2, 4 -> 8), or a polynomial, whose differences of the order where the first ``known`` terms' become
    constant (with at least two entries) stay constant (1, 3, 5 -> 7; 1, 2, 4, 7 -> 11)."""
    if 0 not in numbers and len({b / a for a, b in pairwise(numbers)}) == 1:
        return True
    order = 0
    while len(set(_differences(numbers[:known], order))) > 1:
        order += 1
    return known - order >= 2 and len(set(_differences(numbers, order))) == 1


def _patterns_equal(a: _Structure, b: _Structure) -> bool:
    """Two lists written with an ellipsis: equal when the items after it agree, the terms before it agree, and the
    longer run of terms before it follows the rule the shorter one's (at least three numbers) determine
    ("1, 2, 4, \\ldots" and "1, 2, 4, 8, \\ldots"); a list without an ellipsis never equals one with it, and what
    is not shown equal here is not equal."""
    parts = [_around_ellipsis(a), _around_ellipsis(b)]
    if None in parts:
        return False
    (head_a, tail_a), (head_b, tail_b) = parts
    if len(tail_a) != len(tail_b) or _all_equal([fast_equal(x, y) for x, y in zip(tail_a, tail_b)]) is not True:
        return False
    short, long = sorted((head_a, head_b), key=len)
    written = _all_equal([fast_equal(x, y) for x, y in zip(short, long)])
    if written is not True or len(short) == len(long):
        return bool(written)
    values = [parse_number(squeeze(clean(term))) for term in long]
    if len(short) < 3 or None in values or any(v.percent for v in values):
        return False  # the shorter one's rule is not determined, or not read here: not shown equal
    return _follows_rule([v.value for v in values], len(short))


def _structures_equal(a: _Structure, b: _Structure) -> bool | None:
    if _around_ellipsis(a) is not None or _around_ellipsis(b) is not None:
        return _patterns_equal(a, b)
    if a.kind != b.kind:
        return None
    if a.kind == "set":
        if len(a.items) != len(b.items):
            return None  # {1, 1, 2} = {1, 2}: let sympy decide
        unmatched = list(b.items)
        for item in a.items:
            match = next((o for o in unmatched if fast_equal(item, o)), None)
            if match is None:
                undecided = any(fast_equal(item, o) is None for o in unmatched)
                return None if undecided else False
            unmatched.remove(match)
        return True
    if a.brackets != b.brackets or a.shape != b.shape or len(a.items) != len(b.items):
        return False
    return _all_equal([fast_equal(x, y) for x, y in zip(a.items, b.items)])


# ---------------------------------------------------------------- fast path


def fast_equal(prediction: str, reference: str) -> bool | None:
    """Decide cheap cases in-process: True/False, or None when sympy is needed. An answer longer than
    MAX_ANSWER_CHARS is right only when written exactly as the reference (it is not read)."""
    if max(len(prediction), len(reference)) > MAX_ANSWER_CHARS:
        return prediction == reference
    if max(len(prediction), len(reference)) > FAST_PATH_MAX_CHARS:
        return True if prediction == reference else None
    p_text, r_text = clean(prediction), clean(reference)
    p, r = squeeze(p_text), squeeze(r_text)
    if not p or not r:
        return False
    if p == r:
        return True
    if _ZERO_DENOMINATOR.search(p) or _ZERO_DENOMINATOR.search(r):
        return False  # undefined ("4 0/0", "\\frac{1}{0}"); math-verify can read -4*0/0 as 0
    p_option, r_option = option_letter(p_text), option_letter(r_text)
    if p_option and r_option:
        return p_option == r_option
    if ("," in p) != ("," in r):  # "1,000" is a number unless both sides are lists; "1, 000" is a list
        p_text, r_text = drop_thousands_commas(p_text), drop_thousands_commas(r_text)
        p, r = squeeze(p_text), squeeze(r_text)
    p_num, r_num = parse_number(p), parse_number(r)
    if p_num and r_num:
        return _numbers_equal(p_num, r_num)
    p_struct, r_struct = _structure(p_text), _structure(r_text)
    if p_struct and r_struct:
        return _structures_equal(p_struct, r_struct)
    if (p_struct and r_num) or (r_struct and p_num):  # several items against one number
        return False if len((p_struct or r_struct).items) > 1 else None
    return False if _values_apart(prediction, reference, p_text, r_text) else None


def _values_apart(prediction: str, reference: str, p_text: str, r_text: str) -> bool:
    """The cleaned answers' values are clearly apart, and they are not two equations that could still agree: an
    ``x =`` that ``clean`` dropped must name the same variable on both sides, one their values do not use."""
    name = assigned_name(prediction)
    if name != assigned_name(reference):
        return False
    excluded = () if name is None else {name.lower(), name[0].lower()}
    return clearly_different(p_text, r_text, excluded)


# ---------------------------------------------------------------- grader


def _text(answer: object) -> str:
    return "" if answer is None else answer if isinstance(answer, str) else str(answer)


class Grader:
    """Grades (prediction, reference) pairs: fast path, cache, then a timed worker pool."""

    def __init__(
        self,
        timeout: float = DEFAULT_TIMEOUT,
        workers: int | None = None,
        compare: Compare = symbolic_equal,
        fast: Callable[[str, str], bool | None] | None = fast_equal,
    ) -> None:
        """``compare`` runs in the timed workers; ``fast`` decides cheap pairs in-process first
        (None: every pair goes to ``compare``)."""
        self.timeout = timeout
        self.workers = workers or min(8, os.cpu_count() or 1)
        self.compare = compare
        self.fast = fast
        self.timeouts = 0
        self._cache: dict[tuple[str, str], Verdict] = {}
        self._pool: WorkerPool | None = None
        self._pool_pid = 0  # the process that started the pool: a forked child starts its own
        self._lock = threading.Lock()  # one pool run at a time

    def grade(self, prediction: str, reference: str) -> Verdict:
        """Grade one pair."""
        return self.grade_many([(prediction, reference)])[0]

    def grade_many(
        self,
        pairs: Sequence[tuple[str, str]],
        on_progress: Callable[[int], None] | None = None,
    ) -> list[Verdict]:
        """Grade many pairs; sympy comparisons run in parallel. ``on_progress(n)`` reports n more done.

        A missing answer (``None``) is wrong; other non-strings are compared as ``str(value)``.
        """
        pairs = [(_text(p), _text(r)) for p, r in pairs]
        slow: dict[tuple[str, str], list[int]] = {}
        done = 0
        for i, pair in enumerate(pairs):
            if pair in self._cache:
                done += 1
                continue
            if pair not in slow:
                fast = self.fast(*pair) if self.fast is not None else None
                if fast is not None:
                    self._cache[pair] = Verdict(fast)
                    done += 1
                    continue
            slow.setdefault(pair, []).append(i)
        if on_progress is not None and done:
            on_progress(done)
        if slow:
            tasks = list(slow)

            def record(index: int, equal: bool, timed_out: bool) -> None:
                self._cache[tasks[index]] = Verdict(bool(equal), timed_out)
                self.timeouts += timed_out
                if on_progress is not None:
                    on_progress(len(slow[tasks[index]]))

            with self._lock:
                self._get_pool().run(tasks, record)
        return [self._cache[pair] for pair in pairs]

    def _get_pool(self) -> WorkerPool:
        if self._pool is None or self._pool_pid != os.getpid():
            self._pool = WorkerPool(self.compare, self.workers, self.timeout)
            self._pool_pid = os.getpid()
        return self._pool

    def close(self) -> None:
        """Stop the worker processes (a forked child leaves its parent's pool alone)."""
        with self._lock:
            if self._pool is not None and self._pool_pid == os.getpid():
                self._pool.close()
            self._pool = None

    def __enter__(self) -> "Grader":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


_DEFAULT_GRADERS: dict[float, Grader] = {}


@atexit.register
def _close_default_graders() -> None:
    for grader in _DEFAULT_GRADERS.values():
        grader.close()


def math_equal(prediction: str, reference: str, timeout: float = DEFAULT_TIMEOUT) -> bool:
    """True when ``prediction`` is mathematically equivalent to ``reference``.

    A comparison that exceeds ``timeout`` seconds is abandoned and counts as not equal.
    """
    grader = _DEFAULT_GRADERS.setdefault(timeout, Grader(timeout))
    return grader.grade(prediction, reference).correct
