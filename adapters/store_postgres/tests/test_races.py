"""The database decides: one accept of an offer wins across processes, an accept
after expiry loses to the expiry, capacity (E12) holds under concurrent
offers, and sweeps running at once share the due work without doing any twice."""

from __future__ import annotations

import threading
import time
from collections import Counter
from datetime import timedelta

import pytest
from psycopg import sql

from hod_core import Commit, LifecycleError, OfferExpired, OfferStatus, ReferralStatus, Router
from hod_core.testing import FakeClock, Outbox, samples

ROUNDS = 20


def together(calls) -> list:
    """Run each call on its own thread, all released at once; their answers."""
    start, answers = threading.Barrier(len(calls)), [None] * len(calls)

    def run(n, call):
        start.wait()
        answers[n] = call()

    threads = [threading.Thread(target=run, args=(n, c)) for n, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return answers


def accepted_count(router, referral_id) -> int:
    return sum(e.kind == "offer.accepted" for e in router.events(referral_id))


def test_processes_racing_to_accept_one_offer_have_exactly_one_winner(router, spawn, clock):
    workers = [spawn(), spawn(), spawn()]
    for _ in range(ROUNDS):
        referral = router.request_contact(samples.CONSUMER)
        go = time.monotonic() + 0.05
        for worker in workers:
            worker.send("accept", referral.id, referral.pending_offer.npn, clock.at.isoformat(), go)
        outcomes = sorted(worker.readline() for worker in workers)
        assert outcomes == ["lost LifecycleError", "lost LifecycleError", "won"]
        assert router.referral(referral.id).status is ReferralStatus.ACCEPTED
        assert accepted_count(router, referral.id) == 1
        clock.advance(minutes=1)


def test_threads_with_their_own_connections_racing_to_accept_have_one_winner(
    router, open_store, clock
):
    racers = [Router([open_store(pool_min="1"), clock, Outbox()]) for _ in range(6)]
    for _ in range(5):
        referral = router.request_contact(samples.CONSUMER)
        npn = referral.pending_offer.npn

        def accept(racer, rid=referral.id, npn=npn):
            try:
                racer.accept(rid, npn)
                return "won"
            except LifecycleError as exc:
                return exc.rule

        outcomes = together([lambda r=r: accept(r) for r in racers])
        assert sorted(outcomes) == ["L3"] * 5 + ["won"]
        assert accepted_count(router, referral.id) == 1
        clock.advance(minutes=1)


@pytest.mark.parametrize("late_by", [timedelta(0), timedelta(microseconds=1)])
def test_an_accept_at_or_after_expiry_loses_to_the_expiry(router, clock, late_by):
    referral = router.request_contact(samples.CONSUMER)
    npn = referral.pending_offer.npn
    clock.at = referral.pending_offer.expires_at + late_by
    with pytest.raises(OfferExpired) as refused:
        router.accept(referral.id, npn)
    assert refused.value.rule == "L3"
    stored = router.referral(referral.id)
    assert stored.offer_to(npn).status is OfferStatus.MISSED
    assert stored.pending_offer.npn != npn  # already with the next agent


def test_accept_racing_the_sweep_in_another_process_is_all_or_nothing(router, spawn, clock):
    acceptor, sweeper = spawn(), spawn()
    outcomes = Counter()
    for n in range(14):  # 16 minutes a round: all inside the agents' working day
        referral = router.request_contact(samples.CONSUMER)
        offer = referral.pending_offer
        inside = offer.expires_at - timedelta(microseconds=1)  # the acceptor's clock
        go = time.monotonic() + 0.05
        acceptor.send("accept", referral.id, offer.npn, inside.isoformat(), go)
        sweeper.send("tick", offer.expires_at.isoformat(), go + (n % 7 - 4) * 0.001)
        accept_said, sweep_said = acceptor.readline(), sweeper.readline()
        stored = router.referral(referral.id)
        if accept_said == "won":
            assert stored.offer_to(offer.npn).status is OfferStatus.ACCEPTED
            assert stored.status is ReferralStatus.ACCEPTED
        else:
            assert accept_said == "lost OfferExpired" and sweep_said.startswith("expired")
            assert stored.offer_to(offer.npn).status is OfferStatus.MISSED
        outcomes[accept_said] += 1
        clock.at = offer.expires_at + timedelta(minutes=1)
        router.tick()  # settle what the sweeper's clock did not reach
    assert sum(outcomes.values()) == 14


# -- E12: capacity in the database -----------------------------------------------------
@pytest.mark.parametrize("capacity", [1, 3])
def test_concurrent_offers_to_one_agent_stop_at_its_capacity(open_store, pending_rows, capacity):
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


def test_routers_sweeping_at_once_expire_each_offer_exactly_once(open_store, router):
    clocks = [FakeClock(samples.START) for _ in range(3)]
    sweepers = [Router([open_store(), clock, Outbox()]) for clock in clocks]
    made = [router.request_contact(samples.CONSUMER) for _ in range(30)]
    for clock in clocks:
        clock.at = samples.START + timedelta(minutes=15)
    reports = together([s.tick for s in sweepers])
    assert sum(r.expired for r in reports) == 30
    for referral in made:
        kinds = Counter(e.kind for e in router.events(referral.id))
        assert kinds["offer.missed"] == 1 and kinds["offer.made"] == 2
