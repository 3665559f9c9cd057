"""The tensor-parallel group a small model runs in: the engine's (sharded with the base) or its own rank (replicated).

A replicated small model is a whole copy on every rank of the engine: built, loaded and run while vLLM's
tensor-parallel group is a group of one rank, so its layers hold every attention head, its weight loaders take whole
tensors, its linear layers skip the all-reduce and its output layer skips the gather. vLLM reads the group through
``parallel_state.get_tp_group()`` at each of those moments; :func:`tensor_parallel_group` swaps it for the duration.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import torch
from vllm.distributed import parallel_state
from vllm.distributed.parallel_state import GroupCoordinator

REPLICATED = 1  # a small model's tensor-parallel size when every rank holds all of it

_replicated_group: GroupCoordinator | None = None


def replicated_group() -> GroupCoordinator:
    """This rank alone, as a tensor-parallel group (made once per process, by every rank together)."""
    global _replicated_group
    if _replicated_group is None:
        world = parallel_state.get_world_group()
        _replicated_group = parallel_state.init_model_parallel_group(
            [[rank] for rank in world.ranks], world.local_rank, torch.distributed.get_backend(world.device_group),
            group_name="rast_replicated")
    return _replicated_group


@contextlib.contextmanager
def tensor_parallel_group(group: GroupCoordinator | None) -> Iterator[None]:
    """vLLM sees ``group`` as the tensor-parallel group inside the block (``None``: the engine's, unchanged)."""
    if group is None:
        yield
        return
    engine_group = parallel_state._TP
    parallel_state._TP = group
    try:
        yield
    finally:
        parallel_state._TP = engine_group
