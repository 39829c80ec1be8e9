"""The store's file holds contact data and password hashes: it and its -wal and
-shm files are readable by their owner only (0600), whatever the umask."""

from __future__ import annotations

import os
import stat

import pytest

from hod_core import Router
from hod_core.testing import FakeClock, Outbox, samples
from hod_store_sqlite import SqliteStore

FILES = ("hod.sqlite3", "hod.sqlite3-wal", "hod.sqlite3-shm")


@pytest.fixture
def usual_umask():
    before = os.umask(0o022)  # new files 0644 unless the store says otherwise
    yield
    os.umask(before)


def modes(folder) -> dict[str, int]:
    return {name: stat.S_IMODE((folder / name).stat().st_mode) for name in FILES}


def test_a_new_store_and_its_wal_are_0600_under_umask_022(tmp_path, usual_umask):
    router = Router([SqliteStore(tmp_path / "hod.sqlite3"), FakeClock(samples.START), Outbox()])
    try:
        router.put_agent(samples.agent("1000001", "77002"))
        assert modes(tmp_path) == dict.fromkeys(FILES, 0o600)
    finally:
        router.close()


def test_an_existing_store_readable_by_others_is_made_0600(tmp_path, usual_umask):
    SqliteStore(tmp_path / "hod.sqlite3").close()
    (tmp_path / "hod.sqlite3").chmod(0o644)
    router = Router([SqliteStore(tmp_path / "hod.sqlite3"), FakeClock(samples.START), Outbox()])
    try:
        router.put_agent(samples.agent("1000001", "77002"))
        assert modes(tmp_path) == dict.fromkeys(FILES, 0o600)
    finally:
        router.close()
