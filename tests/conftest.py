"""Settings shared by every test: offline, small CPU KV cache, one tiny-model cache per machine."""

import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("VLLM_CPU_KVCACHE_SPACE", "1")
os.environ.setdefault("VLLM_CPU_OMP_THREADS_BIND", "1")

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_BENCHMARKS = REPO_ROOT.parent / "shared" / "benchmarks"


@pytest.fixture(scope="session")
def tiny_models() -> dict[str, str]:
    """Paths of the tiny checkpoints (built once per machine, then cached)."""
    from rast.tiny_models import tiny_model_paths

    return tiny_model_paths()


@pytest.fixture(scope="session")
def shared_benchmarks() -> Path:
    """The real test sets beside the repository (../shared/benchmarks)."""
    if not SHARED_BENCHMARKS.is_dir():
        pytest.skip(f"{SHARED_BENCHMARKS} is not there")
    return SHARED_BENCHMARKS
