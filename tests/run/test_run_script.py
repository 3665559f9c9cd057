"""``vllm/tests/RAST_decode/run.py`` end to end on the tiny models, as a user runs it: a subprocess from inside vllm/.

Engine starts: the demo alpha sweep (the reference), the same sweep in one pass, a copy killed with SIGKILL and its
resumption, a copy stopped with SIGTERM (while a second run on the same directory is refused) and its resumption, a
run with a stop string, and a three-problem slice of MATH-500 with the base model alone.
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
# Long enough samples and one problem in the engine at a time, so a run can be stopped part way.
DEMO_SWEEP = ["--num_runs", "2", "--max_tokens", "200", "--window", "1", "--cd_decoding_alpha", "0", "1",
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


def start(output_dir: Path) -> subprocess.Popen:
    """The demo sweep into ``output_dir``, in the background."""
    return subprocess.Popen(command(*DEMO_SWEEP, "--output_dir", str(output_dir)), cwd=VLLM_DIR,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)


def wait_for_a_line(process: subprocess.Popen, output_dir: Path) -> subprocess.Popen:
    """Return ``process`` once the first problem of its first directory is written."""
    first_file = output_dir / "demo" / DEMO_DIRS[0] / "prediction-0.jsonl"
    deadline = time.monotonic() + 240
    while not (first_file.exists() and first_file.read_bytes().count(b"\n") >= 1):
        if process.poll() is not None or time.monotonic() > deadline:
            os.killpg(process.pid, signal.SIGKILL)
            raise AssertionError(f"no problem was written: {process.communicate()[1][-3000:]}")
        time.sleep(0.02)
    return process


def wait_gone(processes: list, timeout: float) -> list:
    """The processes still alive after ``timeout`` seconds."""
    import psutil

    deadline = time.monotonic() + timeout
    alive = processes
    while alive and time.monotonic() < deadline:
        alive = [p for p in alive if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]
        time.sleep(0.2)
    return alive


def test_a_killed_run_resumes_to_the_same_files(demo_sweep, tmp_path):
    """kill -9 of run.py alone: its engine processes exit on their own within seconds; the rerun completes the files."""
    import psutil

    demo, _ = demo_sweep
    process = wait_for_a_line(start(tmp_path), tmp_path)
    engine_processes = psutil.Process(process.pid).children(recursive=True)
    assert engine_processes, "vLLM's engine core should run in a child process"
    process.kill()
    process.wait()
    leftovers = wait_gone(engine_processes, timeout=10)
    for leftover in leftovers:
        leftover.kill()
    assert not leftovers, "engine processes outlived their parent"
    interrupted = tmp_path / "demo" / DEMO_DIRS[1] / "prediction-0.jsonl"
    assert not interrupted.exists() or interrupted.read_bytes().count(b"\n") < 8, "the run finished before the kill"
    with open(tmp_path / "demo" / DEMO_DIRS[0] / "prediction-1.jsonl", "a", encoding="utf-8") as torn:
        torn.write('{"idx": 7, "question": "torn by a cra')  # as if the crash came in the middle of a write

    result = run_script(*DEMO_SWEEP, "--output_dir", str(tmp_path))
    assert result.returncode == 0, result.stderr[-3000:]
    for name in DEMO_DIRS:
        assert prediction_bytes(tmp_path / "demo" / name) == prediction_bytes(demo / name)


def test_sigterm_saves_finished_problems_and_a_second_run_is_refused(demo_sweep, tmp_path):
    """Two runs started together on one directory: one is refused at once, naming the other; the other, stopped by
    SIGTERM, keeps its finished problems, leaves no process behind, and resumes to the uninterrupted files."""
    import psutil

    demo, _ = demo_sweep
    runs = [start(tmp_path), start(tmp_path)]
    try:
        while all(run.poll() is None for run in runs):
            time.sleep(0.05)
        refused = next(run for run in runs if run.poll() is not None)
        process = next(run for run in runs if run is not refused)
        refusal = subprocess.CompletedProcess(refused.args, refused.returncode, *refused.communicate())
        assert_one_line_error(refusal, "being written by another run", f"pid {process.pid}")
        wait_for_a_line(process, tmp_path)
        engine_processes = psutil.Process(process.pid).children(recursive=True)
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=60)
    finally:
        for run in runs:
            if run.poll() is None:
                os.killpg(run.pid, signal.SIGKILL)
    assert process.returncode == 143, stderr[-3000:]
    assert "terminated (SIGTERM): finished problems are saved" in stderr
    assert not wait_gone(engine_processes, timeout=10), "engine processes outlived a clean stop"
    written = read_lines(tmp_path / "demo" / DEMO_DIRS[0] / "prediction-0.jsonl")
    assert [row["idx"] for row in written] == list(range(len(written))) and len(written) < 8

    result = run_script(*DEMO_SWEEP, "--output_dir", str(tmp_path))
    assert result.returncode == 0, result.stderr[-3000:]
    for name in DEMO_DIRS:
        assert prediction_bytes(tmp_path / "demo" / name) == prediction_bytes(demo / name)


def test_a_stop_string_ends_each_sample_where_it_first_occurs(demo_sweep, tmp_path):
    """With a stop string taken from the reference outputs, every sample is the reference cut before its first
    occurrence (same seeds, so the same tokens up to there)."""
    demo, _ = demo_sweep
    reference = [read_lines(demo / DEMO_DIRS[1] / f"prediction-{run}.jsonl") for run in range(2)]
    text = reference[0][0]["model_output"]
    stop = text[len(text) // 3:len(text) // 3 + 2]
    result = run_script(*DEMO_SWEEP[:-len(ENGINE) - 2], "--cd_decoding_alpha", "1", "--max_model_len", "512", *ENGINE,
                        "--output_dir", str(tmp_path), "--stop", stop)
    assert result.returncode == 0, result.stderr[-3000:]
    stopped = 0
    for run in range(2):
        written = read_lines(tmp_path / "demo" / DEMO_DIRS[1] / f"prediction-{run}.jsonl")
        for expected, row in zip(reference[run], written, strict=True):
            cut = expected["model_output"].find(stop)
            if cut < 0:
                assert row["model_output"] == expected["model_output"]
            else:
                stopped += 1
                assert row["model_output"] == expected["model_output"][:cut] and row["finish_reason"] == "stop"
    assert stopped >= 1
    settings = json.loads((tmp_path / "demo" / DEMO_DIRS[1] / "run_config.json").read_text())["settings"]
    assert settings["stop"] == [stop] and settings["stop_token_ids"]


@pytest.mark.parametrize("bad,fragment", [
    (["--top_p", "1.5"], "top_p must be in (0, 1]"),
    (["--top_p", "0"], "top_p must be in (0, 1]"),
    (["--decoding_temperature", "-1"], "temperature must be non-negative"),
    (["--max_model_len", "16"], "--max_model_len 16 leaves no room to answer"),
    (["--tensor_parallel_size", "0"], "--tensor_parallel_size must be at least 1"),
    (["--tensor_parallel_size", "8"], "tensor parallel size 4 with 2 data-parallel replicas"),
    (["--small_tensor_parallel_size", "3"], "must be 1 (a copy on every rank) or the engine's (1), got 3"),
    (["--one_pass_sweep", "--data_parallel_size", "2"], "--one_pass_sweep runs on one engine"),
    (["--output_dir", "{file}/results"], "is a file"),
])
def test_bad_settings_fail_before_model_work_and_leave_nothing(tmp_path, bad, fragment):
    (tmp_path / "file").write_text("not a directory")
    output_dir = tmp_path / "out"
    bad = [arg.replace("{file}", str(tmp_path / "file")) for arg in bad]
    started = time.monotonic()
    result = run_script("--num_runs", "2", "--max_tokens", "4", "--output_dir", str(output_dir), *ENGINE, *bad)
    assert_one_line_error(result, fragment)
    assert time.monotonic() - started < 60, "the check came after model work"
    assert not list(tmp_path.rglob("run_config.json")) and not list(tmp_path.rglob("prediction-*.jsonl"))


def test_a_sweep_in_one_pass_writes_the_same_files_as_one_alpha_after_another(demo_sweep, tmp_path):
    """--one_pass_sweep: both alphas' requests share the batch (each carries its own alpha), seeded sampling."""
    demo, _ = demo_sweep
    result = run_script(*DEMO_SWEEP, "--window", "8", "--one_pass_sweep", "--output_dir", str(tmp_path))
    assert result.returncode == 0, result.stderr[-3000:]
    for name in DEMO_DIRS:
        assert prediction_bytes(tmp_path / "demo" / name) == prediction_bytes(demo / name), name


def test_the_manifest_lists_the_directories_written(demo_sweep, tmp_path):
    demo, _ = demo_sweep
    manifest = tmp_path / "manifest.txt"
    result = run_script(*DEMO_SWEEP, "--output_dir", str(demo.parent), "--manifest", str(manifest))
    assert result.returncode == 0, result.stderr[-3000:]
    assert manifest.read_text().splitlines() == [str((demo / name).resolve()) for name in DEMO_DIRS]


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
