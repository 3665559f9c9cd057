"""lm-evaluation-harness against a real ``rast serve``: ``lm_eval --model local-completions`` on a local task
(tests/lm_eval/tasks: the toy benchmark, graded by simplerl_math_eval) with RAST on the bundled toy models. Its
answers are the server's own greedy answers and its accuracy is our grader's over them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from serve_helpers import Server

from rast.toy_world import toy_model_paths
from simplerl_math_eval import extract_answer, math_equal

TASKS = Path(__file__).resolve().parent / "tasks"
LIMIT = 20
LM_EVAL_TIMEOUT_S = 300


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[Server]:
    models = toy_model_paths()
    args = ["--base", models["base"], "--positive", models["positive"], "--negative", models["negative"],
            "--alpha", "1", "--", "--dtype", "float32", "--enforce-eager", "--max-model-len", "128", "--seed", "0",
            "--served-model-name", "rast-toy"]
    server = Server(args, tmp_path_factory.mktemp("lm_eval_serve") / "server.log")
    try:
        server.wait_healthy()
        yield server
    finally:
        server.kill()


def run_lm_eval(server: Server, output: Path, tokenized_requests: bool,
                *gen_kwargs: str) -> tuple[dict, list[dict]]:
    """``lm_eval run --model local-completions`` on ``rast_toy`` (``--gen_kwargs`` if given); its results and its
    logged samples."""
    model_args = (f"model=rast-toy,base_url={server.url}/v1/completions,tokenizer={toy_model_paths()['base']},"
                  f"tokenized_requests={tokenized_requests},max_length=128,num_concurrent=1,max_retries=1")
    command = [sys.executable, "-m", "lm_eval", "run", "--model", "local-completions", "--model_args", model_args,
               "--include_path", str(TASKS), "--tasks", "rast_toy", "--limit", str(LIMIT),
               "--output_path", str(output), "--log_samples", *(["--gen_kwargs", *gen_kwargs] if gen_kwargs else [])]
    done = subprocess.run(command, capture_output=True, text=True, timeout=LM_EVAL_TIMEOUT_S,
                          env={**os.environ, "HF_DATASETS_OFFLINE": "1", "HF_HUB_OFFLINE": "1"})
    assert done.returncode == 0, f"lm_eval failed:\n{done.stderr[-4000:]}"
    (results,) = output.glob("*/results_*.json")
    (samples,) = output.glob("*/samples_rast_toy_*.jsonl")
    return json.loads(results.read_text()), [json.loads(line) for line in samples.read_text().splitlines()]


@pytest.mark.parametrize("tokenized_requests", [False, True])
def test_local_completions_scores_rast_answers(server: Server, tmp_path: Path, tokenized_requests: bool) -> None:
    from rast_benchmarks import load_benchmark

    results, samples = run_lm_eval(server, tmp_path, tokenized_requests)
    problems = load_benchmark("toy")[:LIMIT]
    assert [s["doc"]["problem"] for s in sorted(samples, key=lambda s: s["doc_id"])] == [p["problem"] for p in problems]
    verdicts = []
    for sample in samples:
        prompt, gen_kwargs = sample["arguments"]["gen_args_0"]["arg_0"], sample["arguments"]["gen_args_0"]["arg_1"]
        assert prompt == f"Q:{sample['doc']['problem']}\nA:"
        (response,) = sample["filtered_resps"]
        direct = server.post("/v1/completions", {"model": "rast-toy", "prompt": prompt, "temperature": 0.0,
                                                 "max_tokens": gen_kwargs["max_gen_toks"], "stop": gen_kwargs["until"]})
        assert response == direct["choices"][0]["text"], sample["doc"]
        verdict = math_equal(extract_answer(response, "toy"), sample["doc"]["answer"])
        assert sample["acc"] == float(verdict)
        verdicts.append(verdict)
    accuracy = results["results"]["rast_toy"]["acc,none"]
    assert accuracy == pytest.approx(sum(verdicts) / LIMIT)
    assert accuracy >= 0.5, "RAST at alpha 1 answers most toy problems step by step, and right"


def test_gen_kwargs_carry_a_per_request_alpha_to_the_server(server: Server, tmp_path: Path) -> None:
    # lm-eval spreads gen_kwargs into the request body; vLLM turns vllm_xargs into SamplingParams.extra_args
    _, samples = run_lm_eval(server, tmp_path, False, '{"vllm_xargs": {"rast_alpha": 0.0}}')
    moved = 0
    for sample in samples:
        prompt, gen_kwargs = sample["arguments"]["gen_args_0"]["arg_0"], sample["arguments"]["gen_args_0"]["arg_1"]
        assert gen_kwargs["vllm_xargs"] == {"rast_alpha": 0.0}
        body = {"model": "rast-toy", "prompt": prompt, "temperature": 0.0, "max_tokens": gen_kwargs["max_gen_toks"],
                "stop": gen_kwargs["until"]}
        (response,) = sample["filtered_resps"]
        at_zero = server.post("/v1/completions", {**body, "vllm_xargs": {"rast_alpha": 0.0}})
        assert response == at_zero["choices"][0]["text"], sample["doc"]
        moved += response != server.post("/v1/completions", body)["choices"][0]["text"]
    assert moved, "alpha 0 (the base model alone) should answer some toy problem differently from alpha 1"
