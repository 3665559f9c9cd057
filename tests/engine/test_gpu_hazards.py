"""GPU-only hazards of vLLM's compiled path, reproduced on CPU (see docs/gpu.md)."""

import os
from pathlib import Path

import pytest
from engine_helpers import ENGINE_SETTINGS, NEW_TOKENS, greedy_tokens

from rast import ModelPair, RastLLM
from rast.reference import ReferenceRast

HERE = Path(__file__).resolve().parent


@pytest.fixture(scope="module")
def pooled_engine(tiny_models):
    """An engine whose sub-models return their outputs in shared memory, as CUDA-graph pools do."""
    previous = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(HERE), previous]))  # the worker imports the extension
    try:
        llm = RastLLM(tiny_models["base"], tiny_models["positive"], tiny_models["negative"], alpha=1.0,
                      worker_extension_cls="pooled_outputs.PooledOutputsExtension", **ENGINE_SETTINGS)
    finally:
        os.environ.pop("PYTHONPATH") if previous is None else os.environ.update(PYTHONPATH=previous)
    llm.collective_rpc("rast_test_pool_outputs")
    yield llm
    llm.shutdown()


def test_sub_model_outputs_in_one_graph_pool_still_give_the_reference_tokens(pooled_engine, tiny_models, prompt_ids):
    """Each sub-model's output must be safe before the next sub-model runs (hazard 1 of docs/gpu.md)."""
    reference = ReferenceRast(tiny_models["base"], [ModelPair(tiny_models["positive"], tiny_models["negative"], 1.0)])
    assert greedy_tokens(pooled_engine, prompt_ids) == reference.generate(prompt_ids, NEW_TOKENS)
