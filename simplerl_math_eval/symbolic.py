"""Symbolic equivalence through math-verify (sympy); meant to run inside a worker process."""

import logging
from functools import lru_cache

from math_verify import parse, verify
from math_verify.parser import ExprExtractionConfig, LatexExtractionConfig

from simplerl_math_eval.normalize import clean

# Timeouts are enforced by killing the worker process, so math-verify's own signal-based
# timeouts are disabled; silence its warning about that.
logging.getLogger("math_verify").setLevel(logging.ERROR)

_CONFIG = [LatexExtractionConfig(boxed_match_priority=0), ExprExtractionConfig()]


@lru_cache(maxsize=4096)
def _parse(answer: str) -> list:
    return parse(f"$\\boxed{{{clean(answer)}}}$", _CONFIG, parsing_timeout=None)


def symbolic_equal(prediction: str, reference: str) -> bool:
    """True when math-verify finds ``prediction`` equivalent to ``reference`` (no time limit)."""
    gold, target = _parse(reference), _parse(prediction)
    return bool(gold and target and verify(gold, target, timeout_seconds=None))
