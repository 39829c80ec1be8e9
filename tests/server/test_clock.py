"""The fake clock a test moves from outside the server process (FileClock)."""

from __future__ import annotations

from datetime import datetime, timedelta

from hod_core.server.clock import FileClock

START = datetime.fromisoformat("2026-11-23T10:00:00-06:00")


def test_time_is_the_start_plus_the_seconds_in_the_file(tmp_path):
    clock = FileClock(START, tmp_path / "fake-clock")
    assert clock.hod_now() == START  # no file yet
    clock.advance_to(900.5)
    assert clock.hod_now() == START + timedelta(seconds=900.5)
    writer = FileClock(START, tmp_path / "fake-clock")  # another process, say
    writer.advance_to(60)
    assert clock.hod_now() == START + timedelta(seconds=60)
    (tmp_path / "fake-clock").write_text("12")  # written by hand
    assert clock.hod_now() == START + timedelta(seconds=12)
    (tmp_path / "fake-clock").write_text("not a number")
    assert clock.hod_now() == START
