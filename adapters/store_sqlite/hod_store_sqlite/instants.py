"""The store's instants as text, and back: UTC, fixed width, to the
microsecond, so text order is time order and SQL can compare and sort them.
Every table of the file keeps its instants this way."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import lru_cache


@lru_cache(maxsize=4096)  # a referral's instants recur in every commit of it
def instant(at: datetime | None) -> str | None:
    return None if at is None else at.astimezone(UTC).isoformat(timespec="microseconds")


def moment(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)
