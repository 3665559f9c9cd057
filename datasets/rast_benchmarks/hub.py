"""Whether the Hugging Face hub can be reached from here, and the one-line fixes when a benchmark or a model named by
hub id is needed and it cannot (GPU nodes of many clusters have no internet).

Checked before anything is loaded: offline mode (``HF_HUB_OFFLINE`` / ``HF_DATASETS_OFFLINE``) or an endpoint
(``HF_ENDPOINT``, default https://huggingface.co) that does not answer within a few seconds.
"""

from __future__ import annotations

import os
import urllib.error
import urllib.request
from collections.abc import Iterable
from functools import cache
from pathlib import Path

OFFLINE_VARIABLES = ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE")
DEFAULT_ENDPOINT = "https://huggingface.co"
PROBE_TIMEOUT_S = 5.0


class HubUnreachable(FileNotFoundError):
    """A benchmark or model named by hub id is not available here and the hub cannot be reached; the message names
    the fixes."""


def _truthy(value: str | None) -> bool:
    return (value or "").strip().upper() in {"1", "ON", "YES", "TRUE"}  # huggingface_hub's reading of these flags


def offline_mode() -> str | None:
    """The offline variable that is set (``HF_HUB_OFFLINE=1``), else ``None``."""
    return next((f"{name}={os.environ[name]}" for name in OFFLINE_VARIABLES if _truthy(os.environ.get(name))), None)


@cache
def _endpoint_answers(endpoint: str) -> bool:
    try:
        urllib.request.urlopen(urllib.request.Request(endpoint, method="HEAD"), timeout=PROBE_TIMEOUT_S).close()
    except urllib.error.HTTPError:
        return True  # an HTTP answer, even an error status, means the hub is there
    except (OSError, ValueError):  # refused, timed out, no route, no DNS, a malformed HF_ENDPOINT
        return False
    return True


def hub_unreachable() -> str | None:
    """Why the hub cannot be used from this process (offline mode, or its endpoint does not answer), else ``None``."""
    offline = offline_mode()
    if offline:
        return f"{offline} is set"
    endpoint = os.environ.get("HF_ENDPOINT", DEFAULT_ENDPOINT).rstrip("/")
    return None if _endpoint_answers(endpoint) else f"{endpoint} cannot be reached"


def benchmark_error(name: str, reason: str) -> HubUnreachable:
    """The error for benchmark ``name`` (canonical) when the hub cannot be used, naming every way to give it."""
    return HubUnreachable(
        f"benchmark {name} comes from the Hugging Face hub, which cannot be used here ({reason}): pass --data_dir DIR "
        f"with DIR/{name}/test.jsonl, or set RAST_DATA_DIR=DIR; `python -m rast_benchmarks fetch {name} --out DIR` "
        "on a connected machine writes that file (and fills the datasets cache, which machines sharing its HF_HOME "
        "read with HF_HUB_OFFLINE=1)")


def is_hub_id(model: str) -> bool:
    """Whether ``model`` is read as a hub id (``Qwen/Qwen2.5-1.5B``): nothing on this machine by that name, and not
    written as a path (``/``, ``./``, ``../``, ``~`` or more than one ``/``)."""
    return not (Path(model).expanduser().exists() or model.startswith(("/", "./", "../", "~")) or model.count("/") > 1)


def _cached(model: str) -> bool:
    from huggingface_hub import try_to_load_from_cache  # installed with transformers, which loads every model

    try:
        return isinstance(try_to_load_from_cache(model, "config.json"), str)
    except ValueError:  # not a valid repo id ("a b"): no cache holds it
        return False


def check_models_available(models: Iterable[str]) -> None:
    """Raise :class:`HubUnreachable` when a model named by hub id is not in the local Hugging Face cache and the hub
    cannot be reached; paths (checked elsewhere) and cached hub ids always pass, and the hub is probed only when
    needed."""
    missing = [model for model in models if is_hub_id(model) and not _cached(model)]
    reason = hub_unreachable() if missing else None
    if reason:
        model = missing[0]
        raise HubUnreachable(
            f"model {model} is not a directory here nor in the Hugging Face cache, and the hub cannot be used "
            f"({reason}): give a checkpoint directory, or run `hf download {model}` once on a connected machine "
            "with the same HF_HOME (or copy its checkpoint folder here)")
