"""Clocks for the server: the machine's, and one a test moves from outside.

`FileClock` is for tests that start `hod serve` as a process (browser tests,
the benchmark's expiry checks): time is a fixed start plus the seconds
written in a file, re-read at every look, so a test moves time by writing a
number instead of sleeping. Only the `fake_clock` setting turns it on.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

FILE_NAME = "fake-clock"


class SystemClock:
    """The clock hook on the machine's clock."""

    def hod_now(self) -> datetime:
        return datetime.now(UTC)


class FileClock:
    """`start` + the seconds in `path` (absent or empty: 0)."""

    def __init__(self, start: datetime, path: str | Path):
        if start.tzinfo is None:
            raise ValueError("a fake clock needs a timezone-aware start")
        self.start = start
        self.path = Path(path)

    def hod_now(self) -> datetime:
        try:
            text = self.path.read_text().strip()
        except FileNotFoundError:
            text = ""
        try:
            offset = float(text) if text else 0.0
        except ValueError:
            offset = 0.0  # a half-written file: the start, until it is whole
        return self.start + timedelta(seconds=offset)

    def advance_to(self, seconds: float) -> None:
        """Set the offset (atomically: a reader never sees half a number)."""
        temporary = self.path.with_suffix(".tmp")
        temporary.write_text(repr(float(seconds)))
        temporary.replace(self.path)
