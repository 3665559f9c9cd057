"""The demo's table: prediction files with known right and wrong answers, scored by the real evaluator CLI, then
``python -m rast.toy_world table``: accuracy, maj@k, pass@k, step-by-step share, recovery rate and the summary line."""

import json
import subprocess
import sys
from pathlib import Path

from rast import toy_world

REPO_ROOT = Path(__file__).resolve().parents[2]
RUNS = 2
# results directory -> (problems answered right step by step in both runs, alpha for RAST directories)
ROWS = {"base": (20, None), "small_rl": (30, None), "rast_1": (50, 1.0), "rast_2": (40, 2.0), "rl_base": (60, None)}


def write_results(directory: Path, right: int, alpha: float | None) -> None:
    """RUNS prediction files over the toy benchmark: the first ``right`` problems solved step by step, the others
    answered by a wrong direct guess; run_config.json with the alpha of a RAST directory."""
    directory.mkdir(parents=True)
    records = toy_world.benchmark_records()
    for run in range(RUNS):
        lines = []
        for idx, record in enumerate(records):
            terms = [int(t) for t in record["problem"].split("+")]
            output = toy_world.step_answer(terms) if idx < right else f"\\boxed{{{sum(terms) + 1}}}"
            lines.append(json.dumps({"idx": idx, "question": record["problem"], "model_output": output,
                                     "answer": record["answer"], "num_tokens": len(output), "finish_reason": "stop"}))
        (directory / f"prediction-{run}.jsonl").write_text("\n".join(lines) + "\n")
    pairs = [] if alpha is None else [{"positive": "toy-small-rl", "negative": "toy-small", "alpha": alpha}]
    (directory / "run_config.json").write_text(json.dumps({"settings": {"pairs": pairs}}))


def test_table_from_scored_results(tmp_path):
    dirs = {name: tmp_path / name for name in ROWS}
    for name, (right, alpha) in ROWS.items():
        write_results(dirs[name], right, alpha)
    scored = subprocess.run([sys.executable, "math_eval_pred.py", "--data_names", "toy", "--k", str(RUNS),
                             "--evaluation_mode", "majority", "--res_dir", *map(str, dirs.values())],
                            cwd=REPO_ROOT / "simplerl_math_eval", capture_output=True, text=True, timeout=300)
    assert scored.returncode == 0, scored.stderr[-3000:]
    table = subprocess.run([sys.executable, "-m", "rast.toy_world", "table", "--base", str(dirs["base"]),
                            "--small_rl", str(dirs["small_rl"]), "--rast", str(dirs["rast_1"]), str(dirs["rast_2"]),
                            "--rl_base", str(dirs["rl_base"])], capture_output=True, text=True, timeout=300)
    assert table.returncode == 0, table.stderr[-3000:]
    rows = {line[:22].strip(): line[22:].split() for line in table.stdout.splitlines() if line[:22].strip()}
    # 80 problems: right / 80 for accuracy, maj@2 and pass@2 alike (both runs agree); RR against 20 -> 60 right
    assert rows["base alone"] == ["25.0", "25.0", "25.0", "25%"]
    assert rows["small RL model alone"] == ["37.5", "37.5", "37.5", "38%"]
    assert rows["RAST alpha 1"] == ["62.5", "62.5", "62.5", "62%", "75%"]
    assert rows["RAST alpha 2"] == ["50.0", "50.0", "50.0", "50%", "50%"]
    assert rows["RL-tuned base alone"] == ["75.0", "75.0", "75.0", "75%"]
    assert table.stdout.splitlines()[-1] == "RAST on the toy task: base pass@1 0.25 -> RAST pass@1 0.62 (alpha 1)"
