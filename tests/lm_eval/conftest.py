"""tests/serve on sys.path, for ``serve_helpers``."""

import sys
from pathlib import Path

SERVE_TESTS = str(Path(__file__).resolve().parents[1] / "serve")
if SERVE_TESTS not in sys.path:
    sys.path.insert(0, SERVE_TESTS)
