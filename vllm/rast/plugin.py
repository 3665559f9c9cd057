"""vLLM plugin entry point: vLLM calls :func:`register` in every process it starts."""

from rast.config import ARCHITECTURE


def register() -> None:
    """Register ``RastForCausalLM`` with vLLM's model registry (lazily, by import path); engine processes that vLLM
    starts exit with their parent (see :mod:`rast.lifetime`)."""
    from vllm import ModelRegistry

    from rast.lifetime import exit_with_parent

    exit_with_parent()

    if ARCHITECTURE not in ModelRegistry.get_supported_archs():
        ModelRegistry.register_model(ARCHITECTURE, "rast.model:RastForCausalLM")
