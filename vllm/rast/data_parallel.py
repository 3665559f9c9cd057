"""Data-parallel runs on Ray: N engine replicas (Ray actors, each its own tensor-parallel group) share the problems.

The problems still to do are cut into N contiguous shards. Replica r writes its shard's samples to
``{results}/.shards/{start}-{stop}/prediction-{i}.jsonl`` with the same streaming, resumable loop as a single engine
(:func:`rast.generation.generate_into`), and since every problem is seeded by (seed, index) alone, its samples do not
depend on the replica. When every shard is complete, the shards are appended in order to the results' own files and
removed: the files equal those of a single-replica run. If a replica dies, the finished problems of every shard stay;
the same command resumes them.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from rast_benchmarks.loading import read_jsonl

from rast.results import PredictionFiles

SHARDS_DIR = ".shards"


class DataParallelError(RuntimeError):
    """A data-parallel run that cannot go on (too few GPUs, a replica died); finished problems stay saved."""


def check_ray_address(address: str | None, timeout: float = 5.0) -> None:
    """Fail fast, with one line, when a ``host:port`` Ray address does not answer."""
    import socket

    if address in (None, "auto", "local"):
        return
    host, _, port = address.removeprefix("ray://").rpartition(":")
    try:
        with socket.create_connection((host, int(port)), timeout=timeout):
            return
    except (OSError, ValueError):
        raise ValueError(f"cannot reach a Ray cluster at {address}: start one there (ray start --head), fix "
                         "--ray_address, or leave it out to run a local Ray instance") from None


def shard_bounds(start: int, stop: int, num_shards: int) -> list[tuple[int, int]]:
    """``[start, stop)`` cut into at most ``num_shards`` contiguous, non-empty ranges of near-equal size."""
    size, extra = divmod(stop - start, num_shards)
    bounds, first = [], start
    for shard in range(num_shards):
        last = first + size + (shard < extra)
        if last > first:
            bounds.append((first, last))
        first = last
    return bounds


def shard_files(directory: Path, bounds: tuple[int, int], num_runs: int) -> PredictionFiles:
    """The prediction files of one shard of a results directory."""
    return PredictionFiles(directory / SHARDS_DIR / f"{bounds[0]}-{bounds[1]}", num_runs)


def merge_shards(files: PredictionFiles, bounds: Sequence[tuple[int, int]]) -> None:
    """Append every shard's lines, in order, to the results' files, then remove the shards."""
    for shard in bounds:
        pieces = shard_files(files.directory, shard, len(files.paths))
        files.append([read_jsonl(path) for path in pieces.paths])
    shutil.rmtree(files.directory / SHARDS_DIR, ignore_errors=True)


class Replica:
    """One engine replica (run as a Ray actor): generates shards of problems into shard files."""

    def __init__(self, rank: int, make_engine: Callable[[], Any]) -> None:
        import os

        from vllm.platforms import current_platform

        if current_platform.is_cpu():  # spread the replicas over the cores instead of stacking them on one
            os.environ["VLLM_CPU_OMP_THREADS_BIND"] = str(rank % os.cpu_count())
        self.llm = make_engine()

    def ready(self) -> None:
        """Returns once the engine has started (Ray runs ``__init__`` first)."""

    def generate(self, jobs: Sequence[tuple[list[float], list, PredictionFiles, dict]],
                 generate_into: Callable) -> None:
        """Each job: the alphas, the problems of this replica's shard, its shard files and the settings."""
        for alphas, problems, files, settings in jobs:
            if alphas:
                self.llm.set_alpha(alphas)
            generate_into(self.llm, problems, files, settings, description=files.directory.name)

    def shutdown(self) -> None:
        self.llm.shutdown()


def run_data_parallel(plans: Sequence[Any], problems: Sequence[Any], make_engine: Callable[[], Any],
                      num_replicas: int, tensor_parallel_size: int, generate_into: Callable,
                      on_started: Callable[[], None], ray_address: str | None) -> None:
    """Generate every unfinished plan with ``num_replicas`` Ray actors, then merge their shards into the files.

    ``generate_into`` is :func:`rast.generation.generate_into` with the run's window; ``on_started`` runs once every
    replica's engine is up (the run records its settings then, not before).
    """
    import ray
    from vllm.platforms import current_platform

    gpus_per_replica = 0 if current_platform.is_cpu() else tensor_parallel_size

    shards = {each.directory: shard_bounds(each.files().resume(), len(problems), num_replicas) for each in plans}
    jobs: list[list[tuple]] = [[] for _ in range(num_replicas)]
    for each in plans:
        for rank, bounds in enumerate(shards[each.directory]):
            files = shard_files(each.directory, bounds, each.settings.num_runs)
            jobs[rank].append((each.alphas, list(problems[bounds[0]:bounds[1]]), files, each.settings))

    ray.init(address=ray_address, ignore_reinit_error=True)
    available = ray.cluster_resources().get("GPU", 0)
    if available < num_replicas * gpus_per_replica:
        raise DataParallelError(f"{num_replicas} replicas x {gpus_per_replica} GPUs (tensor parallel) need "
                                f"{num_replicas * gpus_per_replica} GPUs; the Ray cluster has {available:g}: lower "
                                "--data_parallel_size or --tensor_parallel_size")
    replica_class = ray.remote(num_cpus=0, num_gpus=gpus_per_replica)(Replica)
    replicas = [replica_class.remote(rank, make_engine) for rank in range(num_replicas)]
    try:
        try:
            ray.get([replica.ready.remote() for replica in replicas])
            on_started()
            ray.get([replica.generate.remote(work, generate_into) for replica, work in zip(replicas, jobs)])
        except ray.exceptions.RayError as error:
            raise DataParallelError(f"a replica failed ({type(error).__name__}); finished problems are saved: run the "
                                    "same command again to resume") from error
        for each in plans:
            merge_shards(each.files(), shards[each.directory])
    finally:
        for replica in replicas:
            try:
                ray.get(replica.shutdown.remote(), timeout=60)
            except Exception:  # noqa: BLE001 - a dead replica has nothing left to shut down
                pass
            ray.kill(replica)
