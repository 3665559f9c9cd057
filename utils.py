"""Utility functions shared by the repository's top-level tools (analysis/, scripts/): writing JSON and CSV files.

JSONL files are read with ``rast_benchmarks.loading.read_jsonl`` (one reader for the whole project).

The installable packages (rast, rast_benchmarks, simplerl_math_eval) do not import this module.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any


def write_json(path: Path | str, data: Any) -> None:
    """``data`` as indented UTF-8 JSON."""
    Path(path).write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def write_csv(path: Path | str, rows: Sequence[dict]) -> None:
    """Rows (dicts with the same keys) as CSV with a header line."""
    with Path(path).open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]) if rows else [])
        writer.writeheader()
        writer.writerows(rows)
