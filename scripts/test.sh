#!/usr/bin/env bash
# Run the test suite (creating or reusing .venv first). Extra arguments go to pytest, e.g. `tests/engine -x`.
# --fast: only the tests that start no vLLM engine (pytest -m "not engine"; tests/conftest.py marks the others).
set -euo pipefail
# shellcheck source=env.sh
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
bash "$ROOT/scripts/setup.sh"
cd "$ROOT"
args=()
for arg in "$@"; do
  if [[ "$arg" == --fast ]]; then args+=(-m "not engine"); else args+=("$arg"); fi
done
exec "$PYTHON" -m pytest "${args[@]}"
