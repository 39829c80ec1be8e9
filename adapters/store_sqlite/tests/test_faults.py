"""Faults of the file itself: refused at start-up in one line, or, mid-run,
losing nothing and inventing nothing (real files in tmp_path)."""

from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3
import subprocess
import threading

import pytest

from hod_core import Event, Router, StoreError
from hod_core.testing import Outbox, samples
from hod_store_sqlite import SCHEMA_VERSION, SqliteStore
from hod_store_sqlite import store as store_module

HOUSTON = "77002"


@contextlib.contextmanager
def read_only(path):
    """The file made read-only for everyone, root included (chattr +i)."""
    if os.geteuid() != 0:
        os.chmod(path, 0o444)
        yield
        os.chmod(path, 0o644)
        return
    if shutil.which("chattr") is None:
        pytest.skip("running as root without chattr: cannot make a file read-only")
    made = subprocess.run(["chattr", "+i", str(path)], capture_output=True)
    if made.returncode:
        pytest.skip("this file system has no immutable attribute")
    try:
        yield
    finally:
        subprocess.run(["chattr", "-i", str(path)], check=True)


def a_store_file(path):
    store = SqliteStore(path)
    store.hod_store_put_agent(agent=samples.agent("1"), events=[])
    store.close()
    return path


def in_thread(call):
    """Run `call` on a new thread (a new connection) and return or raise its result."""
    outcome = {}

    def run():
        try:
            outcome["value"] = call()
        except BaseException as exc:  # noqa: BLE001 - handed back to the caller
            outcome["error"] = exc

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


# -- start-up: a clear error naming the path and the problem -----------------------
def refused(path) -> str:
    with pytest.raises(StoreError) as error:
        SqliteStore(path)
    message = str(error.value)
    assert message.startswith(f"{path}: ") and "\n" not in message and len(message) < 300
    return message


def test_a_file_that_is_not_sqlite_is_refused(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("these are not the referrals you are looking for\n" * 10)
    assert "not an SQLite database" in refused(path)


def test_a_truncated_file_is_refused_as_damaged(tmp_path):
    path = a_store_file(tmp_path / "hod.sqlite3")
    with path.open("r+b") as file:
        file.truncate(path.stat().st_size // 2)
    assert "damaged" in refused(path) and "truncated" in refused(path)


def test_another_applications_database_is_refused_and_left_alone(tmp_path):
    path = tmp_path / "crm.sqlite3"
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT)")
    db.commit()
    db.close()
    assert "not a hod-core store" in refused(path) and "customers" in refused(path)
    tables = sqlite3.connect(path).execute("SELECT name FROM sqlite_master").fetchall()
    assert tables == [("customers",)]


def test_a_newer_schema_is_refused(tmp_path):
    path = a_store_file(tmp_path / "hod.sqlite3")
    db = sqlite3.connect(path)
    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    db.commit()
    db.close()
    assert "newer" in refused(path)


def test_a_read_only_file_is_refused_at_start_up(tmp_path):
    path = a_store_file(tmp_path / "hod.sqlite3")
    with read_only(path):
        assert "read-only" in refused(path)


def test_a_missing_folder_is_refused(tmp_path):
    assert "cannot be opened" in refused(tmp_path / "no" / "such" / "hod.sqlite3")


# -- mid-run: a failed save leaves the matcher as it was ------------------------------
def serve(path, clock) -> Router:
    router = Router([SqliteStore(path), clock, Outbox()], delivery_threads=0)
    router.put_agent(samples.agent("1", HOUSTON))
    return router


def assert_not_a_ghost(router, path, clock, ghost: str):
    """The agent whose save failed is in neither this router nor the store."""
    assert ghost not in router.matcher
    other = Router([SqliteStore(path), clock, Outbox()], delivery_threads=0)
    assert sorted(a.npn for a in other.matcher.agents()) == sorted(
        a.npn for a in router.matcher.agents()
    )
    assert router.request_contact(samples.CONSUMER).pending_offer.npn != ghost


def test_an_agent_save_on_a_file_gone_read_only_leaves_no_ghost(db_path, clock):
    router = serve(db_path, clock)
    # A new thread opens a new connection, on a file read-only by now.
    with read_only(db_path), pytest.raises(sqlite3.OperationalError, match="readonly"):
        in_thread(lambda: router.put_agent(samples.agent("2", HOUSTON)))
    assert_not_a_ghost(router, db_path, clock, "2")


def test_an_agent_save_on_a_full_disk_leaves_no_ghost(db_path, clock):
    router = serve(db_path, clock)
    store = next(p for p in router.plugins.get_plugins() if isinstance(p, SqliteStore))
    db = store._db  # this thread's connection: no page beyond those it has now
    (pages,) = db.execute("PRAGMA page_count").fetchone()
    db.execute(f"PRAGMA max_page_count = {pages}")
    with pytest.raises(sqlite3.OperationalError, match="full"):
        for n in range(2, 1000):  # until the pages it has are full
            ghost = str(n)
            router.put_agent(samples.agent(ghost, HOUSTON))
    db.execute("PRAGMA max_page_count = 1073741823")
    assert_not_a_ghost(router, db_path, clock, ghost)


def test_checkpoints_run_on_a_thread_of_their_own_every_so_many_commits(tmp_path, monkeypatch):
    """Commits go on while a checkpoint waits for the disk (store.CHECKPOINT_EVERY)."""
    monkeypatch.setattr(store_module, "CHECKPOINT_EVERY", 3)
    store = SqliteStore(tmp_path / "hod.sqlite3")  # opening commits once
    ran, where = threading.Event(), []
    checkpoint = store._checkpoint

    def watched(mode: str = "PASSIVE") -> None:
        where.append(threading.current_thread().name)
        checkpoint(mode)
        ran.set()

    store._checkpoint = watched
    for n in range(2):
        store.hod_store_append_events(events=[Event(samples.START, "notify.sent", f"r{n}")])
    assert ran.wait(timeout=30)
    assert where == ["hod-sqlite-checkpoint"]
    busy, frames, copied = store._db.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
    assert busy == 0 and frames == copied
