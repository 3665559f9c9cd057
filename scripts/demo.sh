#!/usr/bin/env bash
# The main job on the embedded default, offline: RAST on the tiny models (built on first use) over our 8 demo
# problems, 4 samples each, then the evaluator prints each generated answer and the scores.
# The tiny models have random weights, so expect wrong answers: the demo shows the pipeline, not the method's gain.
# Extra arguments go to run.py (e.g. --cd_decoding_alpha 0.5 1.0); RUNS=8 sets the samples per problem.
set -euo pipefail
# shellcheck source=env.sh
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
bash "$ROOT/scripts/setup.sh"
export HF_HUB_OFFLINE=1 VLLM_LOGGING_LEVEL="${VLLM_LOGGING_LEVEL:-WARNING}"
results="$ROOT/results"
runs="${RUNS:-4}"  # samples per problem

cd "$ROOT/vllm"
"$PYTHON" tests/RAST_decode/run.py --dataset demo --num_runs "$runs" --max_tokens 96 --dtype float32 \
  --output_dir "$results" "$@"

cd "$ROOT/simplerl_math_eval"
mapfile -t res_dirs < <(ls -d "$results"/demo/*/)
"$PYTHON" math_eval_pred.py --data_names demo --k "$runs" --evaluation_mode pass --show_answers \
  --res_dir "${res_dirs[@]}"
