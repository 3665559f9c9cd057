"""math_eval_pred.py run as a subprocess from inside simplerl_math_eval/, as in the original project."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE_DIR = Path(__file__).resolve().parents[2] / "simplerl_math_eval"
RECORDS = [
    {"question": "2+2?", "answer": "Two and two.\n#### 4"},
    {"question": "Half of 1?", "answer": "Half.\n#### 0.5"},
    {"question": "Big?", "answer": "Thousands.\n#### 1,200"},
]
# outputs[run][problem]
OUTPUTS = [
    ["so the answer is $\\boxed{4}$.", "The answer is \\boxed{\\frac{1}{2}}.", "\\boxed{1200}"],
    ["\\boxed{5}", "so \\boxed{0.5}", "we get 1,200 in total"],
    ["\\boxed{4.0}", "\\boxed{2}", "\\boxed{12}"],
    ["\\boxed{5}", "\\boxed{2}", "\\boxed{1,300}"],
]


def write_jsonl(path: Path, rows: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))


@pytest.fixture
def setup(tmp_path: Path) -> tuple[Path, Path]:
    data_dir = tmp_path / "data"
    write_jsonl(data_dir / "gsm8k" / "test.jsonl", RECORDS)
    res_dir = tmp_path / "results"
    for run, outputs in enumerate(OUTPUTS):
        write_jsonl(res_dir / f"prediction-{run}.jsonl",
                    [{"idx": j, "question": r["question"], "model_output": o}
                     for j, (r, o) in enumerate(zip(RECORDS, outputs))])
    return data_dir, res_dir


def run_cli(*args: str) -> subprocess.CompletedProcess:
    # the registry warns that the 3-record test benchmark is not the real gsm8k size
    env = {**os.environ, "PYTHONWARNINGS": "ignore::UserWarning"}
    return subprocess.run([sys.executable, "math_eval_pred.py", *args], cwd=PACKAGE_DIR,
                          capture_output=True, text=True, timeout=120, env=env)


def test_pass_mode_table_metrics_and_verdicts(setup):
    data_dir, res_dir = setup
    result = run_cli("--data_names", "GSM8K", "--k", "4", "--evaluation_mode", "pass",
                     "--res_dir", str(res_dir), "--data_dir", str(data_dir))
    assert result.returncode == 0, result.stderr
    assert "pass@1" in result.stdout and "pass@4" in result.stdout
    metrics = json.loads((res_dir / "metrics.json").read_text())
    # correct counts per problem: 2, 2, 2 of 4 -> pass@1 = 0.5, pass@2 = 5/6, pass@4 = 1
    assert metrics["pass@k"]["1"] == pytest.approx(0.5)
    assert metrics["pass@k"]["2"] == pytest.approx(5 / 6)
    assert metrics["pass@k"]["4"] == pytest.approx(1.0)
    assert metrics["average"] == pytest.approx(0.5)
    assert metrics["timeouts"] == 0
    verdicts = [json.loads(line) for line in (res_dir / "verdicts.jsonl").read_text().splitlines()]
    assert len(verdicts) == 12
    assert verdicts[0] == {"idx": 0, "run": 0, "prediction": "4", "gold": "4", "correct": True, "timed_out": False}


def test_majority_mode_and_several_res_dirs(setup, tmp_path):
    data_dir, res_dir = setup
    second = tmp_path / "second"
    for run in range(4):
        rows = [{"question": r["question"], "model_output": "\\boxed{4}"} for r in RECORDS]
        write_jsonl(second / f"prediction-{run}.jsonl", rows)
    result = run_cli("--data_names", "gsm8k", "--k", "4", "--evaluation_mode", "majority",
                     "--res_dir", str(res_dir), str(second), "--data_dir", str(data_dir))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 4 and "maj@4" in lines[0]
    first_metrics = json.loads((res_dir / "metrics.json").read_text())
    # problem 0: 4,5,4.0,5 -> tie, 4 seen first (correct); problem 1: 1/2,0.5,2,2 -> tie, 1/2 first
    # (correct); problem 2: 1200,1200,12,1300 -> 1200 (correct)
    assert first_metrics["maj@k"]["4"] == pytest.approx(1.0)
    second_metrics = json.loads((second / "metrics.json").read_text())
    assert second_metrics["maj@k"]["4"] == pytest.approx(1 / 3)


def test_num_questions_and_legacy(setup):
    data_dir, res_dir = setup
    result = run_cli("--data_names", "gsm8k", "--k", "4", "--num_questions", "2", "--legacy_pass_at_k",
                     "--seed", "3", "--res_dir", str(res_dir), "--data_dir", str(data_dir))
    assert result.returncode == 0, result.stderr
    metrics = json.loads((res_dir / "metrics.json").read_text())
    assert metrics["num_problems"] == 2 and metrics["legacy_seed"] == 3
    assert "legacy pass@1" in result.stdout


def assert_one_line_error(result: subprocess.CompletedProcess, *fragments: str) -> None:
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


def test_missing_prediction_files(setup):
    data_dir, res_dir = setup
    result = run_cli("--data_names", "gsm8k", "--k", "32", "--res_dir", str(res_dir), "--data_dir", str(data_dir))
    assert_one_line_error(result, "prediction-4.jsonl", "--k 32", "4 present")


def test_extra_prediction_files(setup):
    data_dir, res_dir = setup
    result = run_cli("--data_names", "gsm8k", "--k", "2", "--res_dir", str(res_dir), "--data_dir", str(data_dir))
    assert_one_line_error(result, "prediction-2.jsonl", "--k 4")


def test_wrong_line_count(setup):
    data_dir, res_dir = setup
    path = res_dir / "prediction-1.jsonl"
    path.write_text("".join(path.read_text().splitlines(keepends=True)[:2]))
    result = run_cli("--data_names", "gsm8k", "--k", "4", "--res_dir", str(res_dir), "--data_dir", str(data_dir))
    assert_one_line_error(result, "prediction-1.jsonl", "2 lines", "3 problems")


def test_malformed_json_line(setup):
    data_dir, res_dir = setup
    path = res_dir / "prediction-2.jsonl"
    lines = path.read_text().splitlines(keepends=True)
    path.write_text(lines[0] + '{"model_output": "oops\n' + lines[2])
    result = run_cli("--data_names", "gsm8k", "--k", "4", "--res_dir", str(res_dir), "--data_dir", str(data_dir))
    assert_one_line_error(result, "prediction-2.jsonl", "line 2")


def test_unknown_dataset(setup):
    data_dir, res_dir = setup
    result = run_cli("--data_names", "nosuchbench", "--k", "4", "--res_dir", str(res_dir), "--data_dir", str(data_dir))
    assert_one_line_error(result, "nosuchbench")


def test_missing_results_directory(setup, tmp_path):
    data_dir, _ = setup
    result = run_cli("--data_names", "gsm8k", "--k", "4", "--res_dir", str(tmp_path / "nope"),
                     "--data_dir", str(data_dir))
    assert_one_line_error(result, "nope", "does not exist")


def test_help():
    result = run_cli("--help")
    assert result.returncode == 0 and "--evaluation_mode" in result.stdout


def test_show_answers_lists_gold_and_each_runs_answer(setup):
    data_dir, res_dir = setup
    result = run_cli("--data_names", "gsm8k", "--k", "4", "--res_dir", str(res_dir), "--data_dir", str(data_dir),
                     "--show_answers")
    assert result.returncode == 0, result.stderr
    assert "[0] gold '4': 4 | 5 x | 4.0 | 5 x" in result.stdout


def test_gold_answers_in_the_lines_need_no_benchmark_download(tmp_path):
    res_dir = tmp_path / "aime"
    rows = [{"idx": j, "answer": str(j), "model_output": f"so \\boxed{{{j}}}"} for j in range(30)]
    write_jsonl(res_dir / "prediction-0.jsonl", rows)
    env = {k: v for k, v in os.environ.items() if k != "RAST_DATA_DIR"}
    env.update(HF_DATASETS_OFFLINE="1", HF_HUB_OFFLINE="1", HF_HOME=str(tmp_path / "empty_hf_home"))
    result = subprocess.run([sys.executable, "math_eval_pred.py", "--data_names", "aime24", "--k", "1",
                             "--res_dir", str(res_dir)], cwd=PACKAGE_DIR, capture_output=True, text=True,
                            timeout=120, env=env)
    assert result.returncode == 0, result.stderr[-2000:]
    metrics = json.loads((res_dir / "metrics.json").read_text())
    assert metrics["num_problems"] == 30 and metrics["average"] == 1.0


def test_num_questions_beyond_the_benchmark_warns(tmp_path):
    res_dir = tmp_path / "demo"
    write_jsonl(res_dir / "prediction-0.jsonl", [{"idx": j, "model_output": "\\boxed{1}"} for j in range(8)])
    result = run_cli("--data_names", "demo", "--k", "1", "--num_questions", "20", "--res_dir", str(res_dir))
    assert result.returncode == 0, result.stderr
    warnings = [line for line in result.stderr.splitlines() if line.startswith("warning:")]
    assert warnings == ["warning: --num_questions 20 but demo has 8 problems; grading all 8"]
    assert json.loads((res_dir / "metrics.json").read_text())["num_problems"] == 8


def test_original_grader_side_by_side_with_disagreements(setup):
    data_dir, res_dir = setup
    result = run_cli("--data_names", "gsm8k", "--k", "4", "--res_dir", str(res_dir), "--data_dir", str(data_dir),
                     "--grader", "original")
    assert result.returncode == 0, result.stderr
    assert f"{res_dir} [original]" in result.stdout
    # the original rules also take the gold /100: \boxed{12} for 1200 is right for them (run 2, problem 2)
    assert f"{res_dir}: ours and the original rules disagree on 1 of 12 samples (8.3%)" in result.stdout
    metrics = json.loads((res_dir / "metrics.json").read_text())
    assert metrics["average"] == pytest.approx(6 / 12)
    assert metrics["original"]["average"] == pytest.approx(7 / 12)
    assert metrics["grader_disagreement"] == {"count": 1, "share": pytest.approx(1 / 12)}
    rows = [json.loads(line) for line in (res_dir / "grader_disagreements.jsonl").read_text().splitlines()]
    assert rows == [{"idx": 2, "run": 2, "gold": "1200", "prediction": "12", "correct": False,
                     "original_prediction": "12", "original_correct": True}]


def test_show_answers_writes_extraction_disagreements(setup):
    data_dir, res_dir = setup
    result = run_cli("--data_names", "gsm8k", "--k", "4", "--res_dir", str(res_dir), "--data_dir", str(data_dir),
                     "--show_answers")
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in (res_dir / "extraction_disagreements.jsonl").read_text().splitlines()]
    assert f"extractions (ours, original, math-verify) differ on {len(rows)} of 12 samples" in result.stdout
    by_sample = {(r["idx"], r["run"]): r for r in rows}
    # "we get 1,200 in total": ours keeps the number as written, the original drops commas
    assert by_sample[(2, 1)]["ours"] == "1,200" and by_sample[(2, 1)]["original"] == "1200"
    assert (0, 2) not in by_sample  # \boxed{4.0}: all three read 4.0


def write_setting(res_dir: Path, correct: list[list[bool]], dataset: str | None = None) -> Path:
    """A results directory over RECORDS (golds 4, 0.5, 1200): correct[problem][run] picks a right or wrong box."""
    golds, wrong = ["4", "0.5", "1200"], ["5", "2", "13"]
    for run in range(len(correct[0])):
        write_jsonl(res_dir / f"prediction-{run}.jsonl",
                    [{"idx": j, "model_output": f"\\boxed{{{(golds if c[run] else wrong)[j]}}}"}
                     for j, c in enumerate(correct)])
    if dataset:
        (res_dir / "run_config.json").write_text(json.dumps({"settings": {"dataset": dataset}}))
    return res_dir


BASE = [[True, True], [False, False], [False, False]]  # average 2/6, pass@2 1/3
RL = [[True, True], [True, True], [True, False]]  # average 5/6, pass@2 1
RAST = [[True, True], [True, False], [True, False]]  # average 4/6, pass@2 1


def test_recovery_rate_by_hand(setup, tmp_path):
    data_dir, _ = setup
    base, rl = write_setting(tmp_path / "base", BASE, "gsm8k"), write_setting(tmp_path / "rl", RL)
    rast = write_setting(tmp_path / "rast", RAST)
    result = run_cli("--data_names", "gsm8k", "--k", "2", "--data_dir", str(data_dir), "--res_dir", str(rast),
                     "--base_dir", str(base), "--rl_dir", str(rl))
    assert result.returncode == 0, result.stderr
    rates = json.loads((rast / "metrics.json").read_text())["recovery_rate"]
    # (4/6 - 2/6) / (5/6 - 2/6) = 2/3 for the average and pass@1; pass@2: (1 - 1/3) / (1 - 1/3) = 1
    assert rates["average"] == pytest.approx(2 / 3) and rates["pass@k"]["1"] == pytest.approx(2 / 3)
    assert rates["pass@k"]["2"] == pytest.approx(1.0)
    assert rates["base_dir"] == str(base) and rates["rl_dir"] == str(rl)
    line = next(line for line in result.stdout.splitlines() if line.startswith(f"{rast} (gsm8k)"))
    assert line.split()[2:] == ["66.7%", "66.7%", "100.0%"]


def test_recovery_rate_undefined_when_rl_equals_base(setup, tmp_path):
    data_dir, _ = setup
    base, rl = write_setting(tmp_path / "base", BASE), write_setting(tmp_path / "rl", BASE)
    rast = write_setting(tmp_path / "rast", RAST)
    result = run_cli("--data_names", "gsm8k", "--k", "2", "--data_dir", str(data_dir), "--res_dir", str(rast),
                     "--base_dir", str(base), "--rl_dir", str(rl))
    assert result.returncode == 0, result.stderr
    rates = json.loads((rast / "metrics.json").read_text())["recovery_rate"]
    assert rates["average"] is None and rates["pass@k"] == {"1": None, "2": None}
    row = next(line for line in result.stdout.splitlines() if line.startswith(f"{rast} (gsm8k)"))
    assert row.split()[2:] == ["n/a"] * 3


def test_recovery_rate_mean_over_benchmarks(setup, tmp_path):
    data_dir, _ = setup
    write_jsonl(data_dir / "amc23" / "test.jsonl", [{"question": "?", "answer": a} for a in ("4", "0.5", "1200")])
    dirs = {}
    for bench in ("gsm8k", "amc23"):
        for role, table in (("base", BASE), ("rl", RL), ("rast", RAST if bench == "gsm8k" else RL)):
            dirs[bench, role] = str(write_setting(tmp_path / bench / role, table))
    result = run_cli("--data_names", "gsm8k,amc23", "--k", "2", "--data_dir", str(data_dir),
                     "--res_dir", dirs["gsm8k", "rast"], dirs["amc23", "rast"],
                     "--base_dir", dirs["gsm8k", "base"], dirs["amc23", "base"],
                     "--rl_dir", dirs["gsm8k", "rl"], dirs["amc23", "rl"])
    assert result.returncode == 0, result.stderr
    mean = json.loads(Path(dirs["amc23", "rast"], "metrics.json").read_text())["recovery_rate_mean"]
    assert mean["average"] == pytest.approx((2 / 3 + 1) / 2)  # gsm8k 2/3, amc23 1 (RAST = RL)
    assert "mean over benchmarks" in result.stdout


def test_recovery_rate_directory_errors(setup, tmp_path):
    data_dir, _ = setup
    rast, rl = write_setting(tmp_path / "rast", RAST), write_setting(tmp_path / "rl", RL)
    common = ["--data_names", "gsm8k", "--k", "2", "--data_dir", str(data_dir), "--res_dir", str(rast)]
    missing = run_cli(*common, "--base_dir", str(tmp_path / "nope"), "--rl_dir", str(rl))
    assert_one_line_error(missing, "--base_dir", "nope", "does not exist")
    other = write_setting(tmp_path / "math_base", BASE, "math500")
    wrong_benchmark = run_cli(*common, "--base_dir", str(other), "--rl_dir", str(rl))
    assert_one_line_error(wrong_benchmark, "--base_dir", "math500", "gsm8k")
    write_jsonl(tmp_path / "short" / "prediction-0.jsonl", [{"model_output": "1"}])
    write_jsonl(tmp_path / "short" / "prediction-1.jsonl", [{"model_output": "1"}])
    short = run_cli(*common, "--base_dir", str(tmp_path / "short"), "--rl_dir", str(rl))
    assert_one_line_error(short, "short", "1 lines", "gsm8k")
    unpaired = run_cli(*common, "--base_dir", str(rast))
    assert_one_line_error(unpaired, "--rl_dir has 0 directories for 1 benchmarks")
