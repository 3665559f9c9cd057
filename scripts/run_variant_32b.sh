#!/usr/bin/env bash
# RAST with Qwen2.5-32B as base, shifted by the 7B SimpleRL-Zoo delta. Usage: run_variant_32b.sh BENCHMARK
# Every setting is an environment variable; see scripts/lib/launch.sh. DRY_RUN=1 only prints the commands.
# shellcheck source=lib/launch.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/launch.sh"
: "${BASE_MODEL:=Qwen/Qwen2.5-32B}"
: "${POSITIVE_MODEL=hkust-nlp/Qwen-2.5-7B-SimpleRL-Zoo}"
: "${NEGATIVE_MODEL=Qwen/Qwen2.5-7B}"
# 8 GPUs as 2 replicas of tensor parallel size 4 (the 7B pair sharded 4 ways). One engine of tensor parallel 8 also
# runs (the 7B pair's 28 heads do not split 8 ways, so it would run as a copy on every GPU: TP=8 SMALL_TP=1), but then
# every GPU reads both whole 7B models (30 GB in bf16) for every step beside its 8 GB shard of the 32B: more work per
# GPU than the base itself, where 2 x TP 4 reads 16 + 7.5 GB for half the batch.
: "${TP:=4}" "${DP:=2}"
rast_launch "$@"
