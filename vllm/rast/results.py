"""A results directory: ``prediction-{i}.jsonl`` (one per run, one line per problem) and ``run_config.json``.

Lines are appended a few finished problems at a time and made durable (flush + fsync) before the next append, so a
crash or Ctrl-C loses only the problems not yet written. :meth:`PredictionFiles.resume` cuts every file back to the
number of complete lines all of them share (a torn last line is dropped), which is where generation restarts.
A run holds a :class:`DirectoryLock` on each directory it writes, so two runs never write one directory.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

CONFIG_FILE = "run_config.json"


@dataclass(frozen=True)
class PairSettings:
    """One (positive, negative) pair of a run, as recorded: checkpoint paths made absolute, or hub ids."""

    positive: str
    negative: str
    alpha: float


@dataclass(frozen=True)
class RunSettings:
    """What a results directory holds (``run_config.json``'s ``settings``): continuing a directory whose recorded
    settings differ in any field would mix two experiments in one file. ``pairs`` is empty for a model alone."""

    dataset: str
    num_problems: int
    base_model: str
    pairs: tuple[PairSettings, ...]
    temperature: float
    top_p: float
    max_tokens: int
    seed: int
    num_runs: int
    prompt_template: str
    stop: tuple[str, ...]
    stop_token_ids: tuple[int, ...]
    dtype: str
    max_model_len: int | None

    def as_json(self) -> dict[str, Any]:
        """The settings as ``run_config.json`` records them (lists, not tuples)."""
        return json.loads(json.dumps(asdict(self)))

    def differences(self, recorded: dict[str, Any]) -> list[str]:
        """``"field recorded, not ours"`` for every field where ``recorded`` (a run_config's settings) differs."""
        return [f"{key} {recorded.get(key)!r}, not {value!r}" for key, value in self.as_json().items()
                if recorded.get(key) != value]


def prediction_path(directory: Path, run: int) -> Path:
    """The file holding run ``run``'s answers to every problem."""
    return directory / f"prediction-{run}.jsonl"


def complete_lines_end(path: Path, limit: int | None = None) -> tuple[int, int]:
    """The number of newline-terminated lines at the start of ``path`` (at most ``limit``) and where they end."""
    count = end = 0
    if path.exists():
        with open(path, "rb") as handle:
            for line in handle:
                if count == limit or not line.endswith(b"\n"):
                    break
                count += 1
                end += len(line)
    return count, end


class PredictionFiles:
    """The ``num_runs`` prediction files of one results directory, written one chunk of problems at a time."""

    def __init__(self, directory: Path, num_runs: int) -> None:
        self.directory = directory
        self.paths = [prediction_path(directory, run) for run in range(num_runs)]

    def resume(self) -> int:
        """Cut every file to the complete lines all files share; return that count (the next problem to write)."""
        self.directory.mkdir(parents=True, exist_ok=True)
        common = min(complete_lines_end(path)[0] for path in self.paths)
        for path in self.paths:
            end = complete_lines_end(path, limit=common)[1]
            with open(path, "ab") as handle:
                handle.truncate(end)
                handle.flush()
                os.fsync(handle.fileno())
        return common

    def append(self, rows_per_run: Sequence[Sequence[dict[str, Any]]]) -> None:
        """Append ``rows_per_run[i]`` to file ``i`` as JSON lines, durably, before returning."""
        self.directory.mkdir(parents=True, exist_ok=True)
        for path, rows in zip(self.paths, rows_per_run, strict=True):
            data = "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows).encode("utf-8")
            with open(path, "ab") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())


def read_run_config(directory: Path) -> dict[str, Any] | None:
    """The ``run_config.json`` of ``directory``, or ``None`` when there is none."""
    path = directory / CONFIG_FILE
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None


def write_run_config(directory: Path, config: dict[str, Any]) -> None:
    """Write ``run_config.json`` (through a temporary file, so it is never half written)."""
    directory.mkdir(parents=True, exist_ok=True)
    temporary = directory / (CONFIG_FILE + ".tmp")
    temporary.write_text(json.dumps(config, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    temporary.replace(directory / CONFIG_FILE)


def has_results(directory: Path) -> bool:
    """Whether ``directory`` holds a run config or any prediction file."""
    return (directory / CONFIG_FILE).exists() or any(directory.glob("prediction-*.jsonl"))


def clear_results(directory: Path) -> None:
    """Remove a results directory, to start it afresh."""
    shutil.rmtree(directory, ignore_errors=True)


class ResultsInUse(ValueError):
    """Another live process holds the results directory."""


class DirectoryLock:
    """An exclusive lock on one results directory (``.{name}.lock`` beside it), held until :meth:`release` or the
    holder's death however it dies; the lock file names the holder's pid."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.path = directory.parent / f".{directory.name}.lock"
        self.handle = None

    def acquire(self) -> None:
        """Take the lock, or raise :class:`ResultsInUse` naming the process that holds it."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        while self.handle is None:
            handle = open(self.path, "a+", encoding="utf-8")
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                handle.seek(0)
                holder = handle.read().strip() or "another process"
                handle.close()
                raise ResultsInUse(f"{self.directory} is being written by another run ({holder}): wait for it to end, "
                                   "or choose another --output_dir") from None
            if self.path.exists() and os.stat(self.path).st_ino == os.fstat(handle.fileno()).st_ino:
                self.handle = handle  # still the live lock file (a releasing holder may unlink the one we opened)
            else:
                handle.close()
        self.handle.seek(0)
        self.handle.truncate()
        self.handle.write(f"pid {os.getpid()}\n")
        self.handle.flush()

    def release(self) -> None:
        if self.handle is not None:
            self.path.unlink(missing_ok=True)
            self.handle.close()
            self.handle = None


def write_manifest(path: Path, directories: Sequence[Path]) -> None:
    """List the results directories of a run, one absolute path per line (what launch scripts hand the evaluator)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(f"{directory.resolve()}\n" for directory in directories), encoding="utf-8")
