"""vLLM plugin entry point: vLLM calls :func:`register` in every process it starts."""

from rast.config import ARCHITECTURE


def register() -> None:
    """Register ``RastForCausalLM`` with vLLM's model registry (lazily, by import path)."""
    from vllm import ModelRegistry

    if ARCHITECTURE not in ModelRegistry.get_supported_archs():
        ModelRegistry.register_model(ARCHITECTURE, "rast.model:RastForCausalLM")
