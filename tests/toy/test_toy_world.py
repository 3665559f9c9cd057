"""The toy world without vLLM: the task, the shared tokenizer, the bundled checkpoints and benchmark, the training
script (a few steps, as a subprocess) and the miniature table."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from rast import toy_world

REPO_ROOT = Path(__file__).resolve().parents[2]
BUNDLED_BENCHMARK = REPO_ROOT / "datasets" / "rast_benchmarks" / "toy" / "test.jsonl"


def test_step_answers_are_right_and_guesses_are_boxed_numbers():
    import random

    assert toy_world.step_answer((3, 5, 2, 7)) == "3+5=8,8+2=10,10+7=17,\\boxed{17}"
    rng = random.Random(0)
    guesses = [int(toy_world.boxed_value(toy_world.guess_answer((3, 5, 2, 7), rng))) for _ in range(500)]
    assert min(guesses) == 17 - toy_world.GUESS_NOISE and max(guesses) == 17 + toy_world.GUESS_NOISE
    assert 0.03 < guesses.count(17) / len(guesses) < 0.2  # a guess is right only by luck


def test_training_never_draws_a_held_out_problem():
    held_out = set(toy_world.held_out_problems())
    problems = toy_world.TrainingProblems(seed=0)
    drawn = [problems.corpus_example() for _ in range(3000)]
    assert not held_out & {terms for terms, _ in drawn}
    step_share = sum(answer[0].isdigit() for _, answer in drawn) / len(drawn)
    assert abs(step_share - toy_world.STEP_SHARE) < 0.03


def test_bundled_benchmark_is_the_held_out_set():
    from rast_benchmarks import load_benchmark

    records = load_benchmark("toy")
    assert records == toy_world.benchmark_records()
    assert [json.loads(line) for line in BUNDLED_BENCHMARK.read_text().splitlines()] == records
    assert len({r["problem"] for r in records}) == toy_world.HELD_OUT


@pytest.mark.parametrize("role", sorted(toy_world.ROLES))
def test_bundled_tokenizer_round_trips_and_matches_the_task_encoding(role):
    from transformers import AutoTokenizer, GenerationConfig

    path = toy_world.toy_model_paths()[role]
    tokenizer = AutoTokenizer.from_pretrained(path)
    text = "Q:9+2+8+3\nA:9+2=11,11+8=19,19+3=22,\\boxed{22}"
    ids = tokenizer(text)["input_ids"]
    assert ids == toy_world.encode(text)  # one character per token, no special tokens added
    assert tokenizer.decode(ids) == text
    assert tokenizer.eos_token_id == 0 == GenerationConfig.from_pretrained(path).eos_token_id


def test_bundled_checkpoints_have_different_vocabulary_paddings():
    from transformers import AutoConfig

    paths = toy_world.toy_model_paths()
    rows = {role: AutoConfig.from_pretrained(path).vocab_size for role, path in paths.items()}
    assert rows["base"] == rows["base_rl"] > rows["positive"] == rows["negative"] > len(toy_world.CHARACTERS) + 1


def test_training_script_writes_loadable_checkpoints(tmp_path):
    """``python -m rast.toy_world train --quick``: a few steps of every stage, then the checkpoints load."""
    import torch
    from transformers import AutoModelForCausalLM

    result = subprocess.run([sys.executable, "-m", "rast.toy_world", "train", "--quick", "--out_dir", str(tmp_path)],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout)
    assert set(report) == set(toy_world.ROLES.values())
    prompt = torch.tensor([toy_world.prompt_ids((1, 2, 3, 4))])
    for role, name in toy_world.ROLES.items():
        model = AutoModelForCausalLM.from_pretrained(tmp_path / name)
        assert model(input_ids=prompt).logits.shape[-1] == model.config.vocab_size
        assert 0.0 <= report[name]["accuracy"] <= 1.0
    assert json.loads((tmp_path / "recipe.json").read_text())["recipe"]["base_steps"] == 3
