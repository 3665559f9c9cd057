"""Loading benchmark records from a local folder, the bundled demo set or the Hugging Face hub."""

from __future__ import annotations

import json
import os
import warnings
from importlib.resources import files
from pathlib import Path

from rast_benchmarks.hub import benchmark_error, hub_unreachable, offline_mode
from rast_benchmarks.registry import BenchmarkSpec, get_spec

DATA_DIR_ENV = "RAST_DATA_DIR"


def read_jsonl(path: Path) -> list[dict]:
    """Read one JSON object per non-empty line; a malformed line raises ValueError naming file and line."""
    records = []
    with open(path, encoding="utf-8") as handle:
        for line_number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                records.append(json.loads(line))
            except json.JSONDecodeError as err:
                raise ValueError(f"{path}:{line_number}: line {line_number} is not valid JSON ({err.msg}); fix or "
                                 "regenerate the file") from None
    return records


def _local_file(spec: BenchmarkSpec, data_dir: str) -> Path:
    path = Path(data_dir) / spec.name / "test.jsonl"
    if not path.is_file():
        raise FileNotFoundError(
            f"expected {path} (layout: {data_dir}/<benchmark>/test.jsonl); pass --data_dir (or set "
            f"{DATA_DIR_ENV}) pointing to a folder with that layout, or leave both unset to use the hub"
        )
    return path


def _load_from_hub(spec: BenchmarkSpec) -> list[dict]:
    """The hub's records; in offline mode the datasets cache's. Neither possible: one :class:`HubUnreachable`."""
    reason = hub_unreachable()
    if reason and not offline_mode():
        raise benchmark_error(spec.name, reason)
    from datasets import load_dataset  # lazy: only needed without a local data folder

    try:
        dataset = load_dataset(spec.hub_id, spec.hub_config, split=spec.split)
    except Exception as error:  # noqa: BLE001 - offline, every failure means the cache does not hold it
        if not reason:
            raise
        raise benchmark_error(spec.name, f"{reason} and the datasets cache lacks it: {type(error).__name__}") from None
    return [dict(record) for record in dataset]


def load_benchmark(name: str, data_dir: str | None = None) -> list[dict]:
    """Return the raw records of a benchmark in file order.

    Source precedence: the bundled data for ``demo``; else ``data_dir``; else ``$RAST_DATA_DIR``;
    else the Hugging Face hub (in offline mode its cache; when it cannot be used,
    :class:`~rast_benchmarks.hub.HubUnreachable` names the fixes). A record count different from the registry's only
    warns.
    """
    spec = get_spec(name)
    data_dir = data_dir or os.environ.get(DATA_DIR_ENV)
    if spec.hub_id is None:
        records = read_jsonl(Path(str(files("rast_benchmarks") / spec.name / "test.jsonl")))
    elif data_dir:
        records = read_jsonl(_local_file(spec, data_dir))
    else:
        records = _load_from_hub(spec)
    if len(records) != spec.expected_count:
        warnings.warn(
            f"{spec.name}: loaded {len(records)} records, expected {spec.expected_count}",
            stacklevel=2,
        )
    return records

