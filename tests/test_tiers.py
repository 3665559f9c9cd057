"""The fast tier: tests that start an engine are marked ``engine`` by tests/conftest.py, whoever wrote them."""

import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
ENGINE = ["tests/engine/test_one_pair.py::test_alpha_changes_the_tokens",  # a module fixture calling RastLLM
          "tests/engine/test_base_alone.py::test_plain_vllm_equals_transformers",  # vllm.LLM in a fixture
          "tests/serve/test_server.py::test_models_endpoint",  # a live server through serve_helpers
          "tests/run/test_run_script.py::test_demo_alpha_sweep_writes_one_directory_per_alpha",  # run.py subprocess
          "tests/lm_eval/test_vllm_model.py::test_vllm_model_with_hf_overrides_is_rast"]  # vllm_route.py subprocess
FAST = ["tests/engine/test_bad_input.py::test_missing_model_path",  # RastLLM inside pytest.raises
        "tests/serve/test_serve_cli.py::test_dry_run_builds_vllm_command",  # rast serve --dry-run
        "tests/registry/test_launch_scripts.py::test_variants",  # names run.py only in assertions
        "tests/test_offline.py::test_rast_llm"]


# one collection in a fresh process, printing each test's tier
COLLECT = """
import sys
import pytest

class Tiers:
    def pytest_collection_finish(self, session):
        for item in session.items:
            print("TIER", item.nodeid.split("[")[0], "engine" if item.get_closest_marker("engine") else "fast")

sys.exit(pytest.main(["--collect-only", "-q", "-p", "no:cacheprovider", *sys.argv[1:]], plugins=[Tiers()]))
"""


def test_engine_tests_are_marked_and_the_others_are_not():
    files = sorted({test.split("::")[0] for test in ENGINE + FAST})
    done = subprocess.run([sys.executable, "-c", COLLECT, *files], cwd=REPO_ROOT, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    tiers = {}
    for line in done.stdout.splitlines():
        if line.startswith("TIER "):
            _, test, tier = line.split()
            tiers.setdefault(test, set()).add(tier)
    assert {test: tiers.get(test) for test in ENGINE} == {test: {"engine"} for test in ENGINE}
    assert {test: tiers.get(test) for test in FAST} == {test: {"fast"} for test in FAST}
