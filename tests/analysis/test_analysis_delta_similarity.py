"""analysis/delta_similarity.py against cosine similarities computed here with transformers."""

import csv
import json

import pytest
import torch
from analysis_helpers import is_png
from transformers import AutoModelForCausalLM, AutoTokenizer

from analysis import delta_similarity

TEXT = "Question:\nfind the area of the circle\nAnswer:\nLet's think step by step. The answer is 12."


def _pairs(tiny_models, b_positive, b_negative):
    return ["--positive_a", tiny_models["positive"], "--negative_a", tiny_models["negative"],
            "--positive_b", tiny_models[b_positive], "--negative_b", tiny_models[b_negative]]


def test_a_pair_with_itself_has_similarity_one(tmp_path, tiny_models):
    out = tmp_path / "out"
    delta_similarity.main([*_pairs(tiny_models, "positive", "negative"), "--text", TEXT, "--out_dir", str(out)])
    summary = json.loads((out / "summary.json").read_text())
    assert summary["mean_cosine"] == pytest.approx(1.0, abs=1e-5)
    with (out / "positions.csv").open() as f:
        assert all(float(r["cosine"]) == pytest.approx(1.0, abs=1e-5) for r in csv.DictReader(f))
    assert is_png(out / "delta_similarity.png")


@pytest.mark.parametrize("block_size", [2, 256])  # several blocks, and one block for the whole text
def test_two_pairs_match_an_independent_computation(tmp_path, tiny_models, block_size):
    out = tmp_path / "out"
    delta_similarity.main([*_pairs(tiny_models, "positive_b", "negative_b"), "--text", TEXT, "--out_dir", str(out),
                           "--block_size", str(block_size)])
    with (out / "positions.csv").open() as f:
        got = [float(r["cosine"]) for r in csv.DictReader(f)]

    ids = torch.tensor([AutoTokenizer.from_pretrained(tiny_models["base"])(TEXT)["input_ids"]])
    logits = {role: AutoModelForCausalLM.from_pretrained(tiny_models[role], dtype=torch.float32)(ids).logits[0]
              for role in ("positive", "negative", "positive_b", "negative_b")}
    vocab = min(t.shape[-1] for t in logits.values())  # 576: the base (640) does not narrow it
    delta_a = (logits["positive"] - logits["negative"])[:, :vocab].detach().numpy()
    delta_b = (logits["positive_b"] - logits["negative_b"])[:, :vocab].detach().numpy()
    expected = [float(a @ b / ((a @ a) ** 0.5 * (b @ b) ** 0.5)) for a, b in zip(delta_a, delta_b)]
    assert got == pytest.approx(expected, abs=1e-5)
    summary = json.loads((out / "summary.json").read_text())
    assert summary["shared_vocab_size"] == vocab
    assert summary["mean_cosine"] == pytest.approx(sum(expected) / len(expected), abs=1e-6)
    assert is_png(out / "delta_similarity.png")
