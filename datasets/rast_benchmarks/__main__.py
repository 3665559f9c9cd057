"""``python -m rast_benchmarks fetch NAME... [--out DIR]``: load benchmarks from the hub once, on a connected machine.

Loading fills the datasets cache (enough for machines sharing ``HF_HOME``, with ``HF_HUB_OFFLINE=1``); ``--out DIR``
also writes ``DIR/{name}/test.jsonl``, the layout ``--data_dir DIR`` and ``RAST_DATA_DIR`` read on offline machines.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from rast_benchmarks.loading import load_benchmark
from rast_benchmarks.registry import BENCHMARKS, canonical_name


def fetch(names: list[str], out: Path | None) -> list[str]:
    """Load each benchmark as :func:`load_benchmark` does; with ``out``, write it to ``out/{name}/test.jsonl``."""
    lines = []
    for name in dict.fromkeys(canonical_name(each) for each in names):
        records = load_benchmark(name, data_dir=None)
        where = "loaded"
        if out is not None:
            path = out / name / "test.jsonl"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text("".join(json.dumps(record, ensure_ascii=False) + "\n" for record in records),
                            encoding="utf-8")
            where = f"written to {path}"
        lines.append(f"{name}: {len(records)} records {where}")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m rast_benchmarks", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    fetching = commands.add_parser("fetch", help="load benchmarks from the hub (and write them with --out DIR)")
    fetching.add_argument("names", nargs="+", metavar="NAME", help=f"benchmarks: {', '.join(BENCHMARKS)} or aliases")
    fetching.add_argument("--out", type=Path, help="write DIR/{name}/test.jsonl for --data_dir DIR")
    args = parser.parse_args(argv)
    try:
        print("\n".join(fetch(args.names, args.out)))
    except (ValueError, FileNotFoundError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
