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
        self._stamp: tuple | None = None  # the file's mtime, size and inode when last read
        self._offset = 0.0

    def hod_now(self) -> datetime:
        try:
            found = self.path.stat()  # a stat costs a tenth of a read: most looks stop here
        except FileNotFoundError:
            return self.start
        stamp = (found.st_mtime_ns, found.st_size, found.st_ino)
        if stamp != self._stamp:
            self._stamp, self._offset = stamp, self._read()
        return self.start + timedelta(seconds=self._offset)

    def _read(self) -> float:
        try:
            text = self.path.read_text().strip()
            return float(text) if text else 0.0
        except (FileNotFoundError, ValueError):
            return 0.0  # gone, or half-written: the start until it is whole

    def advance_to(self, seconds: float) -> None:
        """Set the offset (atomically: a reader never sees half a number)."""
        temporary = self.path.with_suffix(".tmp")
        temporary.write_text(repr(float(seconds)))
        temporary.replace(self.path)
