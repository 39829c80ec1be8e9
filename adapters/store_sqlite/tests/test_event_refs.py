"""The event log by referral, indexed in batches (event_refs.py): reads are
the same whether an event is indexed or still past the mark."""

from __future__ import annotations

import pytest

from hod_core import Commit, Event, OfferStatus
from hod_core.testing import samples
from hod_store_sqlite import SqliteStore, event_refs

START = samples.START


@pytest.fixture
def store(tmp_path, monkeypatch):
    monkeypatch.setattr(event_refs, "BATCH", 4)
    monkeypatch.setattr(event_refs, "CHECK_EVERY", 2)
    return SqliteStore(tmp_path / "hod.sqlite3")


def _mark(store) -> int:
    return store._db.execute("SELECT seq FROM event_refs_upto").fetchone()[0]


def test_a_referrals_events_read_the_same_on_both_sides_of_the_mark(store):
    appended = []
    for i in range(23):  # one to three events an append, two referrals and none
        batch = [
            Event(START, "notify.sent", ("r1", "r2", None)[(i + k) % 3], npn="7", detail={"i": i})
            for k in range(1 + i % 3)
        ]
        store.hod_store_append_events(events=batch)
        appended += batch
        (last,) = store._db.execute("SELECT max(seq) FROM events").fetchone()
        assert last - _mark(store) < event_refs.BATCH + event_refs.CHECK_EVERY  # short
    assert 0 < _mark(store) < len(appended)  # some indexed, some past the mark
    for rid in ("r1", "r2"):
        every = [(e.detail["i"], e.referral_id) for e in appended if e.referral_id == rid]
        for after in (0, 7, _mark(store) - 1, _mark(store), len(appended)):
            for limit in (1, 3, 1000):
                read = store.hod_store_events(referral_id=rid, after=after, limit=limit)
                seqs = [e.seq for e in read]
                assert seqs == sorted(seqs) and all(s > after for s in seqs)
                assert all(e.referral_id == rid for e in read)
                everything = store.hod_store_events(referral_id=None, after=after, limit=1000)
                assert read == [e for e in everything if e.referral_id == rid][:limit]
        assert len(store.hod_store_events(referral_id=rid, after=0, limit=1000)) == len(every)


def test_a_notice_counts_as_delivered_indexed_or_past_the_mark(store):
    for rid in ("r-early", "r-late"):
        referral = samples.referral(rid, offered_to="7", at=START)
        assert (
            store.hod_store_commit(referral=referral, expected_version=0, events=[], max_pending=5)
            == Commit.WRITTEN
        )
        missed = samples.answered(referral, OfferStatus.MISSED, START)
        assert (
            store.hod_store_commit(referral=missed, expected_version=1, events=[], max_pending=5)
            == Commit.WRITTEN
        )
    sent = [Event(START, "notify.sent", "r-early", npn="7")]
    store.hod_store_append_events(events=sent + [Event(START, "agent.saved", npn="8")] * 4)
    assert _mark(store) > 0  # r-early's notice is indexed
    store.hod_store_append_events(events=[Event(START, "notify.sent", "r-late", npn="7")])
    assert _mark(store) < store._db.execute("SELECT max(seq) FROM events").fetchone()[0]
    delivered = {
        h.referral_id: h.delivered
        for h in store.hod_store_agent_offers(npn="7", since=None, limit=None)
    }
    assert delivered == {"r-early": True, "r-late": True}
    store.hod_store_append_events(events=[Event(START, "notify.sent", "r-late", npn="8")])
    other = store.hod_store_agent_offers(npn="8", since=None, limit=None)
    assert other == []  # agent 8 was never offered these


def test_a_version_10_file_gets_its_log_indexed_by_referral(tmp_path):
    path = tmp_path / "hod.sqlite3"
    store = SqliteStore(path)
    store.hod_store_append_events(
        events=[Event(START, "offer.made", rid, npn="7") for rid in ("a", "b", "a", None)]
    )
    before = store.hod_store_events(referral_id="a", after=0, limit=10)
    store._db.executescript(  # the log as version 10 had it: an index by referral
        "DROP TABLE event_refs; DROP TABLE event_refs_upto;"
        " CREATE INDEX events_by_referral ON events (referral_id, seq);"
        " PRAGMA user_version = 10;"
    )
    store.close()
    store = SqliteStore(path)
    names = {n for (n,) in store._db.execute("SELECT name FROM sqlite_master")}
    assert "events_by_referral" not in names and {"event_refs", "event_refs_upto"} <= names
    assert _mark(store) == 4
    assert store._db.execute("SELECT count(*) FROM event_refs").fetchone()[0] == 3
    assert store.hod_store_events(referral_id="a", after=0, limit=10) == before
    assert [e.seq for e in before] == [1, 3]


def test_a_store_opening_indexes_what_others_left_past_the_mark(tmp_path, monkeypatch):
    monkeypatch.setattr(event_refs, "BATCH", 4)
    monkeypatch.setattr(event_refs, "CHECK_EVERY", 1000)  # these appends never look
    path = tmp_path / "hod.sqlite3"
    store = SqliteStore(path)
    for i in range(10):
        store.hod_store_append_events(events=[Event(START, "offer.made", "r1", detail={"i": i})])
    assert _mark(store) == 0
    store.close()
    store = SqliteStore(path)
    assert _mark(store) == 10
    assert store._db.execute("SELECT count(*) FROM event_refs").fetchone()[0] == 10
    read = store.hod_store_events(referral_id="r1", after=0, limit=100)
    assert [e.detail["i"] for e in read] == list(range(10))
