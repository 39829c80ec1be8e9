"""P2 on the SQLite file: erased contact data is gone from the bytes of the
database and its write-ahead log, and files from before the column migrate."""

from __future__ import annotations

import sqlite3
from datetime import timedelta

import orjson
from attrs import evolve

from hod_core import ReferralStatus, Router, unstructure
from hod_core.testing import Outbox, samples
from hod_store_sqlite import SqliteStore
from hod_store_sqlite.schema import MIGRATIONS, statements


def test_p2_the_sweep_leaves_no_erased_email_in_the_file_or_its_wal(router, db_path, clock):
    emails = [f"consumer{n:03d}@example.com" for n in range(40)]
    referrals = []
    for email in emails:
        referral = router.request_contact(evolve(samples.CONSUMER, email=email))
        router.reject(referral.id, referral.pending_offer.npn)  # the body grows: it moves
        now_offered = router.referral(referral.id).pending_offer.npn
        router.accept(referral.id, now_offered)
        router.update_status(referral.id, now_offered, "completed")
        referrals.append(referral.id)
    clock.advance(days=90)
    assert router.tick().contact_erased == len(emails)
    assert all(router.referral(rid).consumer is None for rid in referrals)
    files = [db_path, db_path.with_name(db_path.name + "-wal")]
    assert files[1].exists()  # the WAL is there, emptied
    for path in files:
        data = path.read_bytes()
        assert not [e for e in emails if e.encode() in data], path.name


def test_a_file_from_before_retention_gets_closed_at_from_its_events(db_path, clock):
    db = sqlite3.connect(db_path, isolation_level=None)
    for version in range(3):  # the schema as it was before retention (version 3)
        for statement in statements(MIGRATIONS[version]):
            db.execute(statement)
    db.execute("PRAGMA user_version = 3")
    ended_at = samples.START + timedelta(days=2)
    old = evolve(samples.referral("old"), status=ReferralStatus.COMPLETED)
    body = unstructure(old)
    del body["closed_at"], body["language"]  # the body as it was written then
    db.execute(
        "INSERT INTO referrals (id, version, status, created_at, due_at, body)"
        " VALUES ('old', 1, 'completed', ?, NULL, ?)",
        (samples.START.isoformat(timespec="microseconds"), orjson.dumps(body).decode()),
    )
    db.execute(
        "INSERT INTO events (at, kind, referral_id, npn, actor, rule, detail)"
        " VALUES (?, 'referral.status', 'old', '1', 'agent', 'L6', '{}')",
        (ended_at.isoformat(timespec="microseconds"),),
    )
    db.close()
    store = SqliteStore(db_path)
    migrated = store.hod_store_referral(referral_id="old")
    assert (migrated.closed_at, migrated.language) == (ended_at, "es")
    assert store.hod_store_erasable(closed_before=ended_at - timedelta(seconds=1), limit=9) == []
    assert store.hod_store_erasable(closed_before=ended_at, limit=9) == ["old"]
    clock.at = ended_at + timedelta(days=90)
    router = Router([store, clock, Outbox()], delivery_threads=0)
    assert router.tick().contact_erased == 1
