"""Accept is atomic on one SQLite file: between threads, between processes,
and against the expiry sweep. Many rounds, exactly one winner every time."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest

from hod_core import LifecycleError, OfferExpired, OfferStatus, ReferralStatus, Router
from hod_core.testing import Outbox, samples
from hod_store_sqlite import SqliteStore

ROUNDS = 30


def accepted_count(router, referral_id) -> int:
    events = router.events(referral_id)
    return sum(e.kind == "offer.accepted" for e in events)


def race_to_accept(racers, referral_id: str, npn: str) -> list[str]:
    """Every racer accepts at once, each on its own thread; what each got."""
    start, outcomes = threading.Barrier(len(racers)), []

    def race(racer):
        start.wait()
        try:
            racer.accept(referral_id, npn)
            outcomes.append("won")
        except LifecycleError as exc:
            outcomes.append(exc.rule)

    threads = [threading.Thread(target=race, args=(r,)) for r in racers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return outcomes


def test_threads_racing_to_accept_one_offer_have_exactly_one_winner(router, db_path, clock):
    racers = [Router([SqliteStore(db_path), clock, Outbox()]) for _ in range(6)]
    for _ in range(ROUNDS):
        referral = router.request_contact(samples.CONSUMER)
        outcomes = race_to_accept(racers, referral.id, referral.pending_offer.npn)
        assert sorted(outcomes) == ["L3"] * (len(racers) - 1) + ["won"]
        assert accepted_count(router, referral.id) == 1
        clock.advance(minutes=1)


def test_processes_racing_to_accept_one_offer_have_exactly_one_winner(router, spawn, clock):
    workers = [spawn(), spawn()]
    for _ in range(ROUNDS):
        referral = router.request_contact(samples.CONSUMER)
        go = time.monotonic() + 0.05
        for worker in workers:
            worker.send("accept", referral.id, referral.pending_offer.npn, clock.at.isoformat(), go)
        outcomes = sorted(worker.readline() for worker in workers)
        assert outcomes == ["lost LifecycleError", "won"]
        assert router.referral(referral.id).status is ReferralStatus.ACCEPTED
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
    for n in range(20):  # 16 minutes a round: all inside the agents' working day
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
        clock.at = offer.expires_at + timedelta(minutes=1)
        router.tick()  # settle what the sweeper's clock did not reach
