#!/usr/bin/env bash
# RAST with Qwen2.5-32B as base, shifted by the 7B SimpleRL-Zoo delta. Usage: run_variant_32b.sh BENCHMARK
# Every setting is an environment variable; see scripts/lib/launch.sh. DRY_RUN=1 only prints the commands.
# shellcheck source=lib/launch.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/launch.sh"
: "${BASE_MODEL:=Qwen/Qwen2.5-32B}"
: "${POSITIVE_MODEL=hkust-nlp/Qwen-2.5-7B-SimpleRL-Zoo}"
: "${NEGATIVE_MODEL=Qwen/Qwen2.5-7B}"
# The 7B pair's 28 attention heads do not split over 8 ranks: 8 GPUs run as 2 replicas of tensor parallel size 4.
: "${TP:=4}" "${DP:=2}"
rast_launch "$@"
