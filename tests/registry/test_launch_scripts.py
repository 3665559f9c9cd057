"""Dry-run tests of the launch scripts in scripts/: the printed run.py and evaluator commands."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SCRIPTS = REPO / "scripts"
MAIN = {
    "--base_model": ["Qwen/Qwen2.5-14B"],
    "--positive_model": ["hkust-nlp/Qwen-2.5-1.5B-SimpleRL-Zoo"],
    "--negative_model": ["Qwen/Qwen2.5-1.5B"],
    "--tensor_parallel_size": ["4"],
    "--data_parallel_size": ["1"],
    "--num_runs": ["32"],
    "--cd_decoding_alpha": ["1.0"],
    "--decoding_temperature": ["1.0"],
    "--top_p": ["0.95"],
    "--max_tokens": ["16384"],
}
COUNTS = {"math500": 500, "aime24": 30, "amc23": 40, "minerva_math": 272, "olympiadbench": 675, "gsm8k": 1319}
ALL_SCRIPTS = sorted(SCRIPTS.glob("*.sh")) + [SCRIPTS / "lib" / "launch.sh"]


def dry_run(tmp_path: Path, script: str, *args: str, **env: str) -> subprocess.CompletedProcess:
    """Run a script with DRY_RUN=1 in a clean environment where `python` is this interpreter."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    wrapper = bin_dir / "python"  # a wrapper, not a symlink, so that a virtualenv stays active
    wrapper.write_text(f'#!/bin/sh\nexec {shlex.quote(sys.executable)} "$@"\n')
    wrapper.chmod(0o755)
    base_env = {"PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}", "DRY_RUN": "1"}
    return subprocess.run(
        ["bash", str(SCRIPTS / script), *args],
        env={**base_env, **env},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def commands(result: subprocess.CompletedProcess) -> list[tuple[str, dict[str, list[str]]]]:
    """Parse the printed '+ cd DIR && python SCRIPT --flag values...' lines into (dir/script, flags)."""
    assert result.returncode == 0, result.stderr
    parsed = []
    for line in result.stdout.splitlines():
        if not line.startswith("+ cd "):
            continue
        words = shlex.split(line[2:])
        assert words[0] == "cd" and words[2] == "&&"
        flags: dict[str, list[str]] = {}
        for word in words[5:]:
            if word.startswith("--"):
                flags[word] = []
                current = word
            else:
                flags[current].append(word)
        parsed.append((f"{Path(words[1]).name}/{words[4]}", flags))
    return parsed


def check_eval(run_flags: dict, calls, bench: str, k: str, extra: dict | None = None) -> None:
    """The evaluator scores exactly the folders run.py lists in its manifest (no folder name is rebuilt in bash)."""
    assert [c[1]["--evaluation_mode"] for c in calls] == [["pass"], ["majority"]]
    for where, flags in calls:
        assert where == "simplerl_math_eval/math_eval_pred.py"
        assert flags["--data_names"] == [bench]
        assert flags["--k"] == [k]
        assert flags["--num_questions"] == [str(COUNTS[bench])]
        assert flags["--manifest"] == run_flags["--manifest"] and "--res_dir" not in flags
        for key, value in (extra or {}).items():
            assert flags[key] == value


@pytest.mark.parametrize("bench", COUNTS)
def test_main_setting_defaults(bench: str, tmp_path: Path) -> None:
    calls = commands(dry_run(tmp_path, f"run_{bench}.sh"))
    assert len(calls) == 3
    where, flags = calls[0]
    assert where.endswith("vllm/tests/RAST_decode/run.py") and where.startswith("vllm/")
    assert flags["--dataset"] == [bench]
    for key, value in MAIN.items():
        assert flags[key] == value, key
    assert flags["--output_dir"] == [str(REPO / "results")]
    assert "--data_dir" not in flags
    check_eval(flags, calls[1:], bench, "32")
    assert "--data_dir" not in calls[1][1]


def test_an_empty_positive_model_runs_the_base_model_alone(tmp_path: Path) -> None:
    calls = commands(dry_run(tmp_path, "run_math500.sh", POSITIVE_MODEL=""))
    flags = calls[0][1]
    assert flags["--base_model"] == MAIN["--base_model"]
    assert not {"--positive_model", "--negative_model", "--cd_decoding_alpha"} & set(flags)
    check_eval(flags, calls[1:], "math500", "32")


def test_env_overrides(tmp_path: Path) -> None:
    env = {
        "BASE_MODEL": "org/Big-7B",
        "POSITIVE_MODEL": "/models/small-rl/",
        "NEGATIVE_MODEL": "org/small",
        "TP": "2",
        "NUM_RUNS": "4",
        "ALPHA": "0.5 2",
        "TEMPERATURE": "0.60",
        "TOP_P": "0.9",
        "MAX_TOKENS": "128",
        "GPUS": "0,1",
        "DATA_DIR": "data",
        "OUTPUT_DIR": "out",
        "EXTRA_ARGS": "--positive_model1 p1 --negative_model1 n1",
    }
    result = dry_run(tmp_path, "run_amc23.sh", **env)
    assert "+ export CUDA_VISIBLE_DEVICES=0,1" in result.stdout
    calls = commands(result)
    flags = calls[0][1]
    assert flags["--base_model"] == ["org/Big-7B"]
    assert flags["--positive_model"] == ["/models/small-rl/"]
    assert flags["--negative_model"] == ["org/small"]
    assert flags["--tensor_parallel_size"] == ["2"]
    assert flags["--num_runs"] == ["4"]
    assert flags["--cd_decoding_alpha"] == ["0.5", "2"]
    assert flags["--decoding_temperature"] == ["0.60"]
    assert flags["--top_p"] == ["0.9"]
    assert flags["--max_tokens"] == ["128"]
    assert flags["--output_dir"] == [str(tmp_path / "out")]
    assert flags["--data_dir"] == [str(tmp_path / "data")]
    assert flags["--positive_model1"] == ["p1"] and flags["--negative_model1"] == ["n1"]
    check_eval(flags, calls[1:], "amc23", "4", {"--data_dir": [str(tmp_path / "data")]})


def test_tp_larger_than_visible_gpus_warns(tmp_path: Path) -> None:
    result = dry_run(tmp_path, "run_math500.sh", GPUS="0")
    assert "TP=4 x DP=1 but only 1 GPU(s) visible" in result.stderr


@pytest.mark.parametrize(
    "script,base,positive,negative,layout",
    [
        # 2 replicas of TP 4 on the same 8 GPUs: at TP 8 every GPU would run the whole 7B pair (its 28 heads do not
        # split 8 ways), more work per GPU than its 32B shard
        ("run_variant_32b.sh", "Qwen/Qwen2.5-32B", "hkust-nlp/Qwen-2.5-7B-SimpleRL-Zoo", "Qwen/Qwen2.5-7B", ("4", "2")),
        (
            "run_variant_llama70b.sh",
            "meta-llama/Llama-3.1-70B",
            "hkust-nlp/Llama-3.1-8B-SimpleRL-Zoo",
            "meta-llama/Llama-3.1-8B",
            ("8", "1"),
        ),
    ],
)
def test_variants(script: str, base: str, positive: str, negative: str, layout, tmp_path: Path) -> None:
    calls = commands(dry_run(tmp_path, script, "AIME"))
    flags = calls[0][1]
    assert flags["--dataset"] == ["aime24"]
    assert (flags["--base_model"], flags["--positive_model"], flags["--negative_model"]) == (
        [base],
        [positive],
        [negative],
    )
    assert (flags["--tensor_parallel_size"], flags["--data_parallel_size"]) == ([layout[0]], [layout[1]])
    check_eval(flags, calls[1:], "aime24", "32")
    overridden = commands(dry_run(tmp_path, script, "gsm8k", TP="16", BASE_MODEL="x/y"))[0][1]
    assert overridden["--tensor_parallel_size"] == ["16"] and overridden["--base_model"] == ["x/y"]
    assert "--small_tensor_parallel_size" not in flags
    replicated = commands(dry_run(tmp_path, script, "gsm8k", TP="8", DP="1", SMALL_TP="1"))[0][1]
    assert (replicated["--tensor_parallel_size"], replicated["--small_tensor_parallel_size"]) == (["8"], ["1"])


def test_sweep_defaults(tmp_path: Path) -> None:
    calls = commands(dry_run(tmp_path, "sweep_alpha_temperature.sh", "Minerva"))
    alphas = ["0.25", "0.5", "0.75", "1.0", "1.5", "2.0"]
    assert len(calls) == 6  # per temperature: one run.py call and two evaluations
    for i, temp in enumerate(["0.6", "1.0"]):
        run = calls[3 * i][1]
        assert run["--dataset"] == ["minerva_math"]
        assert run["--cd_decoding_alpha"] == alphas
        assert run["--decoding_temperature"] == [temp]
        assert run["--base_model"] == MAIN["--base_model"]
        check_eval(run, calls[3 * i + 1 : 3 * i + 3], "minerva_math", "32")


def test_sweep_overrides(tmp_path: Path) -> None:
    calls = commands(dry_run(tmp_path, "sweep_alpha_temperature.sh", "gsm8k", ALPHAS="1 3", TEMPERATURES="0.7"))
    assert len(calls) == 3
    assert calls[0][1]["--cd_decoding_alpha"] == ["1", "3"]
    assert calls[0][1]["--decoding_temperature"] == ["0.7"]
    check_eval(calls[0][1], calls[1:], "gsm8k", "32")


@pytest.mark.parametrize("script,args", [("run_variant_32b.sh", ()), ("run_math500.sh", ("extra",))])
def test_bad_arguments_fail(script: str, args: tuple[str, ...], tmp_path: Path) -> None:
    result = dry_run(tmp_path, script, *args)
    assert result.returncode != 0 and "expected one benchmark name" in result.stderr
    assert "run.py" not in result.stdout


def test_unknown_benchmark_fails(tmp_path: Path) -> None:
    result = dry_run(tmp_path, "sweep_alpha_temperature.sh", "mmlu")
    assert result.returncode != 0 and "known names" in result.stderr


@pytest.mark.parametrize("script", ALL_SCRIPTS, ids=lambda p: p.name)
def test_bash_syntax(script: Path) -> None:
    subprocess.run(["bash", "-n", str(script)], check=True)


@pytest.mark.skipif(shutil.which("shellcheck") is None, reason="shellcheck not installed")
def test_shellcheck() -> None:
    result = subprocess.run(
        ["shellcheck", "-x", *(str(p.relative_to(SCRIPTS)) for p in ALL_SCRIPTS)],
        cwd=SCRIPTS,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout
