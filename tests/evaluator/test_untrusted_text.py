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


# ---------------------------------------------------------------- nothing a model writes hangs or crashes scoring

DEPTH = 100_000
TEN_MB = 10_000_000
# Responses that made a string rule quadratic (or worse); each is built in the subprocess from its expression.
PATHOLOGICAL = {
    "nested braces in a box": f"'\\\\boxed{{' + '{{' * {DEPTH} + '1' + '}}' * {DEPTH} + '}}'",
    "nested parentheses in a box": f"'\\\\boxed{{' + '(' * {DEPTH} + '1' + ')' * {DEPTH} + '}}'",
    "nested boxes": f"'\\\\boxed{{' * {DEPTH} + '1' + '}}' * {DEPTH}",
    "10 MB of boxes": f"'\\\\boxed{{1}}' * {TEN_MB // 9}",
    "10 MB of text": f"'The value is 3 and we go on. ' * {TEN_MB // 29}",
    "repeated final answer": f"'final answer is ' * {TEN_MB // 16}",
    "unclosed inline math": f"'\\\\(' * {TEN_MB // 2}",
    "unclosed display math": f"'\\\\[' * {TEN_MB // 2}",
    "long whitespace in a box": f"'\\\\boxed{{1' + ' ' * {TEN_MB} + '2}}'",
    "long whitespace after a number": f"'\\\\boxed{{1' + ' ' * {DEPTH} + 'x}}'",
    "trailing units": f"'\\\\boxed{{5' + '\\\\text{{cm}}' * {DEPTH} + '}}'",
    "unclosed roots": f"'\\\\boxed{{' + '\\\\sqrt[' * {DEPTH} + '}}'",
}
SCORE_ONE = """
import sys
from simplerl_math_eval.grader import fast_equal
from simplerl_math_eval.normalize import compact
from simplerl_math_eval.original import original_extract
from simplerl_math_eval.parser import extract_answer
text = eval(sys.argv[1])  # the test's own expression, never model text
for answer in (extract_answer(text, "math"), original_extract(text), text):
    compact(answer), fast_equal(answer, "1"), fast_equal("1", answer)
"""


@pytest.mark.parametrize("name", list(PATHOLOGICAL))
def test_pathological_responses_are_read_in_seconds(name):
    try:
        result = subprocess.run([sys.executable, "-c", SCORE_ONE, PATHOLOGICAL[name]], cwd=REPO,
                                capture_output=True, text=True, timeout=60)
    except subprocess.TimeoutExpired:
        pytest.fail(f"reading {name} took more than 60 s")
    assert result.returncode == 0, result.stderr[-2000:]


def write_results(res_dir: Path, lines: list[bytes]) -> None:
    res_dir.mkdir(parents=True, exist_ok=True)
    (res_dir / "prediction-0.jsonl").write_bytes(b"".join(line + b"\n" for line in lines))


def run_cli(res_dir: Path, *flags: str, timeout: float = 300) -> subprocess.CompletedProcess:
    lines = (res_dir / "prediction-0.jsonl").read_bytes().count(b"\n")
    return subprocess.run([sys.executable, "math_eval_pred.py", "--data_names", "demo", "--k", "1",
                           "--num_questions", str(lines), "--res_dir", str(res_dir), *flags],
                          cwd=REPO / "simplerl_math_eval", capture_output=True, timeout=timeout)


def test_show_answers_on_deep_and_huge_responses_finishes(tmp_path):
    outputs = ["\\boxed{" + "{" * 50_000 + "1" + "}" * 50_000 + "}", "\\boxed{1}" * 1_000_000,
               "\\boxed{" * 50_000 + "1" + "}" * 50_000, "\\boxed{1}"]
    write_results(tmp_path / "demo", [json.dumps({"idx": j, "answer": "1", "model_output": o}).encode()
                                      for j, o in enumerate(outputs)])
    try:
        result = run_cli(tmp_path / "demo", "--show_answers", "--timeout", "2", timeout=240)
    except subprocess.TimeoutExpired:
        pytest.fail("--show_answers took more than 240 s")
    assert result.returncode == 0, result.stderr[-2000:]
    assert json.loads((tmp_path / "demo" / "metrics.json").read_text())["num_problems"] == 4


@pytest.mark.parametrize(("line", "problem"), [
    (b'{"idx": 1, "answer": "1", "model_output": null}', "'model_output' that is null"),
    (b'{"idx": 1, "answer": "1", "model_output": 12}', "'model_output' that is int"),
    (b'{"idx": 1, "answer": "1", "model_output": "\\\\boxed{1} \xff\xfe"}', "not UTF-8"),
])
def test_a_bad_model_output_is_one_line_naming_file_and_line(tmp_path, line, problem):
    good = json.dumps({"idx": 0, "answer": "1", "model_output": "\\boxed{1}"}).encode()
    write_results(tmp_path / "demo", [good, line])
    result = run_cli(tmp_path / "demo")
    stderr = result.stderr.decode()
    assert result.returncode == 2 and len(stderr.strip().splitlines()) == 1, stderr
    assert stderr.startswith("error: ") and "prediction-0.jsonl: line 2" in stderr and problem in stderr, stderr
    assert sorted(p.name for p in (tmp_path / "demo").iterdir()) == ["prediction-0.jsonl"]


def test_show_answers_prints_control_characters_escaped(tmp_path):
    output = "\\boxed{7\x1b[2J\x1b]0;owned\x07\u202e}"
    write_results(tmp_path / "demo", [json.dumps({"idx": 0, "answer": "1", "model_output": output}).encode()])
    result = run_cli(tmp_path / "demo", "--show_answers")
    assert result.returncode == 0, result.stderr[-2000:]
    stdout = result.stdout.decode()
    assert "\x1b" not in stdout and "\x07" not in stdout and "\u202e" not in stdout
    assert "7\\x1b[2J\\x1b]0;owned\\x07\\u202e x" in stdout
