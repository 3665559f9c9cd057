#!/usr/bin/env bash
# The main job on the embedded default, offline: RAST in miniature (vllm/rast/toy_world.py). Models trained on this
# CPU on a toy task (sums of four digits, answered by a noisy direct guess or, rarely, step by step) ship with the
# package. Through run.py and the evaluator, on the 80 held-out problems: the base alone, the small RL-tuned model
# alone, the RL-tuned base alone and RAST (base + alpha * (small RL - small)) at a few alphas; then the paper's table
# in miniature. RUNS=8 sets the samples per problem (default 4), ALPHAS="1 2" the RAST sweep (default 0.5 1 2).
set -euo pipefail
# shellcheck source=env.sh
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
bash "$ROOT/scripts/setup.sh"
# the console shows the answers and the scores: no library deprecation warnings or torch's C++ notices
export HF_HUB_OFFLINE=1 VLLM_LOGGING_LEVEL="${VLLM_LOGGING_LEVEL:-ERROR}" PYTHONWARNINGS="${PYTHONWARNINGS:-ignore}" \
  TORCH_CPP_LOG_LEVEL="${TORCH_CPP_LOG_LEVEL:-ERROR}"
results="$ROOT/results"
runs="${RUNS:-4}"  # samples per problem
read -r -a alphas <<< "${ALPHAS:-0.5 1 2}"
models="$ROOT/vllm/rast/toy_models"

manifests="$(mktemp -d)"  # run.py lists the directories it wrote there: no directory name is rebuilt here
trap 'rm -rf "$manifests"' EXIT

cd "$ROOT/vllm"
sample() {  # $1: what runs; $2: its manifest; the rest: model arguments of run.py
  echo "== $1"
  local manifest="$manifests/$2"
  shift 2
  "$PYTHON" tests/RAST_decode/run.py --dataset toy --prompt_template toy --num_runs "$runs" --max_tokens 48 \
    --decoding_temperature 1.0 --dtype float32 --enforce_eager --overwrite --output_dir "$results" \
    --manifest "$manifest" "$@" | head -n -2
}
sample "the base alone" base --base_model "$models/toy-base"
sample "the small RL-tuned model alone" small_rl --base_model "$models/toy-small-rl"
sample "the RL-tuned base alone" rl_base --base_model "$models/toy-base-rl"
sample "RAST at alpha ${alphas[*]} (one engine)" rast --base_model "$models/toy-base" \
  --positive_model "$models/toy-small-rl" --negative_model "$models/toy-small" --cd_decoding_alpha "${alphas[@]}"

mapfile -t rast_dirs < "$manifests/rast"
rows=("$(cat "$manifests/base")" "$(cat "$manifests/small_rl")" "${rast_dirs[@]}" "$(cat "$manifests/rl_base")")
cd "$ROOT/simplerl_math_eval"
"$PYTHON" math_eval_pred.py --data_names toy --k "$runs" --evaluation_mode majority --res_dir "${rows[@]}" >/dev/null
echo "== the paper's table in miniature: $runs samples per problem, temperature 1.0, 80 held-out problems"
"$PYTHON" -m rast.toy_world table --base "${rows[0]}" --small_rl "${rows[1]}" --rast "${rast_dirs[@]}" \
  --rl_base "${rows[-1]}"
