"""analysis/plot_results.py on hand-made results with known pass@k, accuracies and lengths."""

import csv
import json
import subprocess
import sys

import pytest
from analysis_helpers import REPO_ROOT, is_png, write_results

from analysis import plot_results

TOOLS = ["plot_results.py", "token_shift.py", "behaviours.py", "delta_similarity.py"]


@pytest.mark.parametrize("tool", TOOLS)
def test_every_tool_has_help(tool):
    result = subprocess.run([sys.executable, str(REPO_ROOT / "analysis" / tool), "--help"],
                            capture_output=True, text=True, cwd="/")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("usage:")


def test_pass_at_k_known_points(tmp_path):
    # problem 0 solved by 1 of 4 runs, problem 1 by all 4: pass@k = (1 - C(3,k)/C(4,k) + 1) / 2
    rast = write_results(tmp_path / "rast", [["a", "b"]] * 4, correct=[[False, True, False, False], [True] * 4])
    base = write_results(tmp_path / "base", [["a", "b"]] * 4, correct=[[False] * 4, [False] * 4])
    out = tmp_path / "out"
    plot_results.main(["passk", "--res_dirs", str(base), str(rast), "--labels", "base", "RAST",
                       "--out_dir", str(out)])
    rows = json.loads((out / "pass_at_k.json").read_text())
    got = {(r["setting"], r["k"]): r["pass_at_k"] for r in rows}
    expected_rast = {1: (0.25 + 1) / 2, 2: (0.5 + 1) / 2, 3: (0.75 + 1) / 2, 4: 1.0}
    for k, value in expected_rast.items():
        assert got[("RAST", k)] == pytest.approx(value)
        assert got[("base", k)] == 0.0
    with (out / "pass_at_k.csv").open() as f:
        assert len(list(csv.DictReader(f))) == 8
    assert is_png(out / "pass_at_k.png")


def test_sweep_reads_alpha_and_temperature(tmp_path):
    """From run_config.json, never from directory names (the model-alone directory has a misleading one)."""
    from rast.results import write_run_config

    sweep = tmp_path / "math"
    expected = {}
    for alpha in (0.0, 0.5, 1.0):
        for temp in (0.0, 1.0):
            solved = int(2 * alpha + temp)  # problems solved out of 4, in every one of 2 runs
            correct = [[i < solved] * 2 for i in range(4)]
            res_dir = write_results(sweep / f"setting_{len(expected)}", [["x"] * 4] * 2, correct=correct)
            write_run_config(res_dir, {"settings": {"temperature": temp, "pairs": [{"alpha": alpha}]}})
            expected[(alpha, temp)] = solved / 4
    alone = write_results(sweep / "base_small_alpha_9.0_temp_1.0", [["x"] * 4] * 2, correct=[[True] * 2] * 4)
    write_run_config(alone, {"settings": {"temperature": 1.0, "pairs": []}})  # a model alone: not a sweep point
    out = tmp_path / "out"
    plot_results.main(["sweep", "--sweep_dir", str(sweep), "--out_dir", str(out)])
    rows = json.loads((out / "sweep.json").read_text())
    assert {(r["alpha"], r["temperature"]): r["accuracy"] for r in rows} == pytest.approx(expected)
    assert all(r["accuracy_std"] == 0.0 for r in rows)
    assert is_png(out / "accuracy_vs_alpha.png") and is_png(out / "accuracy_vs_temperature.png")


def test_lengths_from_num_tokens_and_from_tokenizer(tmp_path, tiny_models):
    from transformers import AutoTokenizer

    counted = write_results(tmp_path / "counted", [["a", "b"], ["c", "d"]], num_tokens=[[10, 20], [30, 40]])
    texts = [["Let's think step by step.", "The answer is 7."], ["We compute 3 + 4 = 7.", "so"]]
    raw = write_results(tmp_path / "raw", texts)
    out = tmp_path / "out"
    plot_results.main(["lengths", "--res_dirs", str(counted), str(raw), "--tokenizer", tiny_models["base"],
                       "--out_dir", str(out)])
    rows = {r["setting"]: r for r in json.loads((out / "lengths.json").read_text())}
    assert rows["counted"]["mean_tokens"] == 25.0
    tokenizer = AutoTokenizer.from_pretrained(tiny_models["base"])
    lengths = [len(tokenizer(t)["input_ids"]) for run in texts for t in run]
    assert rows["raw"]["mean_tokens"] == pytest.approx(sum(lengths) / 4)
    assert is_png(out / "lengths.png")


def test_missing_verdicts_is_a_clear_error(tmp_path):
    res = write_results(tmp_path / "ungraded", [["a"]])
    with pytest.raises(FileNotFoundError, match="grade the directory first"):
        plot_results.main(["passk", "--res_dirs", str(res), "--out_dir", str(tmp_path / "out")])


def test_recovery_plot_from_graded_metrics(tmp_path):
    # the paper's MATH500 row: base 68.6, RAST 80.7, SimpleRL-32B 81.3 -> RR (80.7 - 68.6) / (81.3 - 68.6) = 95.3%
    dirs = {}
    for role, average in (("base", 0.686), ("rl", 0.813), ("rast", 0.807), ("rast_flat", 0.7)):
        dirs[role] = tmp_path / role
        dirs[role].mkdir()
        metrics = {"data_name": "math500", "average": average}
        if role.startswith("rast"):
            rate = None if role == "rast_flat" else (average - 0.686) / (0.813 - 0.686)
            rl = dirs["base"] if role == "rast_flat" else dirs["rl"]
            metrics["recovery_rate"] = {"base_dir": str(dirs["base"]), "rl_dir": str(rl), "average": rate}
        (dirs[role] / "metrics.json").write_text(json.dumps(metrics))
    out = tmp_path / "out"
    plot_results.main(["recovery", "--res_dirs", str(dirs["rast"]), str(dirs["rast_flat"]),
                       "--labels", "32B+14B", "flat", "--out_dir", str(out)])
    rows = json.loads((out / "recovery.json").read_text())
    assert rows[0]["recovery_rate"] == pytest.approx(0.9528, abs=1e-4)
    assert (rows[0]["base"], rows[0]["rast"], rows[0]["rl"]) == (0.686, 0.807, 0.813)
    assert rows[1]["recovery_rate"] is None
    with (out / "recovery.csv").open() as f:
        assert len(list(csv.DictReader(f))) == 2
    assert is_png(out / "recovery.png")
    with pytest.raises(SystemExit, match="recovery_rate"):
        plot_results.main(["recovery", "--res_dirs", str(dirs["base"]), "--out_dir", str(out)])
