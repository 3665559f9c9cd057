"""The generation loop: problems in chunks, ``num_runs`` samples each, every finished chunk appended to the files.

Each problem carries its own seed (see :func:`rast.experiment.problem_seed`), so its samples do not depend on which
chunk it falls in: a resumed run writes the same lines as an uninterrupted one. On vLLM's CPU backend, per-request
seeds were checked to be batch-invariant (the same samples alone, in chunks of 2, in one batch of 8, in reverse order);
on GPUs batched kernels may round differently with the batch shape, so bit-exact resumption is not guaranteed there.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from tqdm import tqdm

from rast.experiment import Problem, problem_seed
from rast.results import PredictionFiles


def seeded_engine_kwargs() -> dict[str, Any]:
    """Engine settings that seeded sampling needs on this platform.

    vLLM 0.32 rewinds a seeded request's ``torch.Generator`` by an offset whenever it discards the token sampled after
    a partial prefill, and CPU generators have no offset ("CPU Generator does not use offset"): on CPU the engine dies
    as soon as a prompt's prefill is split across steps. Without chunked prefill, no prefill is split.
    """
    from vllm.platforms import current_platform

    return {"enable_chunked_prefill": False} if current_platform.is_cpu() else {}


def sampling_params(problem: Problem, settings: dict[str, Any]):
    """``num_runs`` samples of one problem, seeded by (seed, problem index)."""
    from vllm import SamplingParams

    return SamplingParams(n=settings["num_runs"], seed=problem_seed(settings["seed"], problem.idx),
                          temperature=settings["temperature"], top_p=settings["top_p"],
                          max_tokens=settings["max_tokens"])


def rows_per_run(problems: Sequence[Problem], outputs: Sequence[Any], num_runs: int) -> list[list[dict[str, Any]]]:
    """Turn vLLM outputs (one per problem, ``num_runs`` samples each) into one list of JSONL rows per run."""
    rows: list[list[dict[str, Any]]] = [[] for _ in range(num_runs)]
    for problem, output in zip(problems, outputs, strict=True):
        samples = sorted(output.outputs, key=lambda sample: sample.index)
        for run, sample in enumerate(samples):
            rows[run].append({"idx": problem.idx, "question": problem.question, "model_output": sample.text,
                              "answer": problem.answer, "num_tokens": len(sample.token_ids),
                              "finish_reason": sample.finish_reason})
    return rows


def generate_into(llm: Any, problems: Sequence[Problem], files: PredictionFiles, settings: dict[str, Any],
                  chunk_size: int, description: str) -> None:
    """Generate every problem the files do not hold yet, ``chunk_size`` problems per engine call."""
    start = files.resume()
    samples = tokens = 0
    began = time.perf_counter()
    with tqdm(total=len(problems), initial=start, desc=description, unit="problem") as progress:
        for first in range(start, len(problems), chunk_size):
            chunk = problems[first:first + chunk_size]
            outputs = llm.generate([p.prompt for p in chunk], [sampling_params(p, settings) for p in chunk],
                                   use_tqdm=False)
            files.append(rows_per_run(chunk, outputs, settings["num_runs"]))
            samples += sum(len(output.outputs) for output in outputs)
            tokens += sum(len(sample.token_ids) for output in outputs for sample in output.outputs)
            progress.set_postfix(samples=samples, tok_s=f"{tokens / (time.perf_counter() - began):.1f}")
            progress.update(len(chunk))
