"""What the database adds to the store contract (the races every store passes
are in the conformance suite, hod_core/testing/conformance/test_races.py): the
agent_load counter stays equal to the Pending offers under concurrent offers
(E12), and sweeps running at once claim different due referrals, claims that
lapse or a commit releases."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest
from psycopg import sql

from hod_core import Commit, OfferStatus
from hod_core.testing import samples, together


# -- E12: the load counter -----------------------------------------------------
@pytest.mark.parametrize("capacity", [1, 3])
def test_e12_the_load_counter_equals_the_pending_offers_under_concurrent_offers(
    open_store, pending_rows, capacity
):
    stores = [open_store(pool_min="1") for _ in range(8)]
    answers = together(
        [
            lambda s=s, n=n: s.hod_store_commit(
                referral=samples.referral(f"r{n}", offered_to="7"),
                expected_version=0,
                events=[],
                max_pending=capacity,
            )
            for n, s in enumerate(stores)
        ]
    )
    assert Counter(answers) == {Commit.WRITTEN: capacity, Commit.AT_CAPACITY: 8 - capacity}
    assert pending_rows() == {"7": (capacity, capacity)}
    written = [f"r{n}" for n, a in enumerate(answers) if a is Commit.WRITTEN]
    first = stores[0].hod_store_referral(referral_id=written[0])
    missed = samples.answered(first, OfferStatus.MISSED, samples.START + timedelta(minutes=15))
    assert (
        stores[0].hod_store_commit(
            referral=missed, expected_version=1, events=[], max_pending=capacity
        )
        is Commit.WRITTEN
    )
    assert pending_rows()["7"] == (capacity - 1, capacity - 1)


# -- the sweep: claims ------------------------------------------------------------
def commit_due(store, count: int) -> list[str]:
    ids = [f"r{n:02}" for n in range(count)]
    for n, rid in enumerate(ids):
        at = samples.START + timedelta(seconds=n)
        assert (
            store.hod_store_commit(
                referral=samples.referral(rid, offered_to=str(n), at=at),
                expected_version=0,
                events=[],
                max_pending=1,
            )
            is Commit.WRITTEN
        )
    return ids


def test_sweeps_at_once_claim_different_referrals_and_a_claim_lapses(
    open_store, postgres_server, postgres_settings
):
    one, other = open_store(), open_store()
    ids = commit_due(one, 40)
    later = samples.START + timedelta(hours=1)
    first, second = together(
        [
            lambda: one.hod_store_due(now=later, limit=25),
            lambda: other.hod_store_due(now=later, limit=25),
        ]
    )
    assert not set(first) & set(second)
    assert sorted(first + second) == ids  # 25 and 15, in some split: all claimed once
    assert one.hod_store_due(now=later, limit=50) == first  # its own, earliest first
    assert other.hod_store_due(now=later, limit=50) == second
    # A process that died holding claims: they lapse (here: moved into the past).
    with postgres_server.connect() as conn:
        table = sql.Identifier(postgres_settings["schema"], "referrals")
        conn.execute(
            sql.SQL("UPDATE {} SET claimed_until = now() - interval '1 second'").format(table)
        )
    assert other.hod_store_due(now=later, limit=50) == ids


def test_a_commit_releases_the_claim(open_store):
    one, other = open_store(), open_store()
    [rid] = commit_due(one, 1)
    later = samples.START + timedelta(hours=1)
    assert one.hod_store_due(now=later, limit=10) == [rid]
    assert other.hod_store_due(now=later, limit=10) == []
    stored = one.hod_store_referral(referral_id=rid)
    moved = samples.answered(stored, OfferStatus.MISSED, stored.offers[0].expires_at)
    assert (
        one.hod_store_commit(referral=moved, expected_version=1, events=[], max_pending=1)
        is Commit.WRITTEN
    )  # Waiting now: due again at its wait_until, and nobody's claim
    assert other.hod_store_due(now=later, limit=10) == [rid]
