"""The generation loop: every remaining problem streamed through vLLM's engine, written in dataset order.

Requests go to the engine directly (``LLMEngine.add_request`` / ``step``), at most ``window`` problems at a time
(default: all of them), and each finished problem is taken out as soon as its last sample ends, so the batch stays
full however uneven the answer lengths are. A problem is appended to the files once it and every earlier problem are
complete: the files always hold a contiguous prefix in dataset order, and a crash, Ctrl-C, SIGTERM or kill -9 loses
only the problems not yet written.

Each problem carries its own seed (see :func:`rast.experiment.problem_seed`), so its samples do not depend on which
problems share the batch with it: a resumed run writes the same lines as an uninterrupted one. On vLLM's CPU backend,
per-request seeds were checked to be batch-invariant; on GPUs batched kernels may round differently with the batch
shape, so bit-exact resumption is not guaranteed there.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from contextlib import closing, suppress
from dataclasses import dataclass
from typing import Any

from tqdm import tqdm

from rast.experiment import Problem, problem_seed
from rast.results import PredictionFiles, RunSettings


def sampling_params(problem: Problem, settings: RunSettings):
    """``num_runs`` samples of one problem, seeded by (seed, problem index), with the run's stops."""
    from vllm import SamplingParams
    from vllm.sampling_params import RequestOutputKind

    return SamplingParams(n=settings.num_runs, seed=problem_seed(settings.seed, problem.idx),
                          temperature=settings.temperature, top_p=settings.top_p, max_tokens=settings.max_tokens,
                          stop=list(settings.stop), stop_token_ids=list(settings.stop_token_ids),
                          output_kind=RequestOutputKind.FINAL_ONLY)


def stream(llm: Any, requests: Sequence[tuple[Any, Any]], window: int | None = None) -> Iterator[tuple[int, Any]]:
    """Run ``(prompt, sampling params)`` requests with at most ``window`` in the engine (default: all at once).

    Yields ``(index, RequestOutput)`` as each request finishes, in finishing order. Requests still in the engine when
    the caller stops (an exception, Ctrl-C, ``close()``) are aborted, so the engine is clean for the next call.
    """
    engine = llm.llm_engine
    window = window or len(requests)
    tag = f"rast-{time.monotonic_ns()}"
    in_engine: set[str] = set()
    submitted = 0
    try:
        while submitted < len(requests) or in_engine:
            while submitted < len(requests) and len(in_engine) < window:
                prompt, params = requests[submitted]
                engine.add_request(f"{tag}-{submitted}", prompt, params)
                in_engine.add(f"{tag}-{submitted}")
                submitted += 1
            for output in engine.step():
                if output.finished and output.request_id in in_engine:
                    in_engine.remove(output.request_id)
                    yield int(output.request_id.rsplit("-", 1)[1]), output
    finally:
        if in_engine:
            with suppress(Exception):  # a dead engine has nothing left to abort; the original error goes on
                engine.abort_request(sorted(in_engine))


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


@dataclass(frozen=True)
class Target:
    """One results directory of a pass: its files, its settings and the alphas its requests carry (``None``: the
    engine's alphas)."""

    files: PredictionFiles
    settings: RunSettings
    alphas: list[float] | None = None


def generate_into(llm: Any, problems: Sequence[Problem], files: PredictionFiles, settings: RunSettings,
                  window: int | None, description: str) -> None:
    """Generate every problem the files do not hold yet, appending each as soon as all earlier ones are written."""
    generate_targets(llm, problems, [Target(files, settings)], window, description)


def generate_targets(llm: Any, problems: Sequence[Problem], targets: Sequence[Target], window: int | None,
                     description: str) -> None:
    """Generate every problem each target's files do not hold yet, all targets in one pass through the engine.

    A sweep's alphas share the batch (each request carries its target's alphas, and the same prompt's blocks come
    from the prefix cache); each target's files are appended in dataset order, as one target alone would write them.
    """
    starts = [target.files.resume() for target in targets]
    # the requests problem by problem, every target's in turn: the same prompt arrives together
    order = sorted((problem_index, t) for t, start in enumerate(starts)
                   for problem_index in range(start, len(problems)))
    requests = [(problems[i].prompt, _target_params(problems[i], targets[t])) for i, t in order]
    finished: list[dict[int, Any]] = [{} for _ in targets]  # per target: problem index -> output, awaiting earlier ones
    written = list(starts)
    samples = tokens = 0
    began = time.perf_counter()
    with tqdm(total=len(problems) * len(targets), initial=sum(starts), desc=description, unit="problem") as progress, \
            closing(stream(llm, requests, window)) as outputs:
        for position, output in outputs:
            problem_index, t = order[position]
            finished[t][problem_index] = output
            samples += len(output.outputs)
            tokens += sum(len(sample.token_ids) for sample in output.outputs)
            ready = []
            while written[t] + len(ready) in finished[t]:
                ready.append(finished[t].pop(written[t] + len(ready)))
            if ready:
                targets[t].files.append(rows_per_run(problems[written[t]:written[t] + len(ready)], ready,
                                                     targets[t].settings.num_runs))
                written[t] += len(ready)
                progress.update(len(ready))
            progress.set_postfix(finished=sum(written) + sum(map(len, finished)), samples=samples,
                                 tok_s=f"{tokens / (time.perf_counter() - began):.1f}", refresh=False)


def _target_params(problem: Problem, target: Target):
    from rast.request_alpha import with_request_alphas

    params = sampling_params(problem, target.settings)
    return params if target.alphas is None else with_request_alphas(params, target.alphas)
