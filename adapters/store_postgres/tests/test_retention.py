"""Personal-data retention (P2) on PostgreSQL: after the sweep erases a
referral's contact data and scrubs, its bytes are in no file of the database
and in no write-ahead log file (the test cluster runs with wal_recycle off,
as the README asks of a production server)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from attrs import evolve

from hod_core import Router
from hod_core.testing import FakeClock, Outbox, samples


def files_holding(folder: Path, needle: bytes) -> list[str]:
    return [str(p) for p in folder.rglob("*") if p.is_file() and needle in p.read_bytes()]


def test_erased_contact_data_is_gone_from_every_file_after_the_scrub(postgres_server, open_store):
    if postgres_server.cluster is None:
        pytest.skip("needs the throwaway cluster's files (HOD_TEST_POSTGRES_URL is set)")
    email = "zq.erase-me.7041@example.com"
    consumer = evolve(samples.CONSUMER, email=email)
    clock = FakeClock(samples.START)
    store = open_store(scrub_every_s="0")
    router = Router([store, clock, Outbox()], delivery_threads=0)
    router.put_agent(samples.agent("1", "77002"))
    referral = router.request_contact(consumer)
    router.accept(referral.id, "1")  # each step rewrites the row: no copy may hold the email
    router.update_status(referral.id, "1", "in_progress")
    router.update_status(referral.id, "1", "completed")
    with postgres_server.connect() as conn:
        conn.execute("CHECKPOINT")  # every page on disk, so the search below can see it
    data = postgres_server.cluster.data
    assert files_holding(data / "base", email.encode()), "the search cannot see the data"

    clock.advance(days=router.policy.contact_retention.days + 1)
    assert router.tick().contact_erased == 1
    assert router.referral(referral.id).consumer is None
    assert files_holding(data / "base", email.encode()) == []
    assert files_holding(data / "pg_wal", email.encode()) == []
    kinds = [e.kind for e in router.events(referral.id)]
    assert kinds[-1] == "referral.contact_erased"
    router.close()


def test_erased_referrals_are_not_listed_again_and_keep_their_statistics(open_store):
    clock = FakeClock(samples.START)
    store = open_store()
    router = Router([store, clock, Outbox()], delivery_threads=0)
    router.put_agent(samples.agent("1", "77002"))
    referral = router.request_contact(samples.CONSUMER)
    router.accept(referral.id, "1")
    router.update_status(referral.id, "1", "completed")
    closed = router.referral(referral.id).closed_at
    before = closed - timedelta(microseconds=1)
    assert store.hod_store_erasable(closed_before=before, limit=10) == []
    assert store.hod_store_erasable(closed_before=closed, limit=10) == [referral.id]
    clock.at = closed + router.policy.contact_retention
    assert router.tick().contact_erased == 1
    assert store.hod_store_erasable(closed_before=clock.at, limit=10) == []
    erased = open_store().hod_store_referral(referral_id=referral.id)  # another process
    assert erased.consumer is None and erased.language == "es" and erased.state == "TX"
    assert erased.status.value == "completed" and erased.offers[0].npn == "1"
