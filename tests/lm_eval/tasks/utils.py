"""lm-evaluation-harness helpers for RAST's benchmarks: the problems from the rast_benchmarks registry, each answer
scored by the project's grader (simplerl_math_eval), as the evaluator scores run.py's files."""

from __future__ import annotations

import datasets
from rast_benchmarks import load_benchmark
from simplerl_math_eval import extract_answer, math_equal


def load(benchmark: str, **_: object) -> datasets.DatasetDict:
    """The benchmark's records (``problem``, ``answer``, ...) as the ``test`` split (lm_eval's ``custom_dataset``:
    called with the task's ``dataset_kwargs`` and ``metadata``; only ``benchmark`` is used)."""
    return datasets.DatasetDict({"test": datasets.Dataset.from_list(load_benchmark(benchmark))})


def process_results(doc: dict, results: list[str]) -> dict[str, float]:
    """``acc``: 1.0 when the answer extracted from the model's text equals the gold answer under the grader."""
    return {"acc": float(math_equal(extract_answer(results[0], "lm_eval"), str(doc["answer"])))}
