"""The store decides races: one accept of an offer wins, between threads and
between processes; an accept at or after expiry loses to the expiry, and to
a sweep in another process it is all or nothing; capacity (E12) holds under
concurrent offers; routers sweeping at once expire each offer exactly once.

Racers use instances of their own when the store is durable (as processes
and separate connections would), the one instance when it is not. Tests of
several processes skip a store that is not durable: its processes share nothing.
"""

from __future__ import annotations

import time
from collections import Counter
from datetime import timedelta

import pytest

from hod_core.domain.referrals import OfferStatus, ReferralStatus
from hod_core.errors import LifecycleError, OfferExpired
from hod_core.extend.hookspecs import Commit
from hod_core.lifecycle.router import Router
from hod_core.testing import samples
from hod_core.testing.conformance.worker import Worker
from hod_core.testing.doubles import FakeClock, Outbox
from hod_core.testing.racing import together

ROUNDS = 20
HOUSTON_ZIPS = ["77002", "77030", "77005", "77004", "77006", "77007", "77008", "77009"]
ONE_INSTANCE = "the store keeps nothing beyond its own instance: its processes share nothing"


@pytest.fixture
def store(hod_adapter):
    if not callable(getattr(hod_adapter, "hod_store_commit", None)):
        pytest.skip("not a store adapter")
    return hod_adapter


@pytest.fixture
def instance(store, hod_make_adapter):
    """Another instance of the store (the same one when it is not durable);
    each closed after the test."""
    opened = []

    def open_():
        if not store.durable:
            return store
        opened.append(hod_make_adapter())
        return opened[-1]

    yield open_
    for other in opened:
        other.close()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(samples.START)


@pytest.fixture
def router(store, clock) -> Router:
    """The test's router, with 40 agents saved: 5 per ZIP."""
    router = Router([store, clock, Outbox()], delivery_threads=0)
    for n in range(40):
        router.put_agent(samples.agent(str(1000 + n), HOUSTON_ZIPS[n % len(HOUSTON_ZIPS)]))
    return router


@pytest.fixture
def spawn(store, hod_adapter_name, hod_adapter_settings):
    """Start a worker process with a router on the same store (durable stores only)."""
    if not store.durable:
        pytest.skip(ONE_INSTANCE)
    workers = []

    def start() -> Worker:
        workers.append(Worker(hod_adapter_name, hod_adapter_settings))
        return workers[-1]

    yield start
    for worker in workers:
        worker.stop()


def accepted_count(router, referral_id) -> int:
    return sum(e.kind == "offer.accepted" for e in router.events(referral_id))


def accept(racer: Router, referral_id: str, npn: str) -> str:
    try:
        racer.accept(referral_id, npn)
        return "won"
    except LifecycleError as exc:
        return exc.rule


# -- L3: one accept wins ---------------------------------------------------------
def test_l3_threads_racing_to_accept_one_offer_have_exactly_one_winner(router, instance, clock):
    racers = [Router([instance(), clock, Outbox()], delivery_threads=0) for _ in range(6)]
    for _ in range(ROUNDS):
        referral = router.request_contact(samples.CONSUMER)
        npn = referral.pending_offer.npn
        outcomes = together([lambda r=r, rid=referral.id, n=npn: accept(r, rid, n) for r in racers])
        assert sorted(outcomes) == ["L3"] * (len(racers) - 1) + ["won"]
        assert accepted_count(router, referral.id) == 1
        clock.advance(minutes=1)


def test_l3_processes_racing_to_accept_one_offer_have_exactly_one_winner(router, spawn, clock):
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


# -- L3: expiry against accept ----------------------------------------------------------
@pytest.mark.parametrize("late_by", [timedelta(0), timedelta(microseconds=1)])
def test_l3_an_accept_at_or_after_expiry_loses_to_the_expiry(router, clock, late_by):
    referral = router.request_contact(samples.CONSUMER)
    npn = referral.pending_offer.npn
    clock.at = referral.pending_offer.expires_at + late_by
    with pytest.raises(OfferExpired) as refused:
        router.accept(referral.id, npn)
    assert refused.value.rule == "L3"
    stored = router.referral(referral.id)
    assert stored.offer_to(npn).status is OfferStatus.MISSED
    assert stored.pending_offer.npn != npn  # already with the next agent


def test_l3_accept_racing_the_sweep_in_another_process_is_all_or_nothing(router, spawn, clock):
    acceptor, sweeper = spawn(), spawn()
    outcomes = Counter()
    for n in range(14):  # 16 minutes a round: all inside the agents' working day
        referral = router.request_contact(samples.CONSUMER)
        offer = referral.pending_offer
        # The acceptor's clock reads just inside the window, the sweeper's just past it.
        inside = offer.expires_at - timedelta(microseconds=1)
        go = time.monotonic() + 0.05
        acceptor.send("accept", referral.id, offer.npn, inside.isoformat(), go)
        # The sweep starts from 4 ms before the accept to 2 ms after: each wins some rounds.
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


# -- E12: capacity under concurrent offers ------------------------------------------------
@pytest.mark.parametrize("capacity", [1, 3])
def test_e12_concurrent_offers_to_one_agent_stop_at_its_capacity(store, instance, capacity):
    stores = [instance() for _ in range(8)]
    answers = together(
        [
            lambda s=s, n=n: Commit(
                s.hod_store_commit(
                    referral=samples.referral(f"r{n}", offered_to="7"),
                    expected_version=0,
                    events=[],
                    max_pending=capacity,
                )
            )
            for n, s in enumerate(stores)
        ]
    )
    assert Counter(answers) == {Commit.WRITTEN: capacity, Commit.AT_CAPACITY: 8 - capacity}
    assert store.hod_store_offer_stats(npns=["7"])["7"].pending == capacity
    written = [f"r{n}" for n, a in enumerate(answers) if a is Commit.WRITTEN]
    first = store.hod_store_referral(referral_id=written[0])
    missed = samples.answered(first, OfferStatus.MISSED, samples.START + timedelta(minutes=15))
    answer = store.hod_store_commit(
        referral=missed, expected_version=1, events=[], max_pending=capacity
    )
    assert Commit(answer) is Commit.WRITTEN
    assert store.hod_store_offer_stats(npns=["7"])["7"].pending == capacity - 1


# -- the sweep --------------------------------------------------------------------------
def test_routers_sweeping_at_once_expire_each_offer_exactly_once(router, instance):
    clocks = [FakeClock(samples.START) for _ in range(3)]
    sweepers = [Router([instance(), clock, Outbox()], delivery_threads=0) for clock in clocks]
    made = [router.request_contact(samples.CONSUMER) for _ in range(30)]
    for clock in clocks:
        clock.at = samples.START + timedelta(minutes=15)
    reports = together([s.tick for s in sweepers])
    assert sum(r.expired for r in reports) == 30
    for referral in made:
        kinds = Counter(e.kind for e in router.events(referral.id))
        assert kinds["offer.missed"] == 1 and kinds["offer.made"] == 2
