"""Offline compute nodes: every entry point that loads a benchmark or a model by hub id fails early with one line
naming the fixes when the hub cannot be used, both in offline mode (``HF_HUB_OFFLINE=1``) and when the network just
fails (``HF_ENDPOINT`` at a closed local port: no traffic leaves this machine). No engine starts."""

import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from rast import RastConfigError, RastLLM
from rast.cli import main as rast_main
from rast_benchmarks import load_benchmark

REPO_ROOT = Path(__file__).resolve().parents[1]
NOT_CACHED = "rast-tests/not-a-cached-model"  # a hub id no cache holds
BENCHMARK_FIXES = ("--data_dir DIR with DIR/math500/test.jsonl", "RAST_DATA_DIR=DIR",
                   "python -m rast_benchmarks fetch math500 --out DIR")
MODEL_FIXES = (f"model {NOT_CACHED}", "give a checkpoint directory", f"hf download {NOT_CACHED}")


@pytest.fixture(scope="module")
def closed_endpoint() -> Iterator[str]:
    """A local address that refuses connections: a port held but never listened on."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as held:
        held.bind(("127.0.0.1", 0))
        yield f"http://127.0.0.1:{held.getsockname()[1]}"


@pytest.fixture(params=["offline mode", "network fails"])
def no_hub(request, closed_endpoint, monkeypatch, tmp_path) -> dict[str, str]:
    """The hub cannot be used, as set in this process and in the environment of subprocesses (an empty HF cache)."""
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf_home"))
    if request.param == "offline mode":
        monkeypatch.setenv("HF_HUB_OFFLINE", "1")
        monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
        monkeypatch.setenv("HF_ENDPOINT", closed_endpoint)
    else:
        monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
        monkeypatch.delenv("HF_DATASETS_OFFLINE", raising=False)
        monkeypatch.setenv("HF_ENDPOINT", closed_endpoint)
    monkeypatch.delenv("RAST_DATA_DIR", raising=False)
    return dict(os.environ)


def one_line_error(done: subprocess.CompletedProcess, *needles: str) -> str:
    lines = [line for line in done.stderr.splitlines() if line.strip() and "Writing model shards" not in line]
    assert done.returncode == 2, done.stderr
    assert len(lines) == 1 and lines[0].startswith("error: "), done.stderr
    for needle in needles:
        assert needle in lines[0]
    return lines[0]


def test_run_script_benchmark(no_hub, tiny_models, tmp_path):
    done = subprocess.run([sys.executable, "tests/RAST_decode/run.py", "--dataset", "MATH", "--base_model",
                           tiny_models["base"], "--output_dir", str(tmp_path / "results")], cwd=REPO_ROOT / "vllm",
                          env=no_hub, capture_output=True, text=True, timeout=300)
    one_line_error(done, *BENCHMARK_FIXES)
    assert not (tmp_path / "results").exists()


def test_run_script_model(no_hub, tmp_path):
    done = subprocess.run([sys.executable, "tests/RAST_decode/run.py", "--dataset", "demo", "--base_model", NOT_CACHED,
                           "--output_dir", str(tmp_path / "results")], cwd=REPO_ROOT / "vllm", env=no_hub,
                          capture_output=True, text=True, timeout=300)
    one_line_error(done, *MODEL_FIXES)
    assert not (tmp_path / "results").exists()


def test_scoring_lines_without_answers(no_hub, tmp_path):
    res_dir = tmp_path / "res"
    res_dir.mkdir()
    (res_dir / "prediction-0.jsonl").write_text(json.dumps({"idx": 0, "model_output": "\\boxed{1}"}) + "\n")
    done = subprocess.run([sys.executable, "math_eval_pred.py", "--data_names", "math500", "--k", "1", "--res_dir",
                           str(res_dir)], cwd=REPO_ROOT / "simplerl_math_eval", env=no_hub, capture_output=True,
                          text=True, timeout=300)
    one_line_error(done, *BENCHMARK_FIXES)
    assert sorted(p.name for p in res_dir.iterdir()) == ["prediction-0.jsonl"]


def test_fetch_command(no_hub, tmp_path):
    done = subprocess.run([sys.executable, "-m", "rast_benchmarks", "fetch", "MATH", "--out", str(tmp_path / "data")],
                          env=no_hub, capture_output=True, text=True, timeout=300)
    one_line_error(done, *BENCHMARK_FIXES)


def test_fetch_writes_the_data_dir_layout(tmp_path):
    done = subprocess.run([sys.executable, "-m", "rast_benchmarks", "fetch", "toy", "--out", str(tmp_path)],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    written = tmp_path / "toy" / "test.jsonl"
    assert done.stdout.strip() == f"toy: 80 records written to {written}"
    assert [json.loads(line) for line in written.read_text().splitlines()] == load_benchmark("toy")


@pytest.mark.parametrize("tool, args", [
    ("token_shift", ["--base_model", NOT_CACHED, "--text", "1+1=2"]),
    ("path_coverage", ["--positive_model", NOT_CACHED, "--res_dir", "RES"]),
    ("delta_similarity", ["--negative_b", NOT_CACHED, "--text", "1+1=2"]),
    ("behaviours", ["--tokenizer", NOT_CACHED, "--res_dirs", "RES"]),
])
def test_analysis_tools(no_hub, tool, args, tmp_path, capsys):
    import importlib

    sys.path.insert(0, str(REPO_ROOT))
    try:
        main = importlib.import_module(f"analysis.{tool}").main
    finally:
        sys.path.remove(str(REPO_ROOT))
    res_dir = tmp_path / "res"
    res_dir.mkdir()
    (res_dir / "prediction-0.jsonl").write_text(json.dumps({"idx": 0, "question": "1+1", "model_output": "2"}) + "\n")
    with pytest.raises(SystemExit) as exited:
        main([str(res_dir) if arg == "RES" else arg for arg in args] + ["--out_dir", str(tmp_path / "out")])
    assert exited.value.code == 2
    error = capsys.readouterr().err.strip().splitlines()
    assert len(error) == 1 and error[0].startswith("error: ") and all(n in error[0] for n in MODEL_FIXES)


def test_rast_serve(no_hub, tiny_models, capsys):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port = str(probe.getsockname()[1])
    code = rast_main(["serve", "--base", tiny_models["base"], "--positive", NOT_CACHED, "--negative",
                      tiny_models["negative"], "--port", port, "--dry-run"])
    assert code == 2
    error = capsys.readouterr().err.strip().splitlines()
    assert len(error) == 1 and error[0].startswith("error: ") and all(n in error[0] for n in MODEL_FIXES)


def test_rast_llm(no_hub):
    with pytest.raises(RastConfigError) as raised:
        RastLLM(NOT_CACHED)
    assert all(needle in str(raised.value) for needle in MODEL_FIXES)


def test_cached_models_and_paths_pass(tmp_path):
    """A hub id in the Hugging Face cache needs no hub (the fix the message names works); paths are not hub ids."""
    snapshot = tmp_path / "hub" / "models--rast-tests--cached" / "snapshots" / ("0" * 40)
    snapshot.mkdir(parents=True)
    (snapshot / "config.json").write_text("{}")
    (snapshot.parents[1] / "refs").mkdir()
    (snapshot.parents[1] / "refs" / "main").write_text("0" * 40)
    check = ("from rast_benchmarks.hub import check_models_available as check; "
             "check(['rast-tests/cached', './no/such/dir', '/no/such/dir']); check(['rast-tests/uncached'])")
    done = subprocess.run([sys.executable, "-c", check], env={**os.environ, "HF_HOME": str(tmp_path),
                                                             "HF_HUB_OFFLINE": "1"},
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 1 and done.stderr.strip().splitlines()[-1].startswith(
        "rast_benchmarks.hub.HubUnreachable: model rast-tests/uncached is not a directory here")

