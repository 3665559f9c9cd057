"""analysis/path_coverage.py against greedy decoding and an argmax computed here with transformers."""

import csv
import json
import re

import pytest
import torch
from analysis_helpers import is_png, write_results
from transformers import AutoModelForCausalLM, AutoTokenizer

from analysis import path_coverage

OUTPUTS = ["Let's think step by step. 3 + 4 = 7, so the answer is $\\boxed{7}$."]  # a line beyond --limit


def _rows(path):
    with path.open() as f:
        return list(csv.DictReader(f))


@pytest.fixture(scope="module")
def reference(tiny_models):
    from rast.config import ModelPair
    from rast.reference import ReferenceRast

    return ReferenceRast(tiny_models["base"], [ModelPair(tiny_models["positive"], tiny_models["negative"])])


@pytest.mark.parametrize("lam", [0.0, 1.5])
def test_greedy_rollouts_are_covered_entirely_at_their_lambda(tiny_models, reference, lam):
    from rast.config import ModelPair
    from rast.reference import ReferenceRast

    tokenizer = AutoTokenizer.from_pretrained(tiny_models["base"])
    greedy = ReferenceRast(tiny_models["base"], [ModelPair(tiny_models["positive"], tiny_models["negative"], lam)])
    prompt = tokenizer("Question:\nwhat is 3 + 4?\nAnswer:\nLet's think step by step.\n")["input_ids"]
    rollout = greedy.generate([prompt], max_new_tokens=24)[0]
    covered = path_coverage.covered_tokens(reference, prompt + rollout, len(prompt) - 1, [0.0, 1.5], block_size=5)
    assert covered.shape == (2, len(rollout))
    assert covered[[0.0, 1.5].index(lam)].all()
    assert not covered[[0.0, 1.5].index(1.5 - lam)].all(), "the two lambdas should decode differently"


def _prompt(idx: int) -> str:
    """The prompt of write_results' question ``idx`` in the original template."""
    return f"Question:\nQuestion {idx}: what is {idx} + {idx}?\nAnswer:\nLet's think step by step.\n"


@pytest.fixture(scope="module")
def word_base(tiny_models, tmp_path_factory) -> str:
    """The tiny base with an output layer that scores only whole-word tokens (" apples"), so that the text of its
    greedy rollouts tokenizes back to the same ids, as real models' text does."""
    import shutil

    from safetensors.torch import load_file, save_file

    tokenizer = AutoTokenizer.from_pretrained(tiny_models["base"])
    words = [i for i in range(len(tokenizer)) if re.fullmatch(r" [a-zA-Z]+", tokenizer.decode([i]))
             and tokenizer(tokenizer.decode([i]))["input_ids"] == [i]]
    path = tmp_path_factory.mktemp("word-base") / "base"
    shutil.copytree(tiny_models["base"], path)
    weights = load_file(path / "model.safetensors")
    keep = torch.zeros(weights["lm_head.weight"].shape[0], 1)  # [vocab, 1]
    keep[words] = 1.0
    weights["lm_head.weight"] = weights["lm_head.weight"] * keep
    save_file(weights, path / "model.safetensors", metadata={"format": "pt"})
    return str(path)


@pytest.fixture(scope="module")
def rollouts(tiny_models, word_base) -> list[list[str]]:
    """Greedy texts for write_results' questions 0 and 1: run 0 by the base alone, run 1 by base + 1.5 * delta."""
    from rast.config import ModelPair
    from rast.reference import ReferenceRast

    tokenizer = AutoTokenizer.from_pretrained(word_base)
    runs = []
    for pairs in ([], [ModelPair(tiny_models["positive"], tiny_models["negative"], 1.5)]):
        greedy = ReferenceRast(word_base, pairs)
        runs.append([tokenizer.decode(greedy.generate([tokenizer(_prompt(idx))["input_ids"]], 20)[0])
                     for idx in range(2)] + OUTPUTS)
    return runs


def _run(tmp_path, tiny_models, base, runs, *extra):
    res = write_results(tmp_path / "res", runs)
    out = tmp_path / "out"
    path_coverage.main(["--res_dir", str(res), "--base_model", base, "--positive_model", tiny_models["positive"],
                        "--negative_model", tiny_models["negative"], "--runs", str(len(runs)), "--limit", "2",
                        "--out_dir", str(out), *extra])
    return out, {float(row["lambda"]): row for row in _rows(out / "coverage.csv")}


def test_the_base_greedy_rollouts_have_coverage_one_at_lambda_zero(tmp_path, tiny_models, word_base, rollouts):
    out, table = _run(tmp_path, tiny_models, word_base, rollouts[:1], "--block_size", "4")
    assert sorted(table) == [0.0, 0.5, 1.0, 1.4, 1.5, 2.0]  # the default grid
    assert float(table[0.0]["coverage"]) == 1.0 and float(table[0.0]["reproduced_rollouts"]) == 1.0
    assert int(table[0.0]["tokens"]) == 40
    assert float(table[2.0]["coverage"]) < 1.0
    assert is_png(out / "path_coverage.png")


def test_coverage_matches_an_independent_argmax(tmp_path, tiny_models, word_base, rollouts):
    out, table = _run(tmp_path, tiny_models, word_base, rollouts, "--lambdas", "1.5", "--block_size", "3")
    tokenizer = AutoTokenizer.from_pretrained(word_base)
    models = {role: AutoModelForCausalLM.from_pretrained(path, dtype=torch.float32) for role, path in
              (("base", word_base), ("positive", tiny_models["positive"]), ("negative", tiny_models["negative"]))}
    expected = {0.0: [0, 0], 1.5: [0, 0]}  # lambda -> [covered, tokens]
    for run_outputs in rollouts:
        for idx, output in enumerate(run_outputs[:2]):
            prompt = tokenizer(_prompt(idx))["input_ids"]
            ids = prompt + tokenizer(output)["input_ids"]
            logits = {role: model(torch.tensor([ids])).logits[0, :, :576].detach() for role, model in models.items()}
            for lam in expected:
                z = logits["base"] + lam * (logits["positive"] - logits["negative"])
                picks = z[len(prompt) - 1:-1].argmax(-1)
                expected[lam][0] += int((picks == torch.tensor(ids[len(prompt):])).sum())
                expected[lam][1] += len(ids) - len(prompt)

    assert sorted(table) == [0.0, 1.5]  # lambda 0, the base alone, is always there
    for lam, (covered, tokens) in expected.items():
        assert (int(table[lam]["covered"]), int(table[lam]["tokens"])) == (covered, tokens)
        assert float(table[lam]["coverage"]) == pytest.approx(covered / tokens)
    assert 0 < expected[1.5][0] < tokens and expected[0.0][0] < tokens, expected
    assert float(table[1.5]["gain_over_base"]) == pytest.approx((expected[1.5][0] - expected[0.0][0]) / tokens)
    rows = _rows(out / "rollouts.csv")
    assert len(rows) == 2 * 2 * 2  # runs x lines x lambdas
    assert sum(int(r["tokens"]) for r in rows if r["lambda"] == "0.0") == expected[0.0][1]
    summary = json.loads((out / "summary.json").read_text())
    assert summary["prompt_template"] == "original" and summary["rollouts"] == 4


def test_help_names_the_options(capsys):
    with pytest.raises(SystemExit) as exit_info:
        path_coverage.main(["--help"])
    assert exit_info.value.code == 0
    text = capsys.readouterr().out
    for option in ("--res_dir", "--lambdas", "--prompt_template", "--device", "--dtype", "--block_size"):
        assert option in text
