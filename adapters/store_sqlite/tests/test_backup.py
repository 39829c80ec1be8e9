"""`hod_store_backup` and `hod_store_restore`: an online copy under load, and back."""

from __future__ import annotations

import sqlite3
import threading
from collections import Counter

import pytest

from hod_core import OfferStatus, Router, StoreError
from hod_core.testing import FakeClock, Outbox, samples
from hod_store_sqlite import SqliteStore


def integrity(path) -> str:
    db = sqlite3.connect(path)
    try:
        return db.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        db.close()


def check_whole(router: Router, referral_ids) -> None:
    """Each referral whole: its created event, one offer.made per offer, Pending only last."""
    for rid in referral_ids:
        referral = router.referral(rid)
        kinds = Counter(e.kind for e in router.events(rid))
        assert kinds["referral.created"] == 1
        assert kinds["offer.made"] == len(referral.offers)
        assert all(o.status is not OfferStatus.PENDING for o in referral.offers[:-1])


def test_backup_under_load_then_restore_keeps_every_earlier_referral(
    router, spawn, db_path, tmp_path
):
    # Two processes and a thread of this one commit referrals the whole time.
    workers = [spawn(), spawn()]
    for worker in workers:
        worker.send("churn", router.now().isoformat())
    before = [worker.readline() for worker in workers for _ in range(10)]
    stop = threading.Event()
    ours: list[str] = []

    def churn() -> None:
        clock = FakeClock(samples.START)
        local = Router([SqliteStore(db_path), clock, Outbox()])
        try:
            while not stop.is_set():
                ours.append(local.request_contact(samples.CONSUMER).id)
                clock.advance(minutes=1)
        finally:
            local.close()

    thread = threading.Thread(target=churn)
    thread.start()
    while len(ours) < 10:  # the thread is committing too
        before.extend(worker.readline() for worker in workers)
    before.extend(ours[:10])  # all returned: committed before the backup begins

    backup = tmp_path / "backup.sqlite3"
    store = SqliteStore(db_path)
    line = store.hod_store_backup(path=str(backup))
    store.close()
    stop.set()
    thread.join()
    after = [worker.readline() for worker in workers]  # they went on committing
    for worker in workers:
        worker.stop()
    router.close()

    assert line.startswith(f"backed up {db_path} to {backup}: 40 agents, ")
    assert not backup.with_name("backup.sqlite3.partial").exists()
    assert integrity(backup) == "ok"
    assert len(after) == 2 and len(ours) >= 10

    # The live store moves on after the backup: restoring brings it back.
    restoring = SqliteStore(db_path)
    assert restoring.hod_store_restore(path=str(backup), force=False).startswith(
        f"restored {db_path} from {backup}"
    )
    assert integrity(db_path) == "ok"
    restored = Router([SqliteStore(db_path), FakeClock(samples.START), Outbox()])
    try:
        for rid in before:  # every referral committed before the backup began
            assert restored.referral(rid).id == rid
        stored = {e.referral_id for e in restored.events(limit=1_000_000) if e.referral_id}
        assert set(before) <= stored
        check_whole(restored, stored)  # whole commits only, none half-copied
        assert len(restored.agents()) == 40
    finally:
        restored.close()


def test_backup_refuses_the_store_itself_and_a_missing_folder(router, db_path, tmp_path):
    store = SqliteStore(db_path)
    try:
        with pytest.raises(StoreError, match="that is the store itself"):
            store.hod_store_backup(path=str(db_path))
        with pytest.raises(StoreError, match="its folder does not exist"):
            store.hod_store_backup(path=str(tmp_path / "no" / "backup.sqlite3"))
    finally:
        store.close()
    assert len(router.agents()) == 40  # the store is untouched


def test_restore_refuses_while_another_process_holds_the_store(router, spawn, db_path, tmp_path):
    backup = tmp_path / "backup.sqlite3"
    SqliteStore(db_path).hod_store_backup(path=str(backup))
    router.put_agent(samples.agent("9999", "77002"))  # after the backup
    router.close()
    server = spawn()  # a router in another process, its store open
    server.send("tick", samples.START.isoformat(), "0")
    assert server.readline().startswith("expired")

    with pytest.raises(StoreError, match="in use by another process"):
        SqliteStore(db_path).hod_store_restore(path=str(backup), force=False)
    check = Router([SqliteStore(db_path), FakeClock(samples.START), Outbox()])
    assert check.agent("9999").npn == "9999"  # refused: nothing changed
    check.close()

    SqliteStore(db_path).hod_store_restore(path=str(backup), force=True)
    server.stop()
    check = Router([SqliteStore(db_path), FakeClock(samples.START), Outbox()])
    try:
        assert "9999" not in {a.npn for a in check.agents()}
    finally:
        check.close()


def test_restore_refuses_a_file_that_is_not_a_backup(db_path, tmp_path):
    SqliteStore(db_path).close()
    other = tmp_path / "other.sqlite3"
    db = sqlite3.connect(other)
    db.execute("CREATE TABLE notes (text)")
    db.commit()
    db.close()
    text = tmp_path / "notes.txt"
    text.write_text("not a database at all, but longer than one SQLite header " * 3)
    for path, problem in (
        (other, "not a hod-core store"),
        (text, "not an SQLite database"),
        (tmp_path / "missing.sqlite3", "no such backup file"),
    ):
        with pytest.raises(StoreError, match=problem):
            SqliteStore(db_path).hod_store_restore(path=str(path), force=False)
    assert integrity(db_path) == "ok"
