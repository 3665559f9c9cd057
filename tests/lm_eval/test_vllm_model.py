"""``lm_eval``'s in-process ``vllm`` model with RAST (vllm_route.py): its greedy answers on the toy task are
RAST's (the transformers reference's, in float32) and its accuracy is our grader's over them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from vllm_route import LIMIT

from rast import ModelPair
from rast.reference import ReferenceRast
from rast.toy_world import toy_model_paths
from simplerl_math_eval import extract_answer, math_equal

ROUTE = Path(__file__).resolve().parent / "vllm_route.py"
TIMEOUT_S = 400


def test_vllm_model_with_hf_overrides_is_rast(tmp_path: Path) -> None:
    from transformers import AutoTokenizer

    out = tmp_path / "lm_eval.json"
    done = subprocess.run([sys.executable, str(ROUTE), str(out)], capture_output=True, text=True, timeout=TIMEOUT_S,
                          env={**os.environ, "HF_DATASETS_OFFLINE": "1", "HF_HUB_OFFLINE": "1"})
    assert done.returncode == 0, f"lm_eval --model vllm failed:\n{done.stderr[-4000:]}"
    report = json.loads(out.read_text())
    samples = sorted(report["samples"], key=lambda s: s["doc_id"])
    assert len(samples) == LIMIT

    models = toy_model_paths()
    tokenizer = AutoTokenizer.from_pretrained(models["base"])
    reference = ReferenceRast(models["base"], [ModelPair(models["positive"], models["negative"], 1.0)])
    ((_, gen_kwargs),) = samples[0]["arguments"]  # lm_eval's in-memory samples: [(prompt, generation kwargs)]
    max_tokens = gen_kwargs["max_gen_toks"]
    prompts = [s["arguments"][0][0] for s in samples]
    expected = reference.generate([tokenizer(p)["input_ids"] for p in prompts], max_tokens)
    verdicts = []
    for sample, ids in zip(samples, expected):
        ids = ids[:ids.index(tokenizer.eos_token_id)] if tokenizer.eos_token_id in ids else ids  # the reference
        text = tokenizer.decode(ids, skip_special_tokens=True).split("\n")[0]  # runs on; the task stops at \n
        assert sample["filtered_resps"] == [text], sample["doc"]
        verdicts.append(math_equal(extract_answer(text, "toy"), sample["doc"]["answer"]))
        assert sample["acc"] == float(verdicts[-1])
    assert report["results"]["rast_toy"]["acc,none"] == sum(verdicts) / LIMIT >= 0.5
