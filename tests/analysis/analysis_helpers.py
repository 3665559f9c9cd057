"""Result writers and checks shared by the analysis tests."""

import json
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]


def write_results(res_dir: Path, outputs: list[list[str]], correct: list[list[bool]] | None = None,
                  num_tokens: list[list[int]] | None = None) -> Path:
    """A results directory: ``outputs[run][problem]``, optional verdicts ``correct[problem][run]`` and token counts."""
    res_dir.mkdir(parents=True, exist_ok=True)
    for run, run_outputs in enumerate(outputs):
        rows = []
        for idx, output in enumerate(run_outputs):
            row = {"idx": idx, "question": f"Question {idx}: what is {idx} + {idx}?", "model_output": output,
                   "answer": str(2 * idx)}
            if num_tokens is not None:
                row["num_tokens"] = num_tokens[run][idx]
            rows.append(row)
        (res_dir / f"prediction-{run}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    if correct is not None:
        verdicts = [{"idx": idx, "run": run, "correct": ok} for idx, runs in enumerate(correct)
                    for run, ok in enumerate(runs)]
        (res_dir / "verdicts.jsonl").write_text("".join(json.dumps(v) + "\n" for v in verdicts))
    return res_dir


def is_png(path: Path) -> bool:
    """The file exists, is not tiny and starts with the PNG signature."""
    return path.exists() and path.stat().st_size > 5000 and path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
