"""`Router.put_agents`: many agents in one store transaction, all or none,
with the router's matcher in step with the store whatever happens."""

from __future__ import annotations

import pytest

from hod_core import wire
from hod_core.domain.models import Agent
from hod_core.domain.referrals import ReferralStatus
from hod_core.errors import InputError
from hod_core.lifecycle.router import Router
from hod_core.stores.memory.memory_store import MemoryStore
from hod_core.testing.plugin import FakeClock, Outbox

from .conftest import BASE_CONSUMER, MONDAY_10AM_HOUSTON, agent_data

NEAR, MID = "101", "102"


class FailingBulk(MemoryStore):
    """A store whose bulk save raises `fault` without writing anything."""

    fault: BaseException = OSError(30, "Read-only file system")

    def hod_store_put_agents(self, agents, events):
        raise self.fault


def a_router(store) -> Router:
    return Router([store, FakeClock(MONDAY_10AM_HOUSTON), Outbox()], delivery_threads=0)


def test_put_agents_saves_all_in_one_call_with_an_event_each_and_the_matcher_knows_them():
    store = MemoryStore()
    router = a_router(store)
    saved = router.put_agents(
        [agent_data(npn=NEAR, zip="77002"), agent_data(npn=MID, zip="77030")], actor="operator:x"
    )
    assert [a.npn for a in saved] == [NEAR, MID]
    assert [a.npn for _, a in store.hod_store_agents(after=0)] == [NEAR, MID]
    assert [(e.kind, e.npn, e.actor) for e in router.events()] == [
        ("agent.saved", NEAR, "operator:x"),
        ("agent.saved", MID, "operator:x"),
    ]
    assert router.request_contact(BASE_CONSUMER).pending_offer.npn == NEAR
    assert a_router(store).agent_count() == 2  # another process loads them too


def test_one_bad_agent_stores_none_and_names_the_field():
    store = MemoryStore()
    router = a_router(store)
    with pytest.raises(InputError, match="phone"):
        router.put_agents([agent_data(npn=NEAR, zip="77002"), agent_data(npn=MID, phone="555")])
    unplaced = wire.structure(agent_data(npn=MID, zip="00000"), Agent)  # no such ZIP
    with pytest.raises(InputError, match="00000"):
        router.put_agents([agent_data(npn=NEAR, zip="77002"), unplaced])
    assert list(store.hod_store_agents(after=0)) == [] and router.agent_count() == 0


def test_a_failed_bulk_save_puts_the_matcher_back_as_it_was():
    store = FailingBulk()
    before = wire.structure(agent_data(npn=NEAR, zip="77002"), Agent)
    MemoryStore.hod_store_put_agent(store, agent=before, events=[])
    router = a_router(store)
    with pytest.raises(OSError):
        router.put_agents([agent_data(npn=NEAR, zip="77030", suspended=True), agent_data(npn=MID)])
    assert router.loaded_agent(NEAR) == before and not router.knows_agent(MID)
    assert router.request_contact(BASE_CONSUMER).pending_offer.npn == NEAR


def test_an_interrupted_bulk_save_reloads_the_matcher_from_the_store():
    """An interruption (a signal's exception) may stop the matcher midway: the
    router forgets every agent and loads what the store holds at the next sync."""
    store = FailingBulk()
    store.fault = KeyboardInterrupt()
    MemoryStore.hod_store_put_agent(
        store, agent=wire.structure(agent_data(npn=NEAR, zip="77002"), Agent), events=[]
    )
    router = a_router(store)
    with pytest.raises(KeyboardInterrupt):
        router.put_agents([agent_data(npn=MID, zip="77002")])
    referral = router.request_contact(BASE_CONSUMER)  # syncs first
    assert referral.status is ReferralStatus.OFFERED and referral.pending_offer.npn == NEAR
    assert not router.knows_agent(MID)
