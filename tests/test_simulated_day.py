"""A whole working day on a fake clock: consumers arriving all day, agents
accepting, rejecting and ignoring offers, then the books checked.

Minute by minute from 08:00 to 18:00 in Houston: a request arrives about
every other minute; each offered agent decides at once whether to accept,
reject or ignore it, and answers a random number of minutes later; accepted
referrals are moved on (or left alone, for L7). Every minute the sweep runs.
"""

from __future__ import annotations

import random
from collections import Counter
from datetime import timedelta

import pytest

from hod_core.domain.channels import channel as registered_channel
from hod_core.domain.referrals import OfferStatus, ReferralStatus
from hod_core.lifecycle.router import Router
from hod_core.stores.memory.memory_store import MemoryStore
from hod_core.testing.plugin import FakeClock, Outbox

from .conftest import BASE_CONSUMER, MONDAY_10AM_HOUSTON, agent_data

HOUSTON_ZIPS = ["77002", "77030", "77005", "77004", "77006", "77007", "77008", "77009"]
WINDOW = timedelta(minutes=15)


def run_day(seed: int, notifier: object) -> tuple[Router, list[str], dict]:
    """The day, driven by `seed`; the router, the referral ids in order, and
    the accepted referrals' planned follow-ups."""
    rng = random.Random(seed)
    clock = FakeClock(MONDAY_10AM_HOUSTON.replace(hour=8))
    store = MemoryStore()
    router = Router([store, clock, notifier], delivery_threads=0)
    npns = [str(500 + n) for n in range(24)]
    for n, npn in enumerate(npns):
        router.put_agent(agent_data(npn=npn, zip=HOUSTON_ZIPS[n % len(HOUSTON_ZIPS)]))

    plans: dict[tuple[str, str], tuple[str, object]] = {}  # (referral, npn) -> (action, when)
    follow_up: dict[str, tuple[str, object]] = {}  # accepted referral -> (status, when)
    referral_ids = []
    end = clock.at.replace(hour=18)
    while clock.at < end:
        if rng.random() < 0.5:
            referral_ids.append(router.request_contact(BASE_CONSUMER).id)
        for rid in referral_ids:
            referral = router.referral(rid)
            offer = referral.pending_offer
            if offer is not None:
                action, when = plans.setdefault(
                    (rid, offer.npn),
                    (
                        rng.choices(["accept", "reject", "ignore"], [5, 2, 3])[0],
                        offer.offered_at + timedelta(minutes=rng.randrange(15)),
                    ),
                )
                if action != "ignore" and clock.at >= when:
                    getattr(router, action)(rid, offer.npn)
                    if action == "accept":
                        status = rng.choice(
                            ["in_progress", "completed", "not_a_good_referral", None]
                        )
                        follow_up[rid] = (
                            status,
                            clock.at + timedelta(minutes=rng.randrange(5, 45)),
                        )
            elif rid in follow_up:
                status, when = follow_up[rid]
                if status and clock.at >= when and referral.status is ReferralStatus.ACCEPTED:
                    router.update_status(rid, referral.agent_npn, status)
        for npn in npns:
            assert store.hod_store_offer_stats(npns=[npn])[npn].pending <= 1  # E12, all day
        clock.advance(minutes=1)
        router.tick()
    clock.advance(hours=2)
    router.tick()
    return router, referral_ids, follow_up


@pytest.mark.parametrize("seed", [7, 8])
def test_a_full_day(seed):
    router, referral_ids, follow_up = run_day(seed, Outbox())
    referrals = [router.referral(rid) for rid in referral_ids]
    events = router.events(limit=1_000_000)
    kinds = Counter(e.kind for e in events)
    offers = [o for r in referrals for o in r.offers]
    by_status = Counter(r.status for r in referrals)
    assert len(referrals) > 200
    assert by_status[ReferralStatus.OFFERED] == by_status[ReferralStatus.WAITING] == 0
    assert by_status[ReferralStatus.ACCEPTED] + by_status[ReferralStatus.COMPLETED] > 100

    for r in referrals:
        assert len({o.npn for o in r.offers}) == len(r.offers)  # E11
        for before, after in zip(r.offers, r.offers[1:], strict=False):
            assert after.offered_at == before.answered_at  # re-offered the moment it was free
        for o in r.offers:
            assert o.expires_at - o.offered_at == WINDOW
            if o.status is OfferStatus.MISSED:
                assert o.answered_at == o.expires_at  # exactly 15 minutes, not a tick later
            elif o.status is not OfferStatus.PENDING:
                assert o.answered_at < o.expires_at
        if r.status is ReferralStatus.UNMATCHED:
            assert kinds["referral.unmatched"] > 0

    assert kinds["referral.created"] == len(referrals)
    assert kinds["offer.made"] == len(offers)
    for outcome in ("accepted", "rejected", "missed"):
        assert kinds[f"offer.{outcome}"] == sum(o.status.value == outcome for o in offers)
    # L7: not moved on within 30 minutes of accepting (the sweep runs before agents act).
    late = sum(
        1
        for rid, (status, when) in follow_up.items()
        if status is None or when - router.referral(rid).accepted_at >= timedelta(minutes=30)
    )
    assert kinds["referral.contact_overdue"] == late
    assert [e.seq for e in events] == list(range(1, len(events) + 1))


class Down(Outbox):
    """A notifier whose one channel is out all day: the gateway refuses connections."""

    def __init__(self, channel: str):
        super().__init__()
        setattr(self, registered_channel(channel).hook, self.refuse)

    def refuse(self, notice):
        raise ConnectionRefusedError


def offer_timings(router: Router, referral_ids: list[str]) -> list[list[tuple]]:
    return [
        [(o.npn, o.status, o.offered_at, o.expires_at, o.answered_at) for o in r.offers]
        for r in map(router.referral, referral_ids)
    ]


@pytest.mark.parametrize("channel", ["email", "text", "app"])
def test_an_outage_of_one_channel_all_day_loses_no_referral_and_moves_no_timing(channel):
    healthy, healthy_ids, _ = run_day(7, Outbox())
    broken, broken_ids, _ = run_day(7, Down(channel))
    # Every referral went exactly the same way: same agents, same instants.
    assert offer_timings(broken, broken_ids) == offer_timings(healthy, healthy_ids)
    assert [broken.referral(r).status for r in broken_ids] == [
        healthy.referral(r).status for r in healthy_ids
    ]
    records = [e for e in broken.events(limit=1_000_000) if e.kind.startswith("notify.")]
    down = Counter(e.kind for e in records if e.detail["channel"] == channel)
    offers = sum(len(broken.referral(r).offers) for r in broken_ids)
    assert down["notify.sent"] == 0 and down["notify.failed"] > offers  # retried
    first_tries = [
        e for e in records if e.detail["channel"] == channel and e.detail["attempt"] == 1
    ]
    assert len(first_tries) == offers  # every offer's notice was tried on the dead channel
    others = Counter(e.kind for e in records if e.detail["channel"] != channel)
    assert others["notify.failed"] == 0 and others["notify.sent"] >= offers
