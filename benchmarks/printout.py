"""How every benchmark shows its figures: a line each, then, with --json, one
JSON object as the last line (what scripts and docs/benchmarks.md read)."""

from __future__ import annotations

import json
import platform
import sys


def interpreter() -> str:
    """Which Python ran: builds differ by 10-15% in these figures (a
    distribution's python3, built with profile-guided optimisation, against
    a plain source build such as pyenv's default)."""
    return f"{platform.python_version()} ({sys.base_prefix})"


def print_result(result: dict, as_json: bool) -> None:
    width = max(map(len, result), default=0) + 2
    for key, value in result.items():
        print(f"{key:{width}} {value}")
    if as_json:
        print(json.dumps(result))
