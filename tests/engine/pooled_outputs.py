"""A worker extension that reproduces, on CPU, how CUDA graphs hand out a compiled sub-model's output.

Under vLLM's piecewise CUDA graphs the last piece of each compiled model returns a tensor in one global graph memory
pool and gives that memory back at once (a weak reference); the next compiled model's graphs reuse it. Here every
sub-model's forward returns its output inside one scratch tensor shared by all of them, so whatever the composite
still holds from one sub-model is overwritten when the next one runs, as on a GPU.
"""

import torch

from rast.worker_extension import RastWorkerExtension


class PooledOutputsExtension(RastWorkerExtension):
    def rast_test_pool_outputs(self) -> None:
        """From now on every sub-model's output is a view of one shared scratch tensor."""
        pool = {"memory": torch.empty(0)}
        for sub_model in self.model_runner.get_model().sub_models:
            sub_model.forward = _pooled(sub_model.forward, pool)


def _pooled(forward, pool: dict[str, torch.Tensor]):
    def pooled_forward(*args, **kwargs) -> torch.Tensor:
        output = forward(*args, **kwargs)
        if pool["memory"].numel() < output.numel():
            pool["memory"] = torch.empty(output.numel(), dtype=output.dtype, device=output.device)
        shared = pool["memory"][:output.numel()].view_as(output)
        shared.copy_(output)
        return shared

    return pooled_forward
