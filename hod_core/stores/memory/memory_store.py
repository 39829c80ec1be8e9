"""An in-memory store: for tests, examples and hosts that keep state elsewhere.

It implements every store hook (see `hookspecs`) over plain dicts under one
lock, so threads sharing it see the same atomic commits a database gives.
It forgets everything when the process ends.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from datetime import datetime

from hod_core.domain.models import Agent
from hod_core.domain.referrals import (
    AgentOffer,
    Event,
    OfferStats,
    OfferStatus,
    Referral,
    ReferralStatus,
    evolve,  # compiled per class: five events stamped a referral
)
from hod_core.errors import ConfigurationError
from hod_core.extend.hookspecs import Commit, hookimpl
from hod_core.extend.settings import IGNORED
from hod_core.stores.memory.memory_accounts import MemoryAccounts
from hod_core.stores.memory.memory_listings import MemoryListings


class MemoryStore(MemoryAccounts, MemoryListings):  # the server's: memory_accounts/listings.py
    """Every store hook, in this process's memory."""

    durable = False  # a second instance starts empty (`hookspecs.StoreAdapter`)

    def __init__(self):
        self._lock = threading.Lock()
        self._agents: dict[str, tuple[int, Agent]] = {}
        self._revision = 0
        self._referrals: dict[str, Referral] = {}
        # The sweep's work lists: only live referrals, not a season's history.
        self._due: dict[str, datetime] = {}  # id -> due_at, for those with one
        self._waiting: dict[str, datetime] = {}  # id -> created_at, status Waiting
        self._closed: dict[str, datetime] = {}  # id -> closed_at, final with contact data (P2)
        self._pending: dict[str, int] = {}  # npn -> Pending offers held
        self._last_offered: dict[str, datetime] = {}
        # npn -> referral id -> that agent's offer of it, in the order offered
        self._offers_of: dict[str, dict[str, AgentOffer]] = {}
        self._events: list[Event] = []
        self._delivered: set[tuple[str, str]] = set()  # (referral id, npn): notify.sent (L9)

    @classmethod
    def from_settings(cls, settings: Mapping[str, str]) -> MemoryStore:
        """The entry point's factory (`store_memory`): there is nothing to set."""
        unknown = sorted(set(settings) - IGNORED)
        if unknown:
            raise ConfigurationError(f"store_memory: unknown setting(s) {', '.join(unknown)}")
        return cls()

    def close(self) -> None:
        """Nothing to release: no file, connection or thread (`hookspecs.StoreAdapter`)."""

    # -- agents -------------------------------------------------------------
    @hookimpl
    def hod_store_put_agent(self, agent: Agent, events: Sequence[Event]) -> int:
        with self._lock:
            self._revision += 1
            self._agents[agent.npn] = (self._revision, agent)
            self._append(events)
            return self._revision

    @hookimpl
    def hod_store_put_agents(self, agents: Sequence[Agent], events: Sequence[Event]) -> int:
        with self._lock:
            if not agents:
                return 0
            for agent in agents:
                self._revision += 1
                self._agents[agent.npn] = (self._revision, agent)
            self._append(events)
            return self._revision

    @hookimpl
    def hod_store_agents(self, after: int) -> list[tuple[int, Agent]]:
        with self._lock:
            if after >= self._revision:  # the usual answer: nothing new
                return []
            return sorted(((r, a) for r, a in self._agents.values() if r > after), key=_first)

    # -- referrals ----------------------------------------------------------
    @hookimpl
    def hod_store_commit(
        self, referral: Referral, expected_version: int, events: Sequence[Event], max_pending: int
    ) -> Commit:
        with self._lock:
            old = self._referrals.get(referral.id)
            if (old.version if old else 0) != expected_version:
                return Commit.STALE
            old_offers = {o.npn: o for o in old.offers} if old else {}
            newly_pending = [
                o.npn
                for o in referral.offers
                if o.status is OfferStatus.PENDING
                and getattr(old_offers.get(o.npn), "status", None) is not OfferStatus.PENDING
            ]
            if any(self._pending.get(npn, 0) >= max_pending for npn in newly_pending):
                return Commit.AT_CAPACITY
            self._referrals[referral.id] = referral
            _track(self._due, referral.id, referral.due_at)
            waiting = referral.status is ReferralStatus.WAITING
            _track(self._waiting, referral.id, referral.created_at if waiting else None)
            holds_contact = referral.final and referral.consumer is not None
            closed = (referral.closed_at or referral.created_at) if holds_contact else None
            _track(self._closed, referral.id, closed)
            for offer in referral.offers:
                self._index_offer(referral.id, offer, old_offers.get(offer.npn))
            self._append(events)
            return Commit.WRITTEN

    def _index_offer(self, referral_id: str, offer, old) -> None:
        if old == offer:
            return
        was_pending = old is not None and old.status is OfferStatus.PENDING
        is_pending = offer.status is OfferStatus.PENDING
        self._pending[offer.npn] = self._pending.get(offer.npn, 0) + is_pending - was_pending
        self._offers_of.setdefault(offer.npn, {})[referral_id] = AgentOffer(referral_id, offer)
        if old is None:
            last = self._last_offered.get(offer.npn)
            if last is None or offer.offered_at > last:
                self._last_offered[offer.npn] = offer.offered_at

    @hookimpl
    def hod_store_referral(self, referral_id: str) -> Referral | None:
        with self._lock:
            return self._referrals.get(referral_id)

    @hookimpl
    def hod_store_due(self, now: datetime, limit: int) -> list[str]:
        return self._earliest(self._due, now, limit)

    @hookimpl
    def hod_store_waiting(self) -> list[str]:
        return self._earliest(self._waiting, None, None)

    @hookimpl
    def hod_store_erasable(self, closed_before: datetime, limit: int) -> list[str]:
        return self._earliest(self._closed, closed_before, limit)

    def _earliest(self, work: dict[str, datetime], until: datetime | None, limit: int | None):
        """Ids of a work list at or before `until` (all when None), earliest first."""
        with self._lock:
            listed = sorted((at, rid) for rid, at in work.items() if until is None or at <= until)
        return [rid for _, rid in listed[:limit]]

    @hookimpl
    def hod_store_scrub(self) -> None:
        """Nothing to do: a replaced record is only garbage in this process."""

    @hookimpl
    def hod_store_offer_stats(self, npns: Sequence[str]) -> dict[str, OfferStats]:
        return {
            npn: OfferStats(self._pending.get(npn, 0), self._last_offered.get(npn)) for npn in npns
        }

    @hookimpl
    def hod_store_agent_offers(
        self, npn: str, since: datetime | None, limit: int | None
    ) -> list[AgentOffer]:
        with self._lock:
            history = list(self._offers_of.get(npn, {}).values())
        history.sort(key=lambda h: h.offer.offered_at, reverse=True)
        history = [h for h in history if since is None or h.offer.offered_at >= since][:limit]
        delivered = self._delivered
        return [evolve(h, delivered=(h.referral_id, npn) in delivered) for h in history]

    # -- events -------------------------------------------------------------
    @hookimpl
    def hod_store_append_events(self, events: Sequence[Event]) -> None:
        with self._lock:
            self._append(events)

    def _append(self, events: Sequence[Event]) -> None:
        start = len(self._events)
        self._events.extend(evolve(e, seq=start + i + 1) for i, e in enumerate(events))
        self._delivered.update(
            (e.referral_id, e.npn) for e in events if e.kind == "notify.sent" and e.referral_id
        )

    @hookimpl
    def hod_store_events(self, referral_id: str | None, after: int, limit: int) -> list[Event]:
        with self._lock:
            events = self._events[after:]  # seq n sits at index n - 1
        if referral_id is not None:
            events = [e for e in events if e.referral_id == referral_id]
        return events[:limit]


def _first(pair):
    return pair[0]


def _track(work: dict[str, datetime], referral_id: str, at: datetime | None) -> None:
    if at is None:
        work.pop(referral_id, None)
    else:
        work[referral_id] = at
