"""``vllm/tests/RAST_decode/run.py`` end to end on the tiny models, as a user runs it: a subprocess from inside vllm/.

Four engine starts in all: the demo alpha sweep (the reference), an interrupted copy of it, its resumption, and a
three-problem slice of MATH-500 with the base model alone.
"""

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
VLLM_DIR = REPO_ROOT / "vllm"
RUN_SCRIPT = "tests/RAST_decode/run.py"
ENGINE = ["--dtype", "float32", "--enforce_eager"]
# Long enough samples and one problem per engine call, so a run can be stopped part way.
DEMO_SWEEP = ["--num_runs", "2", "--max_tokens", "200", "--chunk_size", "1", "--cd_decoding_alpha", "0", "1",
              "--max_model_len", "512", *ENGINE]
DEMO_DIRS = ["base_positive_alpha_0.0_temp_1.0", "base_positive_alpha_1.0_temp_1.0"]
FIELDS = {"idx", "question", "model_output", "answer", "num_tokens", "finish_reason"}


def command(*args: str) -> list[str]:
    return [sys.executable, RUN_SCRIPT, *args]


def run_script(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run(command(*args), cwd=VLLM_DIR, capture_output=True, text=True, timeout=timeout)


def read_lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def golds(dataset: str, data_dir: Path | None, limit: int | None = None) -> list[str]:
    from rast_benchmarks import load_benchmark
    from simplerl_math_eval.parser import parse_ground_truth

    return [parse_ground_truth(record, dataset) for record in load_benchmark(dataset, data_dir)[:limit]]


def check_results(directory: Path, num_runs: int, answers: list[str], max_tokens: int) -> None:
    """Every run's file: one line per problem in order, the right fields and gold answers."""
    assert {p.name for p in directory.glob("prediction-*.jsonl")} == {f"prediction-{i}.jsonl" for i in range(num_runs)}
    for run in range(num_runs):
        rows = read_lines(directory / f"prediction-{run}.jsonl")
        assert [row["idx"] for row in rows] == list(range(len(answers)))
        assert [row["answer"] for row in rows] == answers
        for row in rows:
            assert set(row) == FIELDS
            assert 1 <= row["num_tokens"] <= max_tokens and row["finish_reason"] in ("stop", "length")
            assert row["question"] and isinstance(row["model_output"], str)


def prediction_bytes(directory: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted(directory.glob("prediction-*.jsonl"))}


@pytest.fixture(scope="module")
def demo_sweep(tmp_path_factory, tiny_models) -> tuple[Path, subprocess.CompletedProcess]:
    """The demo set with the default (tiny) models at alpha 0 and 1, uninterrupted: the reference."""
    out = tmp_path_factory.mktemp("reference")
    result = run_script(*DEMO_SWEEP, "--output_dir", str(out))
    assert result.returncode == 0, result.stderr[-3000:]
    return out / "demo", result


def test_demo_alpha_sweep_writes_one_directory_per_alpha(demo_sweep):
    demo, result = demo_sweep
    assert sorted(p.name for p in demo.iterdir()) == DEMO_DIRS
    for name in DEMO_DIRS:
        check_results(demo / name, num_runs=2, answers=golds("demo", None), max_tokens=200)
        config = json.loads((demo / name / "run_config.json").read_text())
        assert config["settings"]["dataset"] == "demo" and config["settings"]["num_problems"] == 8
        assert config["settings"]["pairs"][0]["alpha"] == float(name.split("_alpha_")[1].split("_")[0])
    assert prediction_bytes(demo / DEMO_DIRS[0]) != prediction_bytes(demo / DEMO_DIRS[1])  # alpha took effect
    assert "math_eval_pred.py --data_names demo --k 2 --num_questions 8" in result.stdout
    assert str((demo / DEMO_DIRS[1]).resolve()) in result.stdout


def test_finished_directories_are_not_generated_again(demo_sweep):
    demo, _ = demo_sweep
    before = {name: prediction_bytes(demo / name) for name in DEMO_DIRS}
    started = time.monotonic()
    result = run_script(*DEMO_SWEEP, "--output_dir", str(demo.parent))
    assert result.returncode == 0, result.stderr[-3000:]
    assert time.monotonic() - started < 30  # no engine was started
    assert {name: prediction_bytes(demo / name) for name in DEMO_DIRS} == before


def test_a_killed_run_resumes_to_the_same_files(demo_sweep, tmp_path):
    demo, _ = demo_sweep
    first_file = tmp_path / "demo" / DEMO_DIRS[0] / "prediction-0.jsonl"
    process = subprocess.Popen(command(*DEMO_SWEEP, "--output_dir", str(tmp_path)), cwd=VLLM_DIR,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 240
        while not (first_file.exists() and first_file.read_bytes().count(b"\n") >= 1):
            assert process.poll() is None and time.monotonic() < deadline, "no chunk was written"
            time.sleep(0.02)
    finally:
        os.killpg(process.pid, signal.SIGKILL)  # the script and the engine processes it started
        process.wait()
    interrupted = tmp_path / "demo" / DEMO_DIRS[1] / "prediction-0.jsonl"
    assert not interrupted.exists() or interrupted.read_bytes().count(b"\n") < 8, "the run finished before the kill"
    with open(tmp_path / "demo" / DEMO_DIRS[0] / "prediction-1.jsonl", "a", encoding="utf-8") as torn:
        torn.write('{"idx": 7, "question": "torn by a cra')  # as if the crash came in the middle of a write

    result = run_script(*DEMO_SWEEP, "--output_dir", str(tmp_path))
    assert result.returncode == 0, result.stderr[-3000:]
    for name in DEMO_DIRS:
        assert prediction_bytes(tmp_path / "demo" / name) == prediction_bytes(demo / name)


def math500_args(tiny_models: dict[str, str], data_dir: Path, output_dir: Path) -> list[str]:
    return ["--base_model", tiny_models["base"], "--num_runs", "24", "--max_tokens", "16", "--data_dir", str(data_dir),
            "--output_dir", str(output_dir), "--prompt_template", "qwen_boxed", *ENGINE]


@pytest.fixture(scope="module")
def math500_slice(tmp_path_factory, tiny_models, shared_benchmarks) -> Path:
    """The first three MATH-500 problems, the tiny base model alone, asked for by the original name "MATH".

    72 seeded samples in one engine call overflow a step's 4096 tokens, which on CPU (at the tiny models' full
    context length) splits a prefill unless the script turns chunked prefill off: vLLM then dies with "CPU Generator
    does not use offset".
    """
    out = tmp_path_factory.mktemp("math500")
    result = run_script("--dataset", "MATH", "--limit", "3", *math500_args(tiny_models, shared_benchmarks, out))
    assert result.returncode == 0, result.stderr[-3000:]
    assert "--data_names math500 --k 24 --num_questions 3" in result.stdout
    return out


def test_real_benchmark_slice_with_the_base_model_alone(math500_slice, shared_benchmarks):
    directory = math500_slice / "math500" / "base_temp_1.0"
    check_results(directory, num_runs=24, answers=golds("math500", shared_benchmarks, limit=3), max_tokens=16)
    assert json.loads((directory / "run_config.json").read_text())["settings"]["pairs"] == []


def assert_one_line_error(result: subprocess.CompletedProcess, *fragments: str) -> None:
    assert result.returncode == 2, result.stderr[-3000:]
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr[-3000:]
    for fragment in fragments:
        assert fragment in lines[0]


def test_unknown_dataset_lists_the_known_ones():
    assert_one_line_error(run_script("--dataset", "MATH5"), "'MATH5'", "math500", "aime24", "gsm8k", "demo")


def test_data_directory_without_the_benchmark_file(tmp_path):
    assert_one_line_error(run_script("--dataset", "AIME", "--data_dir", str(tmp_path)),
                          str(tmp_path / "aime24" / "test.jsonl"))


def test_bad_models_and_alphas(tmp_path, tiny_models):
    assert_one_line_error(run_script("--base_model", str(tmp_path / "nowhere")), "does not exist")
    assert_one_line_error(run_script("--cd_decoding_alpha", "1", "inf"), "alpha must be a finite number")
    assert_one_line_error(run_script("--base_model", tiny_models["base"], "--positive_model", tiny_models["positive"]),
                          "no negative model")
    assert_one_line_error(run_script("--decoding_temperature", "0", "--num_runs", "4"), "use --num_runs 1")


def test_results_of_a_different_length_are_refused(math500_slice, tiny_models, shared_benchmarks):
    args = math500_args(tiny_models, shared_benchmarks, math500_slice)
    result = run_script("--dataset", "math500", "--limit", "2", *args)
    assert_one_line_error(result, "holds results of a different run", "num_problems 3, not 2", "--overwrite")


def test_results_of_a_different_dataset_are_refused(demo_sweep, tmp_path):
    demo, _ = demo_sweep
    copy = tmp_path / "demo" / DEMO_DIRS[0]
    shutil.copytree(demo / DEMO_DIRS[0], copy)
    config = json.loads((copy / "run_config.json").read_text())
    config["settings"]["dataset"] = "gsm8k"
    (copy / "run_config.json").write_text(json.dumps(config))
    result = run_script(*DEMO_SWEEP, "--output_dir", str(tmp_path))
    assert_one_line_error(result, "dataset 'gsm8k', not 'demo'")
