"""The hard time limit: a hanging comparison is abandoned, counted, and the run goes on."""

import os
import time

from simplerl_math_eval.grader import Grader
from simplerl_math_eval.symbolic import symbolic_equal


def sleepy_compare(prediction: str, reference: str) -> bool:
    """Test hook: hangs on 'hang', dies on 'crash', else the real comparison (a grader built with fast=None
    sends it every pair)."""
    if "hang" in prediction:
        time.sleep(600)
    if "crash" in prediction:
        os._exit(1)
    return symbolic_equal(prediction, reference)


def test_hanging_worker_is_killed_and_replaced():
    with Grader(timeout=1.0, workers=2, compare=sleepy_compare, fast=None) as grader:
        pairs = [("hang", "1"), ("x+1", "1+x"), ("hang again", "2"), ("(x+1)^2", "x^2+2x+1"), ("3", "3.0")]
        assert grader.grade("a+b", "b+a").correct  # workers started and warm
        start = time.monotonic()
        verdicts = grader.grade_many(pairs)
        elapsed = time.monotonic() - start
        assert [v.correct for v in verdicts] == [False, True, False, True, True]
        assert [v.timed_out for v in verdicts] == [True, False, True, False, False]
        assert grader.timeouts == 2
        assert elapsed < 20  # the hangs sleep 600 s; a replacement worker takes ~1-3 s to start on a busy machine
        # the replaced workers keep working
        assert grader.grade("2x", "x \\cdot 2").correct


def test_crashing_worker_counts_as_failed_and_is_replaced():
    with Grader(timeout=5.0, workers=1, compare=sleepy_compare, fast=None) as grader:
        crashed, fine = grader.grade_many([("crash", "1"), ("y+1", "1+y")])
        assert not crashed.correct and crashed.timed_out
        assert fine.correct and not fine.timed_out


def test_pathological_power_tower_times_out():
    with Grader(timeout=1.0, workers=1) as grader:
        start = time.monotonic()
        verdict = grader.grade("2^{2^{2^{2^{2^{2}}}}}", "3")
        assert time.monotonic() - start < 5
        assert verdict.timed_out and not verdict.correct
        assert grader.timeouts == 1
        assert grader.grade("\\frac{\\sqrt{2}}{2}", "\\frac{1}{\\sqrt{2}}").correct


def test_worker_that_died_while_idle_is_replaced():
    with Grader(timeout=5.0, workers=1) as grader:
        assert grader.grade("a+b", "b+a").correct
        worker = grader._pool.workers[0]
        worker.process.kill()
        worker.process.wait()
        assert grader.grade("c+d", "d+c").correct
