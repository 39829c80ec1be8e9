"""The file itself: its body format, its schema version, its append-only log."""

from __future__ import annotations

import sqlite3
from datetime import timedelta

import orjson
import pytest
from attrs import evolve

from hod_core import (
    Commit,
    ConfigurationError,
    Event,
    NotAGoodReason,
    OfferStats,
    OfferStatus,
    ReferralStatus,
    unstructure,
)
from hod_core.testing import samples
from hod_store_sqlite import SCHEMA_VERSION, SqliteStore, listings
from hod_store_sqlite.offers import instant
from hod_store_sqlite.schema import MIGRATIONS, statements
from hod_store_sqlite.store import _referral_json

START = samples.START


def test_a_referral_body_is_the_wire_format_byte_for_byte():
    first = samples.referral(offered_to="1")
    at = samples.START + timedelta(minutes=3, microseconds=250)
    full = evolve(
        first.answered(OfferStatus.ACCEPTED, at, status=ReferralStatus.NOT_A_GOOD_REFERRAL),
        agent_npn="1",
        accepted_at=at,
        contact_deadline=at + timedelta(minutes=30),
        reason=NotAGoodReason.WRONG_CONTACT_DATA,
        version=3,
    )
    for referral in (first, full):
        assert _referral_json(referral) == orjson.dumps(unstructure(referral)).decode()


def test_a_newer_schema_is_refused_and_an_older_file_opens(tmp_path):
    path = tmp_path / "hod.sqlite3"
    SqliteStore(path).close()
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    db.commit()
    db.close()
    with pytest.raises(ConfigurationError, match="newer than this"):
        SqliteStore(path)


def test_the_event_log_refuses_updates_and_deletes(tmp_path):
    store = SqliteStore(tmp_path / "hod.sqlite3")
    store.hod_store_append_events(events=[Event(samples.START, "notify.sent", "r1")])
    for statement in ("UPDATE events SET kind = 'x'", "DELETE FROM events"):
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            store._db.execute(statement)
    assert [e.kind for e in store.hod_store_events(referral_id=None, after=0, limit=10)] == [
        "notify.sent"
    ]


def test_a_bad_setting_is_a_clear_error(tmp_path):
    with pytest.raises(ConfigurationError, match="synchronous"):
        SqliteStore(tmp_path / "x.sqlite3", synchronous="sometimes")
    with pytest.raises(ConfigurationError, match="path"):
        SqliteStore.from_settings({})


def test_only_rare_event_kinds_are_indexed_by_kind(tmp_path):
    """A commit's frequent events write no index page by kind; operators'
    listings of rare kinds (failed notices) still read one index range."""
    store = SqliteStore(tmp_path / "hod.sqlite3")
    indexes = {
        name: sql
        for name, sql in store._db.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'events'"
        )
    }
    assert (
        "events_by_kind" not in indexes
        and "kind <> 'notify.sent'" in indexes["events_of_rare_kind"]
    )
    store.hod_store_append_events(
        events=[Event(samples.START, k, "r1") for k in ("notify.sent", "notify.failed") * 50]
    )
    rare = store.hod_store_events_of_kind(kinds=["notify.failed"], before=None, limit=3)
    frequent = store.hod_store_events_of_kind(kinds=["notify.sent"], before=None, limit=3)
    assert [e.seq for e in rare] == [100, 98, 96] and [e.seq for e in frequent] == [99, 97, 95]
    in_index = store._db.execute(
        "SELECT count(*) FROM events INDEXED BY events_of_rare_kind WHERE kind = 'notify.failed'"
        f" AND {listings._NOT_FREQUENT}"
    ).fetchone()[0]
    assert in_index == 50


def _older_file(path, version: int, failed_at_seqs=(1,)) -> None:
    """A file of schema `version`, as that code wrote it, with notify.failed events."""
    db = sqlite3.connect(path)
    for step in range(version):
        for statement in statements(MIGRATIONS[step]):
            db.execute(statement)
    db.execute(f"PRAGMA user_version = {version}")
    db.executemany(
        "INSERT INTO events (seq, at, kind, actor, detail) VALUES (?, ?, ?, 'system', '{}')",
        [(seq, samples.START.isoformat(), "notify.failed") for seq in failed_at_seqs],
    )
    db.commit()
    db.close()


def test_a_version_4_file_gets_the_narrower_indexes(tmp_path):
    path = tmp_path / "hod.sqlite3"
    _older_file(path, 4)
    store = SqliteStore(path)
    names = {n for (n,) in store._db.execute("SELECT name FROM sqlite_master WHERE type='index'")}
    assert "events_of_rare_kind" in names and "referrals_by_status" in names
    assert not names & {"events_by_kind", "referrals_by_created"}
    assert [
        e.kind
        for e in store.hod_store_events_of_kind(kinds=["notify.failed"], before=None, limit=5)
    ] == ["notify.failed"]


def test_a_version_5_file_keeps_its_events_and_their_order_without_autoincrement(tmp_path):
    path = tmp_path / "hod.sqlite3"
    _older_file(path, 5, failed_at_seqs=(3, 7, 12))
    store = SqliteStore(path)
    (sql,) = store._db.execute("SELECT sql FROM sqlite_master WHERE name = 'events'").fetchone()
    assert "AUTOINCREMENT" not in sql
    store.hod_store_append_events(events=[Event(samples.START, "notify.sent", "r1")])
    seqs = [e.seq for e in store.hod_store_events(referral_id=None, after=0, limit=10)]
    assert seqs == [3, 7, 12, 13]
    assert [
        e.seq for e in store.hod_store_events_of_kind(kinds=["notify.failed"], before=None, limit=2)
    ] == [12, 7]
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        store._db.execute("DELETE FROM events")


def test_a_version_7_file_gets_the_rare_kinds_index_without_a_list(tmp_path):
    """Step 7 rewrites the index's `NOT IN (...)` (a throwaway table per
    insert) as a chain of `<>`; listings of rare kinds still read it."""
    path = tmp_path / "hod.sqlite3"
    _older_file(path, 7, failed_at_seqs=(1, 2))
    db = sqlite3.connect(path)
    listed = ", ".join(repr(k) for k in listings.FREQUENT_KINDS)
    db.executescript(
        "DROP INDEX events_of_rare_kind;"
        f" CREATE INDEX events_of_rare_kind ON events (kind, seq) WHERE kind NOT IN ({listed});"
    )
    db.close()
    store = SqliteStore(path)
    (sql,) = store._db.execute(
        "SELECT sql FROM sqlite_master WHERE name = 'events_of_rare_kind'"
    ).fetchone()
    assert "NOT IN" not in sql and f"WHERE {listings._NOT_FREQUENT}" in sql
    plan = store._db.execute(
        "EXPLAIN QUERY PLAN SELECT seq FROM events WHERE kind IN ('notify.failed')"
        f" AND {listings._NOT_FREQUENT} ORDER BY seq DESC LIMIT 5"
    ).fetchall()
    assert "events_of_rare_kind" in str(plan)
    found = store.hod_store_events_of_kind(kinds=["notify.failed"], before=None, limit=5)
    assert [e.seq for e in found] == [2, 1]


def test_a_version_8_file_keeps_every_offer_keyed_by_pending(tmp_path):
    """Step 9 copies the offers into a table keyed by (npn, pending, ...) and
    drops the index of Pending offers: E12's counts, the tie-break, agents'
    histories and their delivered marks read the same after it."""
    path = tmp_path / "hod.sqlite3"
    _older_file(path, 8, failed_at_seqs=())
    minute = timedelta(minutes=1)
    missed = samples.answered(samples.referral("r1", offered_to="7"), OfferStatus.MISSED, START)
    held = [samples.referral(f"r{n}", offered_to="7", at=START + n * minute) for n in (2, 3)]
    accepted = samples.answered(
        samples.referral("r4", offered_to="8", at=START + 3 * minute),
        OfferStatus.ACCEPTED,
        START + 4 * minute,
    )
    db = sqlite3.connect(path, isolation_level=None)
    for referral in (missed, *held, accepted):
        (offer,) = referral.offers
        db.execute(
            "INSERT INTO referrals (id, version, status, created_at, body) VALUES (?, ?, ?, ?, ?)",
            (referral.id, referral.version, referral.status.value, "", _referral_json(referral)),
        )
        answered = None if offer.answered_at is None else instant(offer.answered_at)
        db.execute(
            "INSERT INTO offers (referral_id, npn, status, offered_at, expires_at, answered_at)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (
                referral.id,
                offer.npn,
                offer.status.value,
                instant(offer.offered_at),
                instant(offer.expires_at),
                answered,
            ),
        )
    db.execute(
        "INSERT INTO events (at, kind, referral_id, npn, actor, detail)"
        " VALUES (?, 'notify.sent', 'r1', '7', 'system', '{}')",
        (instant(START),),
    )
    db.close()

    store = SqliteStore(path)
    indexes = {n for (n,) in store._db.execute("SELECT name FROM sqlite_master WHERE type='index'")}
    assert "offers_pending" not in indexes
    assert store.hod_store_offer_stats(npns=["7", "8", "9"]) == {
        "7": OfferStats(2, START + 3 * minute),
        "8": OfferStats(0, START + 3 * minute),
    }
    history = store.hod_store_agent_offers(npn="7", since=None, limit=None)
    assert [(h.referral_id, h.offer.status, h.delivered) for h in history] == [
        ("r3", OfferStatus.PENDING, False),
        ("r2", OfferStatus.PENDING, False),
        ("r1", OfferStatus.MISSED, True),
    ]
    assert history[2].offer == missed.offers[0]
    since = store.hod_store_agent_offers(npn="7", since=START + minute, limit=None)
    assert [h.referral_id for h in since] == ["r3", "r2"]
    assert [h.referral_id for h in store.hod_store_agent_offers(npn="7", since=None, limit=1)] == [
        "r3"
    ]
    # E12 counts the copied Pending offers; an answer moves its row out of the count.
    fifth = samples.referral("r5", offered_to="7", at=START + 5 * minute)
    assert store.hod_store_commit(fifth, 0, [], 2) is Commit.AT_CAPACITY
    later = samples.answered(held[0], OfferStatus.ACCEPTED, START + 6 * minute)
    assert store.hod_store_commit(later, held[0].version, [], 2) is Commit.WRITTEN
    assert store.hod_store_commit(fifth, 0, [], 2) is Commit.WRITTEN
    assert store.hod_store_offer_stats(npns=["7"])["7"] == OfferStats(2, START + 5 * minute)
    statuses = [h.offer.status for h in store.hod_store_agent_offers(npn="7", since=None, limit=9)]
    assert statuses == [
        OfferStatus.PENDING,
        OfferStatus.PENDING,
        OfferStatus.ACCEPTED,
        OfferStatus.MISSED,
    ]


def test_an_answer_whose_offer_row_is_gone_writes_it_anew(tmp_path):
    """A commit moves an answered offer by the key it was stored under; a
    row not found there (a file edited by hand) is written anew."""
    store = SqliteStore(tmp_path / "hod.sqlite3")
    offered = samples.referral("r1", offered_to="7")
    assert store.hod_store_commit(offered, 0, [], 3) is Commit.WRITTEN
    store._db.execute("DELETE FROM offers")
    accepted = samples.answered(offered, OfferStatus.ACCEPTED, START + timedelta(minutes=1))
    assert store.hod_store_commit(accepted, offered.version, [], 3) is Commit.WRITTEN
    (history,) = store.hod_store_agent_offers(npn="7", since=None, limit=None)
    assert history.offer == accepted.offers[0]
    assert store.hod_store_offer_stats(npns=["7"])["7"] == OfferStats(0, START)


def test_a_version_9_file_lists_referrals_in_motion_through_the_due_index(tmp_path):
    """Step 10 leaves the referrals in motion (with a due time) out of the
    by-status index: an offer and its accept write it not at all. Lists read
    both indexes, and every list reads the same after the step as before it."""
    path = tmp_path / "hod.sqlite3"
    store = SqliteStore(path)

    def commit(referral, expected=0):
        assert (
            store.hod_store_commit(
                referral=referral, expected_version=expected, events=[], max_pending=1
            )
            == Commit.WRITTEN
        )

    offered = samples.referral("r-offered", offered_to="1", at=START)
    commit(samples.referral("r-waiting", at=START))
    commit(offered)
    for i, rid in enumerate(("r-accepted", "r-completed")):
        at = START + timedelta(minutes=1 + i)
        offered_now = samples.referral(rid, offered_to=str(2 + i), at=at)
        commit(offered_now)
        accepted = evolve(  # L7: due again at its contact deadline
            samples.answered(offered_now, OfferStatus.ACCEPTED, at),
            contact_deadline=at + timedelta(minutes=30),
        )
        commit(accepted, expected=1)
    completed = evolve(accepted, status=ReferralStatus.COMPLETED, contact_deadline=None, version=3)
    commit(completed, expected=2)
    store._db.executescript(  # the indexes as version 9 had them
        "DROP INDEX referrals_by_status;"
        " CREATE INDEX referrals_by_status ON referrals (status, created_at, id);"
        " DROP TABLE event_refs; DROP TABLE event_refs_upto;"
        " CREATE INDEX events_by_referral ON events (referral_id, seq);"
        " PRAGMA user_version = 9;"
    )
    store.close()

    store = SqliteStore(path)
    (sql,) = store._db.execute(
        "SELECT sql FROM sqlite_master WHERE name = 'referrals_by_status'"
    ).fetchone()
    assert sql.endswith(f"WHERE {listings.SETTLED}")
    indexed = store._db.execute(
        f"SELECT id FROM referrals INDEXED BY referrals_by_status WHERE {listings.SETTLED}"
    ).fetchall()
    assert indexed == [("r-completed",)]
    for status, expected in (
        ("offered", ["r-offered"]),
        ("waiting", ["r-waiting"]),
        ("accepted", ["r-accepted"]),
        ("completed", ["r-completed"]),
        (None, ["r-completed", "r-accepted", "r-waiting", "r-offered"]),  # ties: by id, descending
    ):
        listed = store.hod_store_referrals(status=status, before=None, limit=10)
        assert [r.id for r in listed] == expected, status
