"""Model text is never run as code: answers that are Python payloads go through every path that reads answers
(math_equal, the original rules in-process and through --grader original, --show_answers, the analysis tools)
and none of them runs; each payload would create a marker file."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from simplerl_math_eval.grader import math_equal
from simplerl_math_eval.original import original_equal, original_extract
from simplerl_math_eval.parser import extract_answer
from simplerl_math_eval.python_syntax import Refused, read_python

REPO = Path(__file__).resolve().parents[2]


def payloads(marker_dir: Path) -> list[str]:
    """Model outputs whose answer, run as Python, creates a file in ``marker_dir``."""
    def command(n: int) -> str:
        return f"'touch {marker_dir / f'hit-{n}'}'"

    def spelled(text: str) -> str:  # no quotes at all: every character through chr()
        return "+".join(f"chr({ord(c)})" for c in text)

    return [
        f"\\boxed{{__import__('os').system({command(0)})}}",
        f"So the answer is __import__('os').system({command(1)})",
        f"\\boxed{{(lambda: __import__('os').system({command(2)}))()}}",
        f"\\boxed{{getattr(__import__('os'), 'system')({command(3)})}}",
        f"\\boxed{{(1, __import__('os').system({command(4)}))}}",
        f"Final Answer: The final answer is $__import__('os').system({command(5)})$. I hope it is correct.",
        f"\\boxed{{__import__({spelled('os')}).system({spelled(f'touch {marker_dir}/hit-6')})}}",
        # what escapes a parse_expr with restricted globals: attribute access from a literal to the builtins
        f"\\boxed{{[c for c in ().__class__.__base__.__subclasses__() if c.__name__ == 'catch_warnings'][0]()"
        f"._module.__builtins__['__import__']('os').system({command(7)})}}",
    ]


@pytest.fixture
def marker_dir(tmp_path: Path) -> Path:
    path = tmp_path / "markers"
    path.mkdir()
    return path


def test_the_original_rules_never_run_an_answer(marker_dir):
    for output in payloads(marker_dir):
        answer = original_extract(output)
        assert "system" in answer, answer  # the payload is what the rules compare
        assert not original_equal(answer, "1") and not original_equal("1", answer)
        assert not original_equal(f"x = {answer}", f"y = {answer}")
    assert sorted(os.listdir(marker_dir)) == []


def test_our_grader_never_runs_an_answer(marker_dir):
    for output in payloads(marker_dir):
        for answer in (extract_answer(output, "math"), original_extract(output), output):
            math_equal(answer, "1")  # the verdict does not matter here (the marker path has digits in it)
            math_equal("x", answer)
    assert sorted(os.listdir(marker_dir)) == []


def test_cli_original_grader_and_show_answers_never_run_an_answer(tmp_path, marker_dir):
    outputs = payloads(marker_dir)
    res_dir = tmp_path / "demo"
    res_dir.mkdir()
    rows = [{"idx": j, "answer": "1", "model_output": output} for j, output in enumerate(outputs)]
    (res_dir / "prediction-0.jsonl").write_text("".join(json.dumps(row) + "\n" for row in rows))
    result = subprocess.run(
        [sys.executable, "math_eval_pred.py", "--data_names", "demo", "--k", "1", "--res_dir", str(res_dir),
         "--grader", "original", "--show_answers"],
        cwd=REPO / "simplerl_math_eval", capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert sorted(os.listdir(marker_dir)) == []
    assert json.loads((res_dir / "metrics.json").read_text())["original"]["average"] == 0.0


def test_analysis_behaviours_never_runs_an_answer(tmp_path, marker_dir):
    res_dir = tmp_path / "run"
    res_dir.mkdir()
    rows = [{"idx": j, "model_output": output, "num_tokens": 50} for j, output in enumerate(payloads(marker_dir))]
    (res_dir / "prediction-0.jsonl").write_text("".join(json.dumps(row) + "\n" for row in rows))
    result = subprocess.run([sys.executable, "analysis/behaviours.py", "--res_dirs", str(res_dir),
                             "--out_dir", str(tmp_path / "out")], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert sorted(os.listdir(marker_dir)) == []


@pytest.mark.parametrize("text", ["sqrt(3)/2", "7*sin(pi*x/5)+1", "x**2", "Rational(1, 3)", "S(1)/3", "2j",
                                  "(1, 2)", "x < 2", "f(x)", "ln(2)", "10**-3", "1.25"])
def test_python_syntax_builds_what_parse_expr_builds(text):
    from sympy.parsing.sympy_parser import parse_expr  # safe here: the texts are this test's own constants

    assert read_python(text) == parse_expr(text)


@pytest.mark.parametrize("text", ["__import__('os')", "().__class__", "lambda: 1", "x[0]", "'a'", "sin", "f(x=1)",
                                  "pi(2)", "S('1')", "True", "x if y else z", "[i for i in x]", "x.y", "{1: 2}"])
def test_python_syntax_refuses_what_is_not_mathematics(text):
    with pytest.raises(Refused):
        read_python(text)
