"""``rast serve`` input handling: bad input fails fast with one ``error:`` line and exit 2, before any engine starts;
good input builds the right vLLM command (checked with --dry-run, in process)."""

import json
import socket
import subprocess
import time
from importlib.metadata import entry_points

import pytest
from serve_helpers import free_port, rast_command

from rast import rast_config
from rast.api import with_layout
from rast.cli import main as rast_main
from rast.serve import WORKER_EXTENSION

PORT = str(free_port())
FAST_S = 30.0  # generous for a loaded 2-core machine; no engine may start


def run_rast(*args: str) -> tuple[subprocess.CompletedProcess, float]:
    start = time.monotonic()
    done = subprocess.run(rast_command(*args), capture_output=True, text=True, timeout=120)
    return done, time.monotonic() - start


def assert_one_line_error(done: subprocess.CompletedProcess, *needles: str) -> None:
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 2, done.stderr
    assert len(lines) == 1 and lines[0].startswith("error: "), done.stderr
    for needle in needles:
        assert needle in lines[0]
    assert "equivalent command" not in done.stdout  # nothing was started


def test_port_in_use(tiny_models):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        done, seconds = run_rast("serve", "--base", tiny_models["base"], "--positive", tiny_models["positive"],
                                 "--negative", tiny_models["negative"], "--port", str(port))
    assert_one_line_error(done, f"port {port}", "already in use", "--port")
    assert seconds < FAST_S


def test_missing_model_path(tiny_models):
    done, seconds = run_rast("serve", "--base", tiny_models["base"], "--positive", "/no/such/model",
                             "--negative", tiny_models["negative"])
    assert_one_line_error(done, "/no/such/model does not exist")
    assert seconds < FAST_S


@pytest.mark.parametrize("args, needle", [
    (["--alpha", "strong"], "alpha must be a number"),
    (["--alpha1", "0.5"], "--alpha1 given but no --positive1/--negative1 pair"),
    (["--bogus", "1"], "vLLM's own flags go after `--`"),
    (["--", "--port", "9"], "--port after `--` is set by rast serve itself"),
    (["--", "--hf-overrides={}"], "--hf-overrides after `--`"),
    (["--", "-tp", "8"], "tensor parallel size 8 cannot split: use tensor parallel size 4 with 2 data-parallel"),
    (["--", "--max-model-len=4096"], "has 2048 positions, fewer than the context of 4096 tokens"),
])
def test_bad_flags(tiny_models, capsys, args, needle):
    argv = ["serve", "--dry-run", "--base", tiny_models["base"], "--positive", tiny_models["positive"],
            "--negative", tiny_models["negative"], *args]  # --dry-run: a flag that turned valid never starts vLLM
    assert rast_main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: ") and needle in err[0], err


def test_seeded_sampling_is_made_safe_on_cpu(tiny_models, capsys):
    """vLLM's CPU backend dies on seeded requests whose prefill is split: rast serve turns chunked prefill off there,
    unless the user chose otherwise."""
    from vllm.platforms import current_platform

    if not current_platform.is_cpu():
        pytest.skip("the workaround is for vLLM's CPU backend")
    argv = ["serve", "--base", tiny_models["base"], "--dry-run"]
    assert rast_main(argv) == 0
    assert "--no-enable-chunked-prefill" in capsys.readouterr().out
    assert rast_main([*argv, "--", "--enable-chunked-prefill"]) == 0
    assert "--no-enable-chunked-prefill" not in capsys.readouterr().out


def test_positive_without_negative(tiny_models, capsys):
    assert rast_main(["serve", "--base", tiny_models["base"], "--positive", tiny_models["positive"]]) == 2
    assert "no negative model" in capsys.readouterr().err


def test_unknown_subcommand(capsys):
    assert rast_main(["frobnicate"]) == 2
    assert capsys.readouterr().err.startswith("error: unknown subcommand 'frobnicate'")


def dry_run(capsys, argv) -> list[str]:
    """The `vllm serve ...` line that --dry-run prints, split like a shell would."""
    import shlex

    assert rast_main(["serve", "--dry-run", *argv]) == 0
    out = capsys.readouterr().out
    (line,) = [line.strip() for line in out.splitlines() if line.strip().startswith("vllm serve ")]
    return shlex.split(line)


def test_dry_run_builds_vllm_command(tiny_models, capsys):
    m = tiny_models
    command = dry_run(capsys, ["--base", m["base"], "--positive", m["positive"], "--negative", m["negative"],
                               "--positive1", m["positive_b"], "--negative1", m["negative_b"], "--alpha", "0.4",
                               "--alpha1", "0.1", "--port", PORT, "--", "--dtype", "float32"])
    assert command[:3] == ["vllm", "serve", m["base"]]
    overrides = json.loads(command[command.index("--hf-overrides") + 1])
    expected = with_layout(m["base"], rast_config(m["base"], [m["positive"], m["positive_b"]],
                                                  [m["negative"], m["negative_b"]], [0.4, 0.1]), 1, None)
    assert overrides == expected.hf_overrides()
    assert command[command.index("--worker-extension-cls") + 1] == WORKER_EXTENSION
    assert command[-6:] == ["--host", "127.0.0.1", "--port", PORT, "--dtype", "float32"]


def test_alpha_of_later_pairs_defaults_to_alpha(tiny_models, capsys):
    m = tiny_models
    command = dry_run(capsys, ["--base", m["base"], "--positive", m["positive"], "--negative", m["negative"],
                               "--positive1", m["positive_b"], "--negative1", m["negative_b"], "--alpha", "0.7",
                               "--port", PORT])
    overrides = json.loads(command[command.index("--hf-overrides") + 1])
    assert [pair["alpha"] for pair in overrides["rast"]["pairs"]] == [0.7, 0.7]


def test_base_alone_is_plain_vllm(tiny_models, capsys):
    command = dry_run(capsys, ["--base", tiny_models["base"], "--port", PORT])
    assert "--hf-overrides" not in command and "--worker-extension-cls" not in command


def test_console_script_declared():
    (script,) = [ep for ep in entry_points(group="console_scripts") if ep.name == "rast"]
    assert script.value == "rast.cli:main"
