"""Sample ``--num_runs`` answers per benchmark problem with RAST (or a model alone) and write prediction files.

Run from inside vllm/, e.g.
    python tests/RAST_decode/run.py --dataset MATH --base_model Qwen/Qwen2.5-32B \\
        --positive_model PATH/TO/RL-1.5B --negative_model Qwen/Qwen2.5-1.5B --cd_decoding_alpha 0.5 1.0 2.0

With no --base_model, --positive_model and --negative_model it runs the tiny offline test models on the bundled
demo set, end to end. Without positive/negative models it runs --base_model alone through the same pipeline.

Writes {output_dir}/{dataset}/{base}_{small}_alpha_{alpha}_temp_{T}/prediction-{i}.jsonl (or {base}_temp_{T} for
a model alone), one line per problem, plus run_config.json. An interrupted run (Ctrl-C, SIGTERM, a crash) resumes
where it stopped when the same command is run again, producing the same files as an uninterrupted run. Samples end at
the base model's own stop tokens (EOS and chat end tokens) and at --stop strings (for the original template, where a
new "Question:" block begins). Every setting is checked before any model work.
"""

from __future__ import annotations

import argparse
import signal
import sys
from pathlib import Path
from typing import NoReturn

from rast import RastConfigError
from rast.cli import OneLineParser
from rast.config import check_alpha
from rast.experiment import (ExperimentError, Plan, Problem, check_output_dir, check_prompts_fit, load_problems,
                             model_id, plan_directory, prepare_directory, sweep_configs, versions)
from rast.results import DirectoryLock, RunSettings

PAIR_SUFFIXES = ("", "1", "2")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options (the original project's names and defaults, plus a few of ours)."""
    parser = OneLineParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dataset", default="demo",
                        help="MATH, AIME, Minerva, AMC, Olympiad, GSM8K (any case), a canonical name (math500, "
                             "aime24, amc23, minerva_math, olympiadbench, gsm8k) or demo (default, bundled)")
    parser.add_argument("--base_model", help="the large model (default: the tiny test base model, see above)")
    for suffix in PAIR_SUFFIXES:
        parser.add_argument(f"--positive_model{suffix}", help=f"small RL-tuned model of pair {suffix or 0}")
        parser.add_argument(f"--negative_model{suffix}", help=f"the same small model before RL, pair {suffix or 0}")
    parser.add_argument("--cd_decoding_alpha", type=float, nargs="+", default=[1.0],
                        help="weight of pair 0; several values sweep them on one engine load (default 1.0)")
    parser.add_argument("--cd_decoding_alpha1", type=float, help="weight of pair 1 (default: --cd_decoding_alpha)")
    parser.add_argument("--cd_decoding_alpha2", type=float, help="weight of pair 2 (default: --cd_decoding_alpha)")
    parser.add_argument("--tensor_parallel_size", type=int, default=1)
    parser.add_argument("--small_tensor_parallel_size", type=int,
                        help="tensor-parallel size of the small pairs: 1 (a copy on every GPU, no all-reduce) or "
                             "--tensor_parallel_size (default: that where their heads split, else 1)")
    parser.add_argument("--gpu_memory_utilization", type=float, default=0.8)
    parser.add_argument("--decoding_temperature", type=float, default=1.0)
    parser.add_argument("--top_p", type=float, default=0.95)
    parser.add_argument("--num_runs", type=int, default=10, help="samples per problem: prediction-0 .. -{N-1}")
    parser.add_argument("--max_tokens", type=int, default=16384, help="most new tokens per sample")
    parser.add_argument("--seed", type=int, default=0, help="each problem's samples are seeded by (seed, index)")
    parser.add_argument("--limit", type=int, help="only the first N problems")
    parser.add_argument("--output_dir", default="results")
    parser.add_argument("--prompt_template", default="original",
                        help="original, qwen_boxed, or a literal template containing {question}")
    parser.add_argument("--stop", nargs="*",
                        help="stop strings (default: the template's; for original, a new \"\\nQuestion:\" block); "
                             "--stop alone: none")
    parser.add_argument("--data_dir", help="local benchmarks laid out as DIR/{dataset}/test.jsonl (default: hub)")
    parser.add_argument("--overwrite", action="store_true", help="start existing results directories afresh")
    parser.add_argument("--one_pass_sweep", action="store_true",
                        help="run every --cd_decoding_alpha in one pass, all alphas in the batch together (each "
                             "request carries its own); default: one alpha after another")
    parser.add_argument("--dtype", default="auto", help="vLLM dtype: auto, bfloat16, float16, float32")
    parser.add_argument("--max_model_len", type=int, help="vLLM context length (default: the model's)")
    parser.add_argument("--enforce_eager", action="store_true", help="no CUDA graphs / compilation (starts faster)")
    parser.add_argument("--window", type=int,
                        help="most problems in the engine at once (default: all); each is written once it and every "
                             "earlier problem are done")
    parser.add_argument("--manifest", help="write the results directories of this run to this file, one per line")
    parser.add_argument("--data_parallel_size", type=int, default=1,
                        help="engine replicas on Ray, each with its own tensor-parallel group, sharing the problems")
    parser.add_argument("--ray_address", help="Ray cluster to join (host:port or auto); default: a local instance")
    args = parser.parse_args(argv)
    for name in ("num_runs", "max_tokens", "limit", "window", "max_model_len", "data_parallel_size",
                 "tensor_parallel_size"):
        if getattr(args, name) is not None and getattr(args, name) < 1:
            parser.error(f"--{name} must be at least 1")
    if not 0 < args.gpu_memory_utilization <= 1:
        parser.error("--gpu_memory_utilization must be in (0, 1]")
    if args.decoding_temperature == 0 and args.num_runs > 1:
        parser.error("--decoding_temperature 0 is greedy decoding, so every run would be the same: use --num_runs 1")
    return args


def resolve_models(args: argparse.Namespace) -> None:
    """Fill in the tiny test models when no model is named at all."""
    if args.base_model is None and args.positive_model is None and args.negative_model is None:
        from rast.tiny_models import fill_missing_models

        fill_missing_models(args, {"base_model": "base", "positive_model": "positive", "negative_model": "negative"})
    if args.base_model is None:
        raise RastConfigError("--base_model is required when positive/negative models are given")


def pair_models(args: argparse.Namespace) -> tuple[list[str | None], list[str | None]]:
    """The positive and the negative model of each of the three pairs (``None`` where not given)."""
    return ([getattr(args, f"positive_model{s}") for s in PAIR_SUFFIXES],
            [getattr(args, f"negative_model{s}") for s in PAIR_SUFFIXES])


def plan(args: argparse.Namespace) -> tuple[list[Problem], list[Plan], list[DirectoryLock]]:
    """The problems and one locked results directory per alpha, every setting checked before any model work."""
    from rast_benchmarks import canonical_name
    from rast_benchmarks.prompts import default_stops
    from transformers import AutoTokenizer

    from rast.stops import stop_token_ids
    from rast.validation import check_layout

    resolve_models(args)
    check_output_dir(args.output_dir)
    dataset = canonical_name(args.dataset)
    problems = load_problems(dataset, args.data_dir, args.prompt_template, args.limit)
    if not problems:
        raise ExperimentError(f"{dataset} has no problems to run")
    positives, negatives = pair_models(args)
    sweep = list(dict.fromkeys(check_alpha(a) for a in args.cd_decoding_alpha))
    configs = sweep_configs(args.base_model, positives, negatives, sweep,
                            [args.cd_decoding_alpha1, args.cd_decoding_alpha2])
    small = [m for pair in zip(positives, negatives) for m in pair if m is not None]
    check_layout([args.base_model, *small], args.tensor_parallel_size, args.max_model_len,
                 [args.small_tensor_parallel_size] * len(small))
    tokenizer = AutoTokenizer.from_pretrained(args.base_model)
    check_prompts_fit(problems, tokenizer, args.max_model_len)
    stop = default_stops(args.prompt_template) if args.stop is None else args.stop
    settings = RunSettings(dataset=dataset, num_problems=len(problems), base_model=model_id(args.base_model), pairs=(),
                           temperature=args.decoding_temperature, top_p=args.top_p, max_tokens=args.max_tokens,
                           seed=args.seed, num_runs=args.num_runs, prompt_template=args.prompt_template,
                           stop=tuple(stop), stop_token_ids=tuple(stop_token_ids(args.base_model, tokenizer)),
                           dtype=args.dtype, max_model_len=args.max_model_len)
    check_sampling(problems[0], settings)
    if args.one_pass_sweep:
        check_one_pass(args)
    if args.data_parallel_size > 1:
        from rast.data_parallel import check_ray_address

        check_ray_address(args.ray_address)
    plans = [plan_directory(args.output_dir, args.base_model, config, settings) for config in configs]
    locks = []
    try:
        for each in plans:
            locks.append(DirectoryLock(each.directory))
            locks[-1].acquire()
            prepare_directory(each, args.overwrite)
    except BaseException:
        release(locks)
        raise
    return problems, plans, locks


def check_sampling(problem: Problem, settings: RunSettings) -> None:
    """Build vLLM's own sampling parameters once, so it refuses bad settings before any model work."""
    from rast.generation import sampling_params

    try:
        sampling_params(problem, settings)
    except Exception as error:  # noqa: BLE001 - vLLM's validation errors are not all ValueErrors
        raise ExperimentError(f"bad sampling settings: {error} (see --decoding_temperature, --top_p, --max_tokens)"
                              ) from None


def check_one_pass(args: argparse.Namespace) -> None:
    """A sweep in one pass needs per-request alphas, which are exact on vLLM's V1 model runner only."""
    from rast.request_alpha import V1_RUNNER_FIX, v1_runner_certain

    if args.data_parallel_size > 1:
        raise ExperimentError("--one_pass_sweep runs on one engine: leave out --data_parallel_size, or the flag")
    if not v1_runner_certain():
        raise ExperimentError(f"--one_pass_sweep needs per-request alphas, proven on vLLM's V1 model runner only: set "
                              f"{V1_RUNNER_FIX}, or leave out the flag (one alpha after another)")


def release(locks: list[DirectoryLock]) -> None:
    """Give up the results directories' locks."""
    for lock in locks:
        lock.release()


def engine_factory(args: argparse.Namespace, alphas: list[float]):
    """A function that starts the engine (picklable, so Ray replicas can start their own)."""
    from functools import partial

    from rast import RastLLM

    return partial(RastLLM, args.base_model, *pair_models(args), alphas or 1.0,
                   tensor_parallel_size=args.tensor_parallel_size,
                   small_tensor_parallel_size=args.small_tensor_parallel_size,
                   gpu_memory_utilization=args.gpu_memory_utilization,
                   dtype=args.dtype, max_model_len=args.max_model_len, enforce_eager=args.enforce_eager,
                   seed=args.seed)


def run(args: argparse.Namespace, problems: list[Problem], plans: list[Plan]) -> None:
    """Generate every unfinished directory on one engine load (per replica), changing alpha between them.

    Nothing is written to a results directory before the engine has started.
    """
    from functools import partial

    from rast.generation import Target, generate_into, generate_targets
    from rast.results import write_run_config

    todo = [each for each in plans if each.done() < len(problems)]
    if not todo:
        return

    def record_settings() -> None:
        recorded_versions = versions()
        for each in todo:
            write_run_config(each.directory, {"settings": each.settings.as_json(), "arguments": vars(args),
                                              "versions": recorded_versions})

    make_engine = engine_factory(args, todo[0].alphas)
    if args.data_parallel_size > 1:
        from rast.data_parallel import run_data_parallel

        run_data_parallel(todo, problems, make_engine, args.data_parallel_size, args.tensor_parallel_size,
                          partial(generate_into, window=args.window), record_settings, args.ray_address)
        return
    llm = make_engine()
    try:
        record_settings()
        if args.one_pass_sweep and len(todo) > 1:
            generate_targets(llm, problems, [Target(each.files(), each.settings, each.alphas) for each in todo],
                             args.window, f"{len(todo)} alphas in one pass")
            return
        for each in todo:
            if each.alphas:
                llm.set_alpha(each.alphas)
            generate_into(llm, problems, each.files(), each.settings, args.window, each.directory.name)
    finally:
        llm.shutdown()


def report(args: argparse.Namespace, problems: list[Problem], plans: list[Plan]) -> None:
    """Where the files are (and in --manifest, for launch scripts), and how to score them."""
    from rast.results import write_manifest

    if args.manifest:
        write_manifest(Path(args.manifest), [each.directory for each in plans])
    directories = " ".join(str(each.directory.resolve()) for each in plans)
    for each in plans:
        print(f"{args.num_runs} prediction files of {len(problems)} problems in {each.directory}")
    print("score them with:\n  cd ../simplerl_math_eval && python math_eval_pred.py "
          f"--data_names {plans[0].settings.dataset} --k {args.num_runs} --num_questions {len(problems)} "
          f"--evaluation_mode pass --res_dir {directories}")


class Terminated(KeyboardInterrupt):
    """SIGTERM (as cluster schedulers send), handled as Ctrl-C is."""


def raise_terminated(signum: int, frame) -> NoReturn:
    raise Terminated()


def main(argv: list[str] | None = None) -> int:
    signal.signal(signal.SIGTERM, raise_terminated)
    try:
        args = parse_args(argv)
        problems, plans, locks = plan(args)
    except (ValueError, FileNotFoundError, KeyError) as error:  # UsageError, RastConfigError, ExperimentError too
        print(f"error: {' '.join(str(error).split())}", file=sys.stderr)
        return 2
    try:
        run(args, problems, plans)
    except KeyboardInterrupt as interruption:
        what = "terminated (SIGTERM)" if isinstance(interruption, Terminated) else "interrupted"
        print(f"{what}: finished problems are saved; run the same command again to resume", file=sys.stderr)
        return 143 if isinstance(interruption, Terminated) else 130
    except RuntimeError as error:
        from rast.data_parallel import DataParallelError

        if not isinstance(error, DataParallelError):
            raise
        print(f"error: {error}", file=sys.stderr)
        return 1
    finally:
        release(locks)
    report(args, problems, plans)
    return 0


if __name__ == "__main__":
    sys.exit(main())
