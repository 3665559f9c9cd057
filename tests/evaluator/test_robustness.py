"""Grading never hangs the caller, and gives serial verdicts from threads and multiprocessing workers."""

import multiprocessing
import os
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from simplerl_math_eval.grader import Grader, math_equal

TIMEOUT = 2.0
MARGIN = 6.0  # seconds on top of the timeout for a loaded 2-core machine

# Inputs whose exact arithmetic or normalisation used to run in the calling process without a limit.
PATHOLOGICAL = [
    ("1e999999999", "1"),
    ("10^{999999999}", "1"),
    ("2\\times10^{999999999}", "2"),
    ("10^{10000000}", "1"),
    ("{" * 50000 + "1" + "}" * 50000, "1"),
]

# Pairs only sympy decides (the fast path returns None for each), with their verdicts.
SYMBOLIC = [(f"x^{i}+{i}", f"{i}+x^{i}", True) for i in range(60)] + [
    (f"x^{i}+{i}", f"{i + 1}+x^{i}", False) for i in range(60)
]


@pytest.fixture(scope="module")
def small_grader():
    with Grader(timeout=TIMEOUT, workers=1) as grader:
        grader.grade("a+b", "b+a")  # start the worker outside the timed calls
        yield grader


def grade_within(grader: Grader, pair: tuple[object, object], seconds: float):
    """The verdict, asserting it came within ``seconds`` (the call runs in a daemon thread)."""
    result = []
    thread = threading.Thread(target=lambda: result.append(grader.grade(*pair)), daemon=True)
    thread.start()
    thread.join(seconds)
    assert result, f"grading {str(pair)[:60]} took more than {seconds} s"
    return result[0]


@pytest.mark.parametrize("pair", PATHOLOGICAL, ids=lambda p: p[0][:20])
def test_pathological_inputs_return_within_the_timeout(small_grader, pair):
    verdict = grade_within(small_grader, pair, TIMEOUT + MARGIN)
    assert not verdict.correct


def test_long_decimal_against_a_fraction_is_graded(small_grader):
    verdict = grade_within(small_grader, ("0." + "3" * 5000, "\\frac{1}{3}"), TIMEOUT + MARGIN)
    assert not verdict.timed_out


def test_missing_or_non_string_answers_get_a_verdict(small_grader):
    assert not small_grader.grade(None, "1").correct
    assert not small_grader.grade("1", None).correct
    assert small_grader.grade(3, "3.0").correct


def test_threads_sharing_a_grader_get_serial_verdicts():
    with Grader(timeout=20.0, workers=2) as grader:
        with ThreadPoolExecutor(8) as pool:
            verdicts = list(pool.map(lambda case: grader.grade(case[0], case[1]), SYMBOLIC))
        assert [v.correct for v in verdicts] == [expected for _, _, expected in SYMBOLIC]
        assert grader.timeouts == 0


def _pool_task(case: tuple[str, str, bool]) -> bool:
    return math_equal(case[0], case[1], timeout=20.0)


def test_math_equal_inside_a_multiprocessing_pool():
    cases = SYMBOLIC[:3] + SYMBOLIC[-3:]
    math_equal("c+d", "d+c", timeout=20.0)  # a grader started before the fork is not shared with the children
    with multiprocessing.get_context("fork").Pool(2) as pool:
        verdicts = pool.map(_pool_task, cases)
    assert verdicts == [expected for _, _, expected in cases]


STARTER = """
import time
from simplerl_math_eval.grader import Grader
grader = Grader(timeout=30.0, workers=2)
grader.grade("x+1", "1+x")
print(" ".join(str(w.process.pid) for w in grader._pool.workers), flush=True)
time.sleep(600)
"""


def test_workers_exit_when_their_parent_is_killed():
    parent = subprocess.Popen([sys.executable, "-c", STARTER], stdout=subprocess.PIPE, text=True)
    workers = [int(pid) for pid in parent.stdout.readline().split()]
    assert len(workers) == 2
    parent.send_signal(signal.SIGKILL)
    parent.wait()
    deadline = time.monotonic() + 5
    alive = workers
    while alive and time.monotonic() < deadline:
        time.sleep(0.2)
        alive = [pid for pid in workers if os.path.exists(f"/proc/{pid}") and _state(pid) != "Z"]
    for pid in alive:  # do not leave them behind when the test fails
        os.kill(pid, signal.SIGKILL)
    assert not alive, f"workers {alive} outlived their parent"


def _state(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0]
    except OSError:
        return "Z"
