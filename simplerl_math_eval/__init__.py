"""Math answer evaluation: extraction, equivalence grading and sampling metrics."""

from simplerl_math_eval.grader import Grader, Verdict, math_equal
from simplerl_math_eval.metrics import majority_at_k, pass_at_k
from simplerl_math_eval.parser import extract_answer, parse_ground_truth

__all__ = [
    "Grader",
    "Verdict",
    "extract_answer",
    "majority_at_k",
    "math_equal",
    "parse_ground_truth",
    "pass_at_k",
]
