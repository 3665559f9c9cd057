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


@pytest.mark.parametrize("block_size", [3, 256])
def test_numbers_match_an_independent_computation(tmp_path, tiny_models, block_size):
    alpha = 0.7
    out = tmp_path / "out"
    token_shift.main([*_models_args(tiny_models, alpha), "--text", TEXT, "--out_dir", str(out),
                      "--block_size", str(block_size)])
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
    from rast_benchmarks import DEFAULT_TEMPLATE, build_prompt

    outputs = ["Let's think step by step. 3 + 4 = 7", "The answer is $\\boxed{2}$.", "not analysed"]
    res = write_results(tmp_path / "res", [outputs])
    out = tmp_path / "out"
    token_shift.main([*_models_args(tiny_models, 1.0), "--res_dir", str(res), "--limit", "2", "--out_dir", str(out)])
    tokenizer = AutoTokenizer.from_pretrained(tiny_models["base"])
    rows = _rows(out / "positions.csv")
    assert {r["sequence"] for r in rows} == {"0", "1"}
    for sequence in (0, 1):
        question = f"Question {sequence}: what is {sequence} + {sequence}?"
        prompt = tokenizer(build_prompt(DEFAULT_TEMPLATE, question))["input_ids"]  # no run_config.json: the default
        output = tokenizer(outputs[sequence])["input_ids"]
        positions = [int(r["position"]) for r in rows if r["sequence"] == str(sequence)]
        assert positions == list(range(len(prompt) - 1, len(prompt) + len(output)))
        next_tokens = [r["next_token"] for r in rows if r["sequence"] == str(sequence)]
        assert [int(t) for t in next_tokens[:-1]] == output and next_tokens[-1] == ""  # the last one is beyond


def test_blocked_positions_equal_one_block(tmp_path, tiny_models):
    outputs = ["Let's think step by step. 3 + 4 = 7, so the answer is $\\boxed{7}$.", "The answer is 12."]
    res = write_results(tmp_path / "res", [outputs])
    tables = {}
    for block_size in (1, 4, 1000):
        out = tmp_path / f"out-{block_size}"
        token_shift.main([*_models_args(tiny_models, 1.0), "--res_dir", str(res), "--out_dir", str(out),
                          "--block_size", str(block_size)])
        tables[block_size] = _rows(out / "positions.csv")
    whole, numbers = tables[1000], ("kl", "top_gain_value", "top_loss_value")  # equal up to float rounding
    assert len(whole) > 20
    for block_size in (1, 4):
        rows = tables[block_size]
        assert [{k: v for k, v in r.items() if k not in numbers} for r in rows] == \
            [{k: v for k, v in r.items() if k not in numbers} for r in whole]
        for key in numbers:
            assert [float(r[key]) for r in rows] == pytest.approx([float(r[key]) for r in whole], rel=1e-5, abs=1e-7)


def test_logit_blocks_equal_the_full_forward_pass(tiny_models):
    from rast.config import ModelPair
    from rast.reference import ReferenceRast

    rast = ReferenceRast(tiny_models["base"], [ModelPair(tiny_models["positive"], tiny_models["negative"], 1.0)])
    ids = AutoTokenizer.from_pretrained(tiny_models["base"])(TEXT)["input_ids"]
    blocks = list(rast.logit_blocks(ids, block_size=5, start=4))
    assert [b.start for b in blocks] == list(range(4, len(ids), 5))
    assert all(b.base.shape == (min(5, len(ids) - b.start), rast.shared_vocab_size) for b in blocks)
    full = {role: AutoModelForCausalLM.from_pretrained(tiny_models[role], dtype=torch.float32)(
        torch.tensor([ids])).logits[0, 4:, :rast.shared_vocab_size].detach()
        for role in ("base", "positive", "negative")}
    torch.testing.assert_close(torch.cat([b.base for b in blocks]), full["base"], rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(torch.cat([b.deltas[0] for b in blocks]), full["positive"] - full["negative"],
                               rtol=1e-5, atol=1e-5)


def test_dtype_and_device_options_reach_the_models(tiny_models):
    import argparse

    from analysis.common import add_model_options, load_reference
    from rast.config import ModelPair

    parser = argparse.ArgumentParser()
    add_model_options(parser)
    args = parser.parse_args(["--device", "cpu", "--dtype", "bfloat16"])
    rast = load_reference(tiny_models["base"], [ModelPair(tiny_models["positive"], tiny_models["negative"])], args)
    assert {p.dtype for model in rast.models for p in model.parameters()} == {torch.bfloat16}
    block = next(rast.logit_blocks([1, 2, 3], block_size=2))
    assert block.base.dtype == torch.float32 and block.base.device.type == "cpu"
    with pytest.raises(SystemExit, match="--block_size must be 1 or more"):
        load_reference(tiny_models["base"], [], parser.parse_args(["--block_size", "0"]))


def test_texts_of_a_results_directory_carry_the_prompt_they_were_generated_from(tmp_path):
    """The analysed context is the templated prompt run.py sent (from run_config.json), not the bare question."""
    from analysis_helpers import write_results
    from rast.results import write_run_config
    from rast_benchmarks import build_prompt

    from analysis.common import load_texts

    res_dir = write_results(tmp_path / "setting", [["out 0", "out 1"]])
    write_run_config(res_dir, {"settings": {"prompt_template": "qwen_boxed"}})
    (prompt, output), _ = load_texts(res_dir, None, limit=2)
    assert prompt == build_prompt("qwen_boxed", "Question 0: what is 0 + 0?") and output == "out 0"
