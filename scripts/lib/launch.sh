#!/usr/bin/env bash
# Shared launch library for RAST experiments: source it from a scripts/run_*.sh or sweep_*.sh script.
#
# Settings (environment variables; defaults = the paper's main setting, a script may preset others):
#   BASE_MODEL      Qwen/Qwen2.5-14B                       large base model
#   POSITIVE_MODEL  hkust-nlp/Qwen-2.5-1.5B-SimpleRL-Zoo   small RL-tuned model; empty (POSITIVE_MODEL=): the base
#                                                          model alone, the baseline row
#   NEGATIVE_MODEL  Qwen/Qwen2.5-1.5B                      the same small model before RL
#   TP 4 (tensor parallel size), DP 1 (data-parallel engine replicas on Ray, TP GPUs each), NUM_RUNS 32, ALPHA 1.0 (several values allowed), TEMPERATURE 1.0, TOP_P 0.95,
#   MAX_TOKENS 16384, SEED 0, GPU_MEMORY_UTILIZATION 0.9
#   SMALL_TP        tensor-parallel size of the small pair: 1 (a copy on every GPU) or TP; unset: TP where its heads
#                   split, else 1
#   GPUS            exported as CUDA_VISIBLE_DEVICES (e.g. "0,1,2,3"); unset: leave it as it is
#   DATA_DIR        local benchmark folder (DIR/<benchmark>/test.jsonl); unset: $RAST_DATA_DIR, else the hub
#   OUTPUT_DIR      where predictions go (default: <repo>/results)
#   K, NUM_QUESTIONS evaluator settings (default: NUM_RUNS, the benchmark's size in the registry)
#   EXTRA_ARGS      extra arguments appended to run.py (word-split, e.g. "--positive_model1 M --negative_model1 M")
#   ALPHAS, TEMPERATURES  sweep only (default "0.25 0.5 0.75 1.0 1.5 2.0" and "0.6 1.0")
#   DRY_RUN=1       print the commands without running them
set -euo pipefail

RAST_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"

rast_die() {
    echo "error: $*" >&2
    exit 1
}

# Print a command (prefixed by the directory it runs in), then run it there unless DRY_RUN=1.
rast_run_in() {
    local dir=$1
    shift
    printf '+ cd %q &&' "$dir"
    printf ' %q' "$@"
    printf '\n'
    if [[ "${DRY_RUN:-0}" != 1 ]]; then
        (cd "$dir" && "$@")
    fi
}

rast_abspath() {
    case $1 in
        /*) printf '%s\n' "$1" ;;
        *) printf '%s/%s\n' "$PWD" "$1" ;;
    esac
}

rast_check_args() {
    (( $# == 1 )) ||
        rast_die "expected one benchmark name, got $# argument(s); settings are environment variables (see scripts/lib/launch.sh)"
}

# Fill unset settings with the main-setting defaults and pick the interpreter and GPUs.
rast_setup() {
    : "${BASE_MODEL:=Qwen/Qwen2.5-14B}"
    : "${POSITIVE_MODEL=hkust-nlp/Qwen-2.5-1.5B-SimpleRL-Zoo}"  # set but empty: the base model alone
    : "${NEGATIVE_MODEL=Qwen/Qwen2.5-1.5B}"
    : "${TP:=4}" "${DP:=1}" "${NUM_RUNS:=32}" "${ALPHA:=1.0}" "${TEMPERATURE:=1.0}" "${TOP_P:=0.95}"
    : "${MAX_TOKENS:=16384}" "${SEED:=0}" "${GPU_MEMORY_UTILIZATION:=0.9}"
    : "${K:=$NUM_RUNS}" "${DATA_DIR:=}" "${EXTRA_ARGS:=}"
    OUTPUT_DIR="$(rast_abspath "${OUTPUT_DIR:-$RAST_ROOT/results}")"
    [[ -z "$DATA_DIR" ]] || DATA_DIR="$(rast_abspath "$DATA_DIR")"

    if [[ -x "$RAST_ROOT/.venv/bin/python" ]]; then
        PYTHON="$RAST_ROOT/.venv/bin/python"
    else
        PYTHON=python
    fi

    if [[ -n "${GPUS:-}" ]]; then
        export CUDA_VISIBLE_DEVICES="$GPUS"
        echo "+ export CUDA_VISIBLE_DEVICES=$GPUS"
    fi
    if [[ -n "${CUDA_VISIBLE_DEVICES:-}" ]]; then
        local -a visible
        IFS=, read -r -a visible <<< "$CUDA_VISIBLE_DEVICES"
        if (( ${#visible[@]} < TP * DP )); then
            echo "warning: TP=$TP x DP=$DP but only ${#visible[@]} GPU(s) visible ($CUDA_VISIBLE_DEVICES)" >&2
        fi
    fi
}

# Set BENCHMARK (canonical name) and NUM_QUESTIONS from the rast_benchmarks registry.
rast_lookup_benchmark() {
    local info
    info="$("$PYTHON" -c 'import sys
from rast_benchmarks import get_spec
try:
    spec = get_spec(sys.argv[1])
except ValueError as err:
    sys.exit(f"error: {err}")
print(spec.name, spec.expected_count)' "$1")" ||
        rast_die "could not resolve benchmark '$1' with $PYTHON (rast_benchmarks must be installed there)"
    BENCHMARK=${info% *}
    : "${NUM_QUESTIONS:=${info#* }}"
}

# rast_infer ALPHAS TEMPERATURE: one run.py call; sets MANIFEST to the file where run.py lists the folders it wrote.
rast_infer() {
    local alphas=$1 temperature=$2
    local -a alpha_list extra data_args=() model_args=()
    read -r -a alpha_list <<< "$alphas"
    read -r -a extra <<< "$EXTRA_ARGS"
    [[ -z "$DATA_DIR" ]] || data_args=(--data_dir "$DATA_DIR")
    if [[ -n "$POSITIVE_MODEL" ]]; then
        model_args=(--positive_model "$POSITIVE_MODEL" --negative_model "$NEGATIVE_MODEL"
                    --cd_decoding_alpha "${alpha_list[@]}")
        [[ -z "${SMALL_TP:-}" ]] || model_args+=(--small_tensor_parallel_size "$SMALL_TP")
    fi
    MANIFEST="$OUTPUT_DIR/$BENCHMARK/.manifest-$$-$temperature"

    rast_run_in "$RAST_ROOT/vllm" "$PYTHON" tests/RAST_decode/run.py \
        --dataset "$BENCHMARK" \
        --base_model "$BASE_MODEL" \
        "${model_args[@]}" \
        --tensor_parallel_size "$TP" \
        --data_parallel_size "$DP" \
        --gpu_memory_utilization "$GPU_MEMORY_UTILIZATION" \
        --decoding_temperature "$temperature" \
        --top_p "$TOP_P" \
        --num_runs "$NUM_RUNS" \
        --max_tokens "$MAX_TOKENS" \
        --seed "$SEED" \
        --output_dir "$OUTPUT_DIR" \
        --manifest "$MANIFEST" \
        "${data_args[@]}" "${extra[@]}"
}

# rast_evaluate: pass@K and majority@K over the result folders listed in MANIFEST.
rast_evaluate() {
    local mode
    local -a data_args=()
    [[ -z "$DATA_DIR" ]] || data_args=(--data_dir "$DATA_DIR")
    for mode in pass majority; do
        rast_run_in "$RAST_ROOT/simplerl_math_eval" "$PYTHON" math_eval_pred.py \
            --data_names "$BENCHMARK" \
            --k "$K" \
            --num_questions "$NUM_QUESTIONS" \
            --evaluation_mode "$mode" \
            --manifest "$MANIFEST" \
            "${data_args[@]}"
    done
    [[ "${DRY_RUN:-0}" == 1 ]] || rm -f "$MANIFEST"
}

# rast_launch BENCHMARK: inference at ALPHA and TEMPERATURE, then evaluation.
rast_launch() {
    rast_check_args "$@"
    rast_setup
    rast_lookup_benchmark "$1"
    rast_infer "$ALPHA" "$TEMPERATURE"
    rast_evaluate
}

# rast_sweep BENCHMARK: one run.py call over all ALPHAS per temperature in TEMPERATURES, each evaluated.
rast_sweep() {
    rast_check_args "$@"
    : "${ALPHAS:=0.25 0.5 0.75 1.0 1.5 2.0}" "${TEMPERATURES:=0.6 1.0}"
    rast_setup
    rast_lookup_benchmark "$1"
    local temperature
    for temperature in $TEMPERATURES; do
        rast_infer "$ALPHAS" "$temperature"
        rast_evaluate
    done
}
