"""RAST: reasoning activation by small-model transfer, inside vLLM.

``RastLLM`` is the friendly entry point; ``RastConfig.hf_overrides()`` gives the form that plain ``vllm.LLM`` and
``vllm serve`` accept once this package is installed (its plugin registers ``RastForCausalLM``).
"""

from rast.api import RastLLM, engine_kwargs, rast_config
from rast.config import ModelPair, RastConfig, RastConfigError

__all__ = ["ModelPair", "RastConfig", "RastConfigError", "RastLLM", "engine_kwargs", "rast_config"]
