#!/usr/bin/env bash
# RAST with Llama-3.1-70B as base, shifted by the 8B SimpleRL-Zoo delta. Usage: run_variant_llama70b.sh BENCHMARK
# Every setting is an environment variable; see scripts/lib/launch.sh. DRY_RUN=1 only prints the commands.
# shellcheck source=lib/launch.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/launch.sh"
: "${BASE_MODEL:=meta-llama/Llama-3.1-70B}"
: "${POSITIVE_MODEL=hkust-nlp/Llama-3.1-8B-SimpleRL-Zoo}"
: "${NEGATIVE_MODEL=meta-llama/Llama-3.1-8B}"
: "${TP:=8}"
rast_launch "$@"
