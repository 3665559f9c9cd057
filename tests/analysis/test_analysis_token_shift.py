"""analysis/token_shift.py and ReferenceRast.position_logits against computations made here with transformers."""

import csv
import json

import pytest
import torch
from analysis_helpers import is_png, write_results
from transformers import AutoModelForCausalLM, AutoTokenizer

from analysis import token_shift

TEXT = "Question:\nhow many apples 3 + 4 = 7\nAnswer:\nLet's think step by step. The answer is $\\boxed{7}$."


def _models_args(tiny_models, alpha):
    return ["--base_model", tiny_models["base"], "--positive_model", tiny_models["positive"],
            "--negative_model", tiny_models["negative"], "--alpha", str(alpha)]


def _rows(path):
    with path.open() as f:
        return list(csv.DictReader(f))


def test_alpha_zero_changes_nothing(tmp_path, tiny_models):
    out = tmp_path / "out"
    token_shift.main([*_models_args(tiny_models, 0.0), "--text", TEXT, "--out_dir", str(out)])
    summary = json.loads((out / "summary.json").read_text())
    ids = AutoTokenizer.from_pretrained(tiny_models["base"])(TEXT)["input_ids"]
    assert summary["positions"] == len(ids)
    assert summary["changed_top1_share"] == 0.0
    assert summary["kl_max"] == pytest.approx(0.0, abs=1e-6)
    assert summary["base_rank_of_pick_max"] == 1
    assert _rows(out / "shifted_tokens.csv") == []
    assert is_png(out / "token_shift.png")


def test_numbers_match_an_independent_computation(tmp_path, tiny_models):
    alpha = 0.7
    out = tmp_path / "out"
    token_shift.main([*_models_args(tiny_models, alpha), "--text", TEXT, "--out_dir", str(out)])
    rows = _rows(out / "positions.csv")
    summary = json.loads((out / "summary.json").read_text())

    ids = torch.tensor([AutoTokenizer.from_pretrained(tiny_models["base"])(TEXT)["input_ids"]])
    logits = {role: AutoModelForCausalLM.from_pretrained(tiny_models[role], dtype=torch.float32)(ids).logits[0]
              for role in ("base", "positive", "negative")}
    vocab = min(t.shape[-1] for t in logits.values())
    base = logits["base"][:, :vocab].detach()
    z = (base + alpha * (logits["positive"][:, :vocab] - logits["negative"][:, :vocab])).detach()
    changed = 0
    for t in range(len(rows)):
        p, q = torch.softmax(z[t], -1), torch.softmax(base[t], -1)
        kl = float(torch.sum(p * torch.log(p / q)))
        pick = int(z[t].argmax())
        rank = int(torch.argsort(base[t], descending=True).tolist().index(pick)) + 1
        changed += pick != int(base[t].argmax())
        assert float(rows[t]["kl"]) == pytest.approx(kl, rel=1e-4, abs=1e-6)
        assert int(rows[t]["rast_top1"]) == pick and int(rows[t]["base_rank_of_pick"]) == rank
        gain = int((p - q).argmax())
        assert int(rows[t]["top_gain"]) == gain
    assert changed > 0, "the tiny models should disagree somewhere at alpha 0.7"
    assert summary["changed_top1_share"] == pytest.approx(changed / len(rows))
    assert is_png(out / "token_shift.png")


def test_teacher_forcing_agrees_with_the_decoding_loop(tiny_models):
    from rast.config import ModelPair
    from rast.reference import ReferenceRast

    rast = ReferenceRast(tiny_models["base"], [ModelPair(tiny_models["positive"], tiny_models["negative"], 1.0)])
    prompt = AutoTokenizer.from_pretrained(tiny_models["base"])("Question:\nwhat is 3 + 4")["input_ids"]
    generated = rast.generate([prompt], max_new_tokens=12)[0]
    base, combined = rast.position_logits(prompt + generated)
    assert combined.shape == base.shape == (len(prompt) + len(generated), rast.shared_vocab_size)
    assert combined[len(prompt) - 1:-1].argmax(-1).tolist() == generated


def test_results_directory_analyses_output_positions(tmp_path, tiny_models):
    outputs = ["Let's think step by step. 3 + 4 = 7", "The answer is $\\boxed{2}$.", "not analysed"]
    res = write_results(tmp_path / "res", [outputs])
    out = tmp_path / "out"
    token_shift.main([*_models_args(tiny_models, 1.0), "--res_dir", str(res), "--limit", "2", "--out_dir", str(out)])
    tokenizer = AutoTokenizer.from_pretrained(tiny_models["base"])
    rows = _rows(out / "positions.csv")
    assert {r["sequence"] for r in rows} == {"0", "1"}
    for sequence in (0, 1):
        prompt = tokenizer(f"Question {sequence}: what is {sequence} + {sequence}?")["input_ids"]
        output = tokenizer(outputs[sequence])["input_ids"]
        positions = [int(r["position"]) for r in rows if r["sequence"] == str(sequence)]
        assert positions == list(range(len(prompt) - 1, len(prompt) + len(output)))
        next_tokens = [r["next_token"] for r in rows if r["sequence"] == str(sequence)]
        assert [int(t) for t in next_tokens[:-1]] == output and next_tokens[-1] == ""  # the last one is beyond
