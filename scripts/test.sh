#!/usr/bin/env bash
# Run the test suite (creating or reusing .venv first). Extra arguments go to pytest, e.g. `tests/engine -x`.
set -euo pipefail
# shellcheck source=env.sh
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
bash "$ROOT/scripts/setup.sh"
cd "$ROOT"
exec "$PYTHON" -m pytest "$@"
