"""Secrets at rest: the data folder is 0700 and every file in it (the SQLite
store with its -wal and -shm, the demo's secret key and credentials, the
outbox) 0600, whatever the umask the server starts under."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from hod_core.server.accounts.passwords import TEST_PARAMETERS, Passwords
from hod_core.server.context import Hod
from hod_core.server.server_settings import ServerSettings
from hod_core.server.services import demo

from .data import ANA


@pytest.fixture
def usual_umask():
    """The umask most systems start a service with: new files 0644, folders 0755."""
    before = os.umask(0o022)
    yield
    os.umask(before)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def open_demo(data_dir: Path) -> Hod:
    """What `hod serve --demo` opens and fills, with a referral written (so the WAL exists)."""
    settings = demo.demo_settings(ServerSettings(data_dir=data_dir), data_dir_given=True)
    hod = Hod(settings)
    hod.accounts.passwords = Passwords(TEST_PARAMETERS)
    demo.seed(hod)
    hod.router.request_contact(ANA)
    return hod


def test_the_data_folder_and_every_file_in_it_are_private_under_umask_022(tmp_path, usual_umask):
    data_dir = tmp_path / "data"
    hod = open_demo(data_dir)
    try:
        files = {p.name: mode(p) for p in data_dir.iterdir()}
        assert mode(data_dir) == 0o700
        expected = {"hod.sqlite3", "hod.sqlite3-wal", "hod.sqlite3-shm", "secret_key"}
        assert expected | {"outbox.jsonl", "demo.json"} <= set(files)
        assert files == dict.fromkeys(files, 0o600)
    finally:
        hod.router.close()


def test_a_folder_and_store_made_under_a_looser_umask_are_made_private(tmp_path, usual_umask):
    data_dir = tmp_path / "data"
    hod = open_demo(data_dir)
    hod.router.close()
    data_dir.chmod(0o755)
    for path in data_dir.iterdir():
        path.chmod(0o644)
    hod = Hod(ServerSettings(data_dir=data_dir, secret_key="k" * 40, notifiers=("outbox",)))
    try:
        hod.router.request_contact(ANA)
        assert mode(data_dir) == 0o700
        for name in ("hod.sqlite3", "hod.sqlite3-wal", "hod.sqlite3-shm", "outbox.jsonl"):
            assert mode(data_dir / name) == 0o600, name
    finally:
        hod.router.close()
