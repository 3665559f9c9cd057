"""Settings shared by every test: offline, small CPU KV cache, one tiny-model cache per machine; and the two tiers.

Every test that starts a vLLM engine (40-60 s each on 2 CPU cores) is marked ``engine``, found by reading the code it
runs: the test function, the fixtures it uses (directly or through other fixtures) and the functions, classes and
constants of tests/ they refer to, transitively. It starts an engine when that code calls ``RastLLM``, ``LLM`` or
``AsyncLLM`` outside ``pytest.raises`` (a call expected to fail starts nothing), starts a live server
(``serve_helpers.Server``) or names a script that starts one (``run.py``, ``vllm_route.py``) outside an ``assert``.
The fast tier is ``pytest -m "not engine"`` (``bash scripts/test.sh --fast``); an engine start this reading cannot
see can be marked by hand with ``@pytest.mark.engine``.
"""

import ast
import inspect
import os
import textwrap
from collections.abc import Callable
from functools import cache
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("VLLM_CPU_KVCACHE_SPACE", "1")
os.environ.setdefault("VLLM_CPU_OMP_THREADS_BIND", "1")

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_BENCHMARKS = REPO_ROOT.parent / "shared" / "benchmarks"
TESTS_DIR = Path(__file__).resolve().parent

ENGINE_CALLS = {"RastLLM", "LLM", "AsyncLLM", "Server"}  # vLLM's engines, RAST's, a live `rast serve` (serve_helpers)
ENGINE_SCRIPTS = ("RAST_decode/run.py", "vllm_route.py")  # scripts that start an engine when run


@pytest.fixture(scope="session")
def tiny_models() -> dict[str, str]:
    """Paths of the tiny checkpoints (built once per machine, then cached)."""
    from rast.tiny_models import tiny_model_paths

    return tiny_model_paths()


@pytest.fixture(scope="session")
def shared_benchmarks() -> Path:
    """The real test sets beside the repository (../shared/benchmarks)."""
    if not SHARED_BENCHMARKS.is_dir():
        pytest.skip(f"{SHARED_BENCHMARKS} is not there")
    return SHARED_BENCHMARKS


def _in_tests(code: object) -> bool:
    try:
        return Path(inspect.getsourcefile(code) or "").resolve().is_relative_to(TESTS_DIR)
    except TypeError:  # built-ins have no source file
        return False


def _names_engine_script(value: object) -> bool:
    return isinstance(value, (str, os.PathLike)) and any(s in os.fspath(value) for s in ENGINE_SCRIPTS)


def _expects_failure(node: ast.AST) -> bool:
    """``with pytest.raises(...)``: the calls inside are expected to fail before any engine starts."""
    return isinstance(node, ast.With) and any(
        isinstance(item.context_expr, ast.Call) and isinstance(item.context_expr.func, ast.Attribute)
        and item.context_expr.func.attr == "raises" for item in node.items)


@cache
def _reading(code: Callable | type) -> tuple[bool, tuple[Callable | type, ...]]:
    """Whether ``code`` itself starts an engine, and the functions and classes of tests/ it refers to."""
    code = inspect.unwrap(code)
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(code)))
    except (OSError, TypeError, SyntaxError):
        return False, ()
    scope = getattr(code, "__globals__", None) or vars(inspect.getmodule(code) or object)
    pending, referred = [tree], []
    while pending:
        node = pending.pop()
        if _expects_failure(node) or isinstance(node, ast.Assert):  # an assertion only reads what ran
            continue
        if isinstance(node, ast.Call):
            if (getattr(node.func, "id", None) or getattr(node.func, "attr", None)) in ENGINE_CALLS:
                return True, ()
        elif isinstance(node, ast.Constant) and _names_engine_script(node.value):
            return True, ()
        elif isinstance(node, ast.Name) and node.id in scope:
            value = scope[node.id]
            if _names_engine_script(value):
                return True, ()
            value = inspect.unwrap(value) if callable(value) else value
            if (inspect.isfunction(value) or inspect.isclass(value)) and _in_tests(value):
                referred.append(value)
        pending.extend(ast.iter_child_nodes(node))
    return False, tuple(referred)


def starts_engine(roots: list[Callable | type]) -> bool:
    """Whether any of ``roots`` (test functions, fixtures) or the code of tests/ they reach starts an engine."""
    seen, pending = set(), list(roots)
    while pending:
        code = pending.pop()
        if code in seen:
            continue
        seen.add(code)
        direct, referred = _reading(code)
        if direct:
            return True
        pending.extend(referred)
    return False


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test that starts an engine ``engine`` (the fast tier deselects them with ``-m "not engine"``)."""
    for item in items:
        fixtures = [definition.func for definitions in getattr(item, "_fixtureinfo").name2fixturedefs.values()
                    for definition in definitions if _in_tests(definition.func)]
        roots = [code for code in (getattr(item, "function", None), *fixtures) if code is not None]
        if item.get_closest_marker("engine") is None and starts_engine(roots):
            item.add_marker(pytest.mark.engine)
