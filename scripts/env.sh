# shellcheck shell=bash
# Sourced by the scripts: the project's virtual environment and CPU-friendly vLLM defaults (each overridable).
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck disable=SC2034  # used by the scripts that source this file
PYTHON="$ROOT/.venv/bin/python"
export VLLM_CPU_KVCACHE_SPACE="${VLLM_CPU_KVCACHE_SPACE:-1}"        # GiB of KV cache on CPU
export VLLM_CPU_OMP_THREADS_BIND="${VLLM_CPU_OMP_THREADS_BIND:-1}"  # measured faster than 0-1 on 2 cores
export TOKENIZERS_PARALLELISM="${TOKENIZERS_PARALLELISM:-false}"
