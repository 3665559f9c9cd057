"""Installed versions of the packages that decide a run's or a score's numbers (recorded beside the results)."""

from __future__ import annotations

from collections.abc import Iterable
from importlib import metadata


def package_versions(distributions: Iterable[str]) -> dict[str, str]:
    """``{distribution: version}`` for each of ``distributions`` that is installed (the others are left out)."""
    found = {}
    for name in distributions:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return found
