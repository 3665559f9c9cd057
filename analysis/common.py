"""Shared helpers of the analysis tools: reading results directories, token labels and figures."""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from rast_benchmarks.loading import read_jsonl  # noqa: E402

DTYPES = ("bfloat16", "float16", "float32")  # torch dtypes the analysis models can be loaded in

_PREDICTION_FILE = re.compile(r"prediction-(\d+)\.jsonl")


def prediction_files(res_dir: Path) -> list[Path]:
    """The prediction-{i}.jsonl files of a results directory, by run index."""
    files = [(int(m.group(1)), p) for p in Path(res_dir).iterdir() if (m := _PREDICTION_FILE.fullmatch(p.name))]
    if not files:
        raise FileNotFoundError(f"{res_dir}: no prediction-{{i}}.jsonl files")
    return [p for _, p in sorted(files)]


def read_predictions(res_dir: Path) -> list[dict]:
    """Every result line of every run of a results directory."""
    return [row for path in prediction_files(res_dir) for row in read_jsonl(path)]


def read_correct(res_dir: Path) -> np.ndarray:
    """Correctness (problems x runs, bool) from the evaluator's verdicts.jsonl."""
    path = Path(res_dir) / "verdicts.jsonl"
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing: grade the directory first (simplerl_math_eval/math_eval_pred.py)")
    verdicts = read_jsonl(path)
    idxs = list(dict.fromkeys(v["idx"] for v in verdicts))
    runs = sorted({int(v["run"]) for v in verdicts})
    row, col = {idx: i for i, idx in enumerate(idxs)}, {run: j for j, run in enumerate(runs)}
    correct = np.zeros((len(idxs), len(runs)), dtype=bool)
    seen = np.zeros_like(correct)
    for v in verdicts:
        correct[row[v["idx"]], col[int(v["run"])]] = bool(v["correct"])
        seen[row[v["idx"]], col[int(v["run"])]] = True
    if not seen.all():
        raise ValueError(f"{path}: {int((~seen).sum())} (problem, run) verdicts are missing")
    return correct


def read_setting(res_dir: Path) -> tuple[float, float] | None:
    """(alpha of pair 0, temperature) from the ``run_config.json`` run.py wrote, else None (a model alone, or not a
    results directory of run.py). Directory names are never parsed: run.py owns them."""
    from rast.results import read_run_config

    config = read_run_config(Path(res_dir)) if Path(res_dir).is_dir() else None
    settings = (config or {}).get("settings", {})
    if not settings.get("pairs"):
        return None
    return float(settings["pairs"][0]["alpha"]), float(settings["temperature"])


def output_token_counts(rows: Sequence[dict], tokenizer: str | None) -> list[int]:
    """Output length in tokens of each result line: its ``num_tokens``, else the length under ``tokenizer``."""
    if all("num_tokens" in row for row in rows):
        return [int(row["num_tokens"]) for row in rows]
    if tokenizer is None:
        raise ValueError("some result lines have no num_tokens: pass --tokenizer to count output tokens")
    from transformers import AutoTokenizer

    require_models([tokenizer])
    tok = AutoTokenizer.from_pretrained(tokenizer)
    return [int(row["num_tokens"]) if "num_tokens" in row
            else len(tok(row["model_output"], add_special_tokens=False)["input_ids"]) for row in rows]


def prompt_template(res_dir: Path) -> str:
    """The prompt template a results directory was generated with: its run_config.json's, else the default."""
    from rast.results import read_run_config
    from rast_benchmarks import DEFAULT_TEMPLATE

    return (read_run_config(Path(res_dir)) or {}).get("settings", {}).get("prompt_template", DEFAULT_TEMPLATE)


def load_texts(res_dir: Path | None, text: str | None, limit: int) -> list[tuple[str, str]]:
    """(prompt, output) pairs to analyse: the first ``limit`` lines of run 0 of ``res_dir``, each with the prompt it
    was generated from (its question in the directory's template), or ``("", text)``."""
    from rast_benchmarks import build_prompt

    if (res_dir is None) == (text is None):
        raise ValueError("give exactly one of --res_dir and --text")
    if text is not None:
        return [("", text)]
    template = prompt_template(res_dir)
    rows = read_jsonl(prediction_files(res_dir)[0])[:limit]
    return [(build_prompt(template, row["question"]), row["model_output"]) for row in rows]


def encode_pair(tokenizer: Any, prompt: str, output: str) -> tuple[list[int], int]:
    """Token ids of prompt + output (tokenized separately) and the index of the first analysed position.

    Row t of teacher-forced logits predicts token t + 1, so the analysed rows, from the last prompt token on, are the
    ones that chose each output token (and the token after the output).
    """
    prompt_ids = tokenizer(prompt, add_special_tokens=False)["input_ids"] if prompt else []
    output_ids = tokenizer(output, add_special_tokens=False)["input_ids"]
    return prompt_ids + output_ids, max(len(prompt_ids) - 1, 0)


def token_text(tokenizer: Any, token_id: int) -> str:
    """One token's decoded text, or its vocabulary entry when alone it is not valid UTF-8 (a partial byte)."""
    text = tokenizer.decode([token_id])
    return tokenizer.convert_ids_to_tokens(token_id) if "\ufffd" in text else text


def token_label(tokenizer: Any, token_id: int) -> str:
    """A readable, matplotlib-safe label of one token: its text, quoted, with $ escaped."""
    return repr(token_text(tokenizer, token_id)).replace("$", r"\$")


def require_models(models: Sequence[str]) -> None:
    """Exit with status 2 and one ``error:`` line naming the fixes when a model named by hub id cannot be had here."""
    from rast_benchmarks.hub import HubUnreachable, check_models_available

    try:
        check_models_available(models)
    except HubUnreachable as error:
        print(f"error: {error}", file=sys.stderr)
        raise SystemExit(2) from None


def add_model_options(parser: argparse.ArgumentParser) -> None:
    """--device, --dtype and --block_size: where and how teacher-forced logits are computed."""
    from rast.reference import DEFAULT_BLOCK_SIZE

    parser.add_argument("--device", help="cpu, cuda, cuda:N, or auto (every model spread over all visible GPUs; "
                                         "needs accelerate); default cuda when a GPU is visible, else cpu")
    parser.add_argument("--dtype", choices=DTYPES,
                        help="model weights (default bfloat16 on GPUs, float32 on the CPU); logits are float32")
    parser.add_argument("--block_size", type=int, default=DEFAULT_BLOCK_SIZE,
                        help=f"positions whose logits are held at once (default {DEFAULT_BLOCK_SIZE}): memory grows "
                             "with block_size x vocabulary, not with the output length")


def load_reference(base: str, pairs: Sequence[Any], args: argparse.Namespace) -> Any:
    """A ``ReferenceRast`` of ``base`` and ``pairs`` on ``args.device`` in ``args.dtype``
    (see :func:`add_model_options`)."""
    import torch

    from rast.reference import ReferenceRast

    if args.block_size < 1:
        raise SystemExit(f"--block_size must be 1 or more (got {args.block_size}): the positions held at once")
    device = args.device or ("cuda" if torch.cuda.is_available() else "cpu")
    dtype = args.dtype or ("float32" if device == "cpu" else "bfloat16")
    return ReferenceRast(base, pairs, dtype=getattr(torch, dtype), device=device)


def save_figure(fig: plt.Figure, path: Path) -> None:
    fig.tight_layout()
    fig.savefig(path, dpi=130)
    plt.close(fig)
