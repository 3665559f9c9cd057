"""``rast check``, the check users run on their own machine: its CPU form, its mismatch report, its bad input."""

import json
import subprocess
import sys

import pytest

from rast.check import ALPHAS, PROMPTS, compare_tokens, prompt_ids, reference

CHECK = [sys.executable, "-m", "rast.cli", "check"]


@pytest.mark.engine  # `rast check` starts its engines in a subprocess
def test_rast_check_passes_on_this_machine_and_writes_its_report(tmp_path):
    report_path = tmp_path / "report.json"
    done = subprocess.run([*CHECK, "--json", str(report_path)], capture_output=True, text=True, timeout=1800)
    lines = done.stdout.strip().splitlines()
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert lines[-2].startswith("rast check: PASS: float32 greedy tokens equal the reference")
    report = json.loads(report_path.read_text())
    assert report["passed"] is True
    assert [(c["run"], c["alpha"]) for c in report["float32"]] == [
        (run, alpha) for run in ("default settings", "enforce_eager") for alpha in ALPHAS]
    assert all(c["equal"] == c["sequences"] == len(PROMPTS) for c in report["float32"])
    assert report["per_request_alpha"] and all(c["equal"] == c["sequences"] for c in report["per_request_alpha"])
    assert len(report["bfloat16"]) == 1 and report["bfloat16"][0]["run"].startswith("bfloat16, float32 head")


def test_a_mismatch_names_the_first_diverging_token_and_both_margins(tiny_models):
    prompts = prompt_ids(tiny_models["base"])[:2]
    expected = reference(tiny_models, 1.0).generate(prompts, 6)
    wrong = [expected[0], expected[1][:3] + [(expected[1][3] + 1) % 500] + expected[1][4:]]
    margins = [[1.0] * 6, [0.5] * 6]
    comparison = compare_tokens("test", 1.0, prompts, wrong, margins, expected, tiny_models)
    assert (comparison.equal, comparison.sequences, comparison.tokens_before_first_difference) == (1, 2, 9)
    (divergence,) = comparison.divergences
    assert (divergence.sequence, divergence.position) == (1, 3)
    assert (divergence.engine_token, divergence.reference_token) == (wrong[1][3], expected[1][3])
    assert divergence.engine_margin == 0.5 and divergence.reference_margin > 0


@pytest.mark.parametrize("args, message", [
    (["--tensor-parallel-size", "0"], "--tensor-parallel-size must be at least 1"),
    (["--json", "/nonexistent-folder/report.json"], "folder /nonexistent-folder does not exist"),
    (["--no-such-flag"], "unrecognized arguments"),
])
def test_bad_arguments_are_one_line_and_exit_2_before_any_model_work(args, message):
    done = subprocess.run([*CHECK, *args], capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and message in done.stderr
