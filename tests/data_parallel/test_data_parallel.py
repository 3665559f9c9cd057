"""run.py --data_parallel_size 2 on a local Ray instance: same files as one replica, resumable after a replica dies."""

import os
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

VLLM_DIR = Path(__file__).resolve().parents[2] / "vllm"
GREEDY = ["--num_runs", "1", "--decoding_temperature", "0", "--dtype", "float32", "--enforce_eager"]


def run_script(*args: str, wait: bool = True):
    command = [sys.executable, "tests/RAST_decode/run.py", *GREEDY, *args]
    if not wait:
        return subprocess.Popen(command, cwd=VLLM_DIR, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    return subprocess.run(command, cwd=VLLM_DIR, capture_output=True, text=True, timeout=600)


def prediction_files(output_dir: Path) -> dict[str, bytes]:
    return {str(p.relative_to(output_dir)): p.read_bytes() for p in sorted(output_dir.rglob("prediction-*.jsonl"))
            if ".shards" not in p.parts}


@pytest.fixture(scope="module")
def single_replica(tmp_path_factory, tiny_models):
    """The reference files: one engine, alpha sweep 0 and 1."""
    out = tmp_path_factory.mktemp("dp1")
    result = run_script("--max_tokens", "48", "--cd_decoding_alpha", "0", "1", "--output_dir", str(out))
    assert result.returncode == 0, result.stderr[-3000:]
    return out


def test_two_replicas_write_the_same_files_as_one(single_replica, tmp_path):
    result = run_script("--max_tokens", "48", "--cd_decoding_alpha", "0", "1", "--output_dir", str(tmp_path),
                        "--data_parallel_size", "2")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    expected = prediction_files(single_replica)
    assert len(expected) == 2 and all(content.count(b"\n") == 8 for content in expected.values())
    assert prediction_files(tmp_path) == expected
    assert not list(tmp_path.rglob(".shards")), "shards are merged and removed"


def _replica_processes() -> list[psutil.Process]:
    return [p for p in psutil.process_iter(["cmdline"]) if "ray::Replica" in " ".join(p.info["cmdline"] or [])]


def test_a_killed_replica_resumes_without_loss_or_duplicates(single_replica, tmp_path):
    args = ["--max_tokens", "48", "--cd_decoding_alpha", "0", "1", "--output_dir", str(tmp_path),
            "--data_parallel_size", "2", "--window", "1"]
    process = run_script(*args, wait=False)
    deadline = time.time() + 300
    while not any(p.stat().st_size for p in tmp_path.rglob(".shards/*/prediction-0.jsonl")):
        assert time.time() < deadline and process.poll() is None, "no shard was written"
        time.sleep(0.2)
    victims = _replica_processes()
    assert victims, "found no Ray replica process"
    victims[0].kill()
    output, _ = process.communicate(timeout=300)
    assert process.returncode != 0, "the run should stop when a replica dies"
    assert "run the same command again to resume" in output

    result = run_script(*args)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert prediction_files(tmp_path) == prediction_files(single_replica)


def test_unreachable_ray_address_is_a_one_line_error(tmp_path):
    result = run_script("--data_parallel_size", "2", "--ray_address", "127.0.0.1:9", "--output_dir", str(tmp_path))
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0, result.stderr
    assert "cannot reach a Ray cluster at 127.0.0.1:9" in result.stderr
    assert not os.listdir(tmp_path)
