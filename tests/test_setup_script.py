"""scripts/setup.sh: steps on the console, pip's output in a log it names, and a real failure stops with pip's own
error (checked on a scratch copy with an empty package index, so nothing is downloaded or installed)."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]


def test_a_pip_failure_stops_with_pips_own_error(tmp_path):
    (tmp_path / "scripts").mkdir()
    shutil.copy(REPO_ROOT / "scripts" / "setup.sh", tmp_path / "scripts" / "setup.sh")
    (tmp_path / "requirements-test.txt").write_text("rast-no-such-package==1.0\n")
    (tmp_path / "package").mkdir()
    (tmp_path / "package" / "pyproject.toml").write_text("[project]\nname = 'scratch'\n")
    (tmp_path / "wheels").mkdir()
    env = {**os.environ, "RAST_VLLM_DIST": "vllm", "PYTHON": sys.executable, "PIP_NO_INDEX": "1",
           "PIP_FIND_LINKS": str(tmp_path / "wheels")}
    done = subprocess.run(["bash", "scripts/setup.sh"], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=300)
    log = tmp_path / ".venv" / "setup-pip.log"
    assert done.returncode == 1
    assert done.stdout.splitlines() == [
        f"setup: installing into {tmp_path / '.venv'} (vllm==0.32.0); pip's full log: {log}",
        "setup: installing vllm 0.32.0 (with its CUDA torch) and requirements-test.txt ..."]
    assert done.stderr.startswith(f"setup: pip install failed; its last lines (full log: {log}):\n")
    assert "ERROR: No matching distribution found for vllm==0.32.0" in done.stderr  # pip's own words
    assert "No matching distribution found" in log.read_text()
    assert not (tmp_path / ".venv" / ".rast-installed").exists()
