"""L10 at every tick without a match per waiting referral: the sweep matches
waiting referrals again only when something that could change an answer
happened, and never later than the first instant an agent becomes eligible."""

from __future__ import annotations

from datetime import timedelta

import pytest

from hod_core.domain.referrals import ReferralStatus
from hod_core.lifecycle.router import Router
from hod_core.stores.memory.memory_store import MemoryStore
from hod_core.testing.plugin import FakeClock, Outbox

from .conftest import BASE_CONSUMER, MONDAY_10AM_HOUSTON, agent_data


class CountingStore(MemoryStore):
    """A real in-memory store that counts the sweep's asks for waiting referrals."""

    waiting_asked = 0

    def hod_store_waiting(self):
        self.waiting_asked += 1
        return super().hod_store_waiting()


@pytest.fixture
def clock():
    return FakeClock(MONDAY_10AM_HOUSTON.replace(hour=7, minute=59, second=0))


@pytest.fixture
def store():
    return CountingStore()


@pytest.fixture
def router(store, clock):
    return Router([store, clock, Outbox()], delivery_threads=0)


def test_l10_ticks_in_one_quiet_minute_match_waiting_referrals_once(router, store, clock):
    router.put_agent(agent_data(npn="101", zip="77002"))  # default hours: from 08:00
    waiting = router.request_contact(BASE_CONSUMER)
    assert waiting.status is ReferralStatus.WAITING
    router.tick()
    asked = store.waiting_asked
    for _ in range(5):
        clock.advance(seconds=10)
        assert router.tick().offered_from_waiting == 0
    assert store.waiting_asked == asked  # nothing changed: not matched again


def test_l10_offered_at_the_first_whole_minute_hours_open(router, store, clock):
    router.put_agent(agent_data(npn="101", zip="77002"))  # default hours: from 08:00
    waiting = router.request_contact(BASE_CONSUMER)
    clock.advance(seconds=59, microseconds=999_999)
    router.tick()
    assert router.referral(waiting.id).status is ReferralStatus.WAITING
    clock.advance(microseconds=1)  # 08:00:00 in Houston
    assert router.tick().offered_from_waiting == 1
    assert router.referral(waiting.id).pending_offer.npn == "101"


def test_l10_offered_at_the_instant_an_out_of_office_period_ends(router, clock):
    """A1 can end at any second, not only on a whole minute."""
    clock.at = clock.at.replace(hour=9, minute=0)
    back = clock.at + timedelta(seconds=30)
    away = {"from": (clock.at - timedelta(days=1)).isoformat(), "to": back.isoformat()}
    router.put_agent(
        agent_data(npn="101", zip="77002", availability={"weekly": None, "out_of_office": [away]})
    )
    waiting = router.request_contact(BASE_CONSUMER)
    assert waiting.status is ReferralStatus.WAITING
    clock.at = back - timedelta(microseconds=1)
    router.tick()
    assert router.referral(waiting.id).status is ReferralStatus.WAITING
    clock.at = back
    assert router.tick().offered_from_waiting == 1


def test_l10_offered_at_the_next_tick_after_an_offer_ends_in_the_same_minute(router, clock):
    """E12: an agent holding an offer is not eligible; a reject frees them, and
    the waiting referral gets them at the next tick, not at the next minute."""
    clock.at = clock.at.replace(hour=9, minute=0)
    router.put_agent(agent_data(npn="101", zip="77002"))
    first = router.request_contact(BASE_CONSUMER)
    assert first.pending_offer.npn == "101"
    clock.advance(seconds=5)
    waiting = router.request_contact(BASE_CONSUMER)
    assert waiting.status is ReferralStatus.WAITING
    clock.advance(seconds=5)
    router.tick()
    clock.advance(seconds=5)
    router.reject(first.id, "101")
    clock.advance(seconds=5)
    assert router.tick().offered_from_waiting == 1
    assert router.referral(waiting.id).pending_offer.npn == "101"


def test_l10_an_agent_saved_by_another_router_counts_as_a_change(store, clock):
    """Another process's save is seen through the store's agent revision."""
    clock.at = clock.at.replace(hour=9, minute=0)
    here = Router([store, clock, Outbox()], delivery_threads=0)
    waiting = here.request_contact(BASE_CONSUMER)
    here.tick()
    other = Router([store, clock, Outbox()], delivery_threads=0)
    other.roster.save(*_saved(agent_data(npn="101", zip="77002"), clock))
    clock.advance(seconds=1)
    assert here.tick().offered_from_waiting == 1
    assert here.referral(waiting.id).pending_offer.npn == "101"


def _saved(data, clock):
    from hod_core import wire
    from hod_core.domain.models import Agent
    from hod_core.domain.referrals import Event

    agent = wire.structure(data, Agent)
    return agent, Event(clock.at, "agent.saved", npn=agent.npn, actor="host")
