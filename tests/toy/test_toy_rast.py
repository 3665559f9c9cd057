"""RAST on the toy world through vLLM (RastLLM): the method works on the held-out problems.

Three engine starts, each gathering everything the tests need and then shut down: RAST (alpha swept on one load),
the base alone and the small RL-tuned model alone. Answers are graded by the evaluator's extraction and grader.
"""

import pytest

from rast import ModelPair, RastLLM
from rast.toy_world import toy_model_paths

SETTINGS = dict(dtype="float32", seed=0, max_model_len=64, enforce_eager=True)
SAMPLES = 4  # per problem, temperature 1
MAX_TOKENS = 48
ALPHAS = (1.0, 0.0, -1.0)


@pytest.fixture(scope="module")
def problems() -> tuple[list[str], list[str]]:
    """Prompts and gold answers of the held-out ``toy`` benchmark."""
    from rast_benchmarks import load_benchmark
    from rast_benchmarks.prompts import build_prompt

    records = load_benchmark("toy")
    return [build_prompt("toy", r["problem"]) for r in records], [r["answer"] for r in records]


def generations(llm, prompts: list[str]) -> dict[str, list]:
    """Sampled answer texts (SAMPLES per prompt, T=1) and greedy token ids of every prompt."""
    from vllm import SamplingParams

    sampled = llm.generate(prompts, SamplingParams(n=SAMPLES, temperature=1.0, seed=0, max_tokens=MAX_TOKENS),
                           use_tqdm=False)
    greedy = llm.generate(prompts, SamplingParams(temperature=0.0, max_tokens=MAX_TOKENS), use_tqdm=False)
    return {"texts": [[c.text for c in out.outputs] for out in sampled],
            "greedy": [list(out.outputs[0].token_ids) for out in greedy]}


def accuracy(texts: list[list[str]], golds: list[str]) -> float:
    """Mean correctness of every sample, as the evaluator grades it."""
    from simplerl_math_eval.grader import Grader
    from simplerl_math_eval.parser import extract_answer

    with Grader() as grader:
        verdicts = [grader.grade(extract_answer(text, "toy"), gold).correct
                    for samples, gold in zip(texts, golds) for text in samples]
    return sum(verdicts) / len(verdicts)


def step_share(texts: list[list[str]]) -> float:
    """Share of answers that start step by step (a digit) rather than with a direct guess (``\\boxed``)."""
    flat = [text for samples in texts for text in samples]
    return sum(text[:1].isdigit() for text in flat) / len(flat)


@pytest.fixture(scope="module")
def rast_runs(problems) -> dict[float, dict[str, list]]:
    paths = toy_model_paths()
    llm = RastLLM(paths["base"], paths["positive"], paths["negative"], alpha=ALPHAS[0], **SETTINGS)
    try:
        runs = {}
        for alpha in ALPHAS:
            llm.set_alpha(alpha)
            runs[alpha] = generations(llm, problems[0])
        return runs
    finally:
        llm.shutdown()


def alone(role: str, prompts: list[str]) -> dict[str, list]:
    llm = RastLLM(toy_model_paths()[role], **SETTINGS)
    try:
        return generations(llm, prompts)
    finally:
        llm.shutdown()


@pytest.fixture(scope="module")
def base_alone(problems) -> dict[str, list]:
    return alone("base", problems[0])


@pytest.fixture(scope="module")
def small_rl_alone(problems) -> dict[str, list]:
    return alone("positive", problems[0])


def test_rast_beats_the_base_alone_by_a_wide_margin(rast_runs, base_alone, problems):
    base, rast = accuracy(base_alone["texts"], problems[1]), accuracy(rast_runs[1.0]["texts"], problems[1])
    assert base < 0.45 and rast > base + 0.25, (base, rast)
    # the mechanism: RAST makes the base reason step by step far more often
    assert step_share(rast_runs[1.0]["texts"]) > step_share(base_alone["texts"]) + 0.2


def test_rast_beats_the_small_rl_model_alone(rast_runs, small_rl_alone, problems):
    small_rl, rast = accuracy(small_rl_alone["texts"], problems[1]), accuracy(rast_runs[1.0]["texts"], problems[1])
    assert rast > small_rl + 0.1, (small_rl, rast)


def test_alpha_zero_is_the_base_alone_token_for_token(rast_runs, base_alone):
    assert rast_runs[0.0]["greedy"] == base_alone["greedy"]


def test_negative_alpha_lowers_accuracy(rast_runs, base_alone, problems):
    base, negative = accuracy(base_alone["texts"], problems[1]), accuracy(rast_runs[-1.0]["texts"], problems[1])
    assert negative < base - 0.1, (base, negative)
    assert step_share(rast_runs[-1.0]["texts"]) < step_share(base_alone["texts"])


def test_the_shift_sits_on_the_branch_not_on_the_steps(rast_runs, problems):
    """analysis/token_shift.py on RAST's answers: at the first answer token RAST moves probability from the direct
    guess (``\\``) to starting the steps (a digit); inside the steps it hardly moves the base (the base executes)."""
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    from analysis.token_shift import analyse
    from transformers import AutoTokenizer

    from rast.reference import DEFAULT_BLOCK_SIZE, ReferenceRast

    paths = toy_model_paths()
    tokenizer = AutoTokenizer.from_pretrained(paths["base"])
    reference = ReferenceRast(paths["base"], [ModelPair(paths["positive"], paths["negative"], 1.0)])
    texts = [(prompt, samples[0]) for prompt, samples in zip(problems[0][:24], rast_runs[1.0]["texts"])]
    records = analyse(reference, tokenizer, texts, DEFAULT_BLOCK_SIZE)
    first_position = len(tokenizer(problems[0][0])["input_ids"]) - 1  # the row that picks the first answer token
    first = [r for r in records if r["position"] == first_position]
    steps = [r for r in records if r["position"] > first_position and texts[r["sequence"]][1][:1].isdigit()]
    assert len(first) == len(texts) and steps
    step_start = {tokenizer.convert_tokens_to_ids(str(d)) for d in range(1, 10)}
    assert all(r["top_gain"] in step_start for r in first)
    assert all(tokenizer.convert_ids_to_tokens(r["top_loss"]) == "\\" for r in first)
    mean_kl = lambda rows: sum(r["kl"] for r in rows) / len(rows)  # noqa: E731
    assert mean_kl(steps) < mean_kl(first) / 5, (mean_kl(first), mean_kl(steps))
    assert sum(r["changed_top1"] for r in steps) <= 0.02 * len(steps)
    assert sum(r["changed_top1"] for r in first) >= 0.2 * len(first)  # the branch flips for many problems
