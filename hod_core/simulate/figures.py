"""The figures of a simulation run (stub: the shape is in the module's
final version; see `figures_of` and `compare`)."""

from __future__ import annotations

from typing import Any


def figures_of(referrals, suspensions, agents: int, start, end) -> dict[str, Any]:
    raise NotImplementedError


def compare(base: dict[str, Any], other: dict[str, Any]) -> dict[str, Any]:
    raise NotImplementedError
