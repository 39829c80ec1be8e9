"""The file itself: its body format, its schema version, its append-only log."""

from __future__ import annotations

import sqlite3
from datetime import timedelta

import orjson
import pytest
from attrs import evolve

from hod_core import unstructure
from hod_core.conformance import samples
from hod_core.errors import ConfigurationError
from hod_core.referrals import Event, NotAGoodReason, OfferStatus, ReferralStatus
from hod_store_sqlite import SCHEMA_VERSION, SqliteStore
from hod_store_sqlite.store import _referral_json


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
