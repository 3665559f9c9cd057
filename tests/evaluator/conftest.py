"""Shared fixtures for the evaluator tests."""

import pytest

from simplerl_math_eval.grader import Grader


@pytest.fixture(scope="session")
def grader():
    """One grader (and worker pool) for the whole session."""
    with Grader(timeout=10.0) as g:
        yield g
