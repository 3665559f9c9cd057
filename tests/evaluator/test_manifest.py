"""math_eval_pred.py --manifest: it scores exactly the results directories run.py listed (no name is rebuilt)."""

import json
import subprocess
import sys
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parents[2] / "simplerl_math_eval"


def write_results(directory: Path, outputs: list[str]) -> None:
    directory.mkdir(parents=True)
    rows = [{"idx": i, "question": f"q{i}", "model_output": output, "answer": str(i)}
            for i, output in enumerate(outputs)]
    (directory / "prediction-0.jsonl").write_text("".join(json.dumps(row) + "\n" for row in rows))


def evaluate(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "math_eval_pred.py", "--data_names", "demo", "--k", "1",
                           "--num_questions", "3", *args], cwd=PACKAGE_DIR, capture_output=True, text=True, timeout=300)


def test_the_directories_of_a_manifest_are_scored(tmp_path):
    right, wrong, stale = tmp_path / "a_alpha1_0.5", tmp_path / "b", tmp_path / "a"
    write_results(right, ["\\boxed{0}", "\\boxed{1}", "\\boxed{2}"])
    write_results(wrong, ["\\boxed{9}", "\\boxed{1}", "\\boxed{9}"])
    write_results(stale, ["\\boxed{9}", "\\boxed{9}", "\\boxed{9}"])
    manifest = tmp_path / "manifest.txt"
    manifest.write_text(f"{right}\n{wrong}\n")
    result = evaluate("--manifest", str(manifest))
    assert result.returncode == 0, result.stderr[-2000:]
    scores = {d: json.loads((d / "metrics.json").read_text())["average"] for d in (right, wrong)}
    assert scores == {right: 1.0, wrong: 1 / 3}
    grading = json.loads((right / "metrics.json").read_text())["grading"]  # what decided the numbers
    assert grading["timeout_s"] > 0 and {"math-verify", "sympy", "simplerl-math-eval"} <= set(grading["versions"])
    assert not (stale / "metrics.json").exists()


def test_a_missing_manifest_is_one_line(tmp_path):
    result = evaluate("--manifest", str(tmp_path / "nowhere.txt"))
    assert result.returncode == 2 and "nowhere.txt" in result.stderr.strip().splitlines()[-1]
