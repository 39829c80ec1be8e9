"""The router's agents: its matcher, kept in step with the agents in the store.

Agents are saved in the store and loaded into each router's matcher; a
router picks up what other processes saved at its next request or sweep
(`sync`). The matcher answers two questions for the router: the head of a
referral's queue now (`head`), and why an agent would or would not get it
(`why`). A miss may suspend its agent (L9, `count_misses`). Offers made so far (E12, the tie-break) are read from the store
for each match (`StoreLedger`).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import Any

from hod_core.domain.models import Agent
from hod_core.domain.referrals import Event, OfferStats, Referral
from hod_core.errors import NotFound
from hod_core.lifecycle import decisions
from hod_core.lifecycle.decisions import Head
from hod_core.matching.matcher import Matcher
from hod_core.wire.bulk import gc_paused

_NEVER_OFFERED = OfferStats()


class Roster:
    """A matcher over the store's agents. `hook`: the router's store hooks."""

    def __init__(self, matcher: Matcher, hook):
        self.matcher = matcher
        self._hook = hook
        self._seen = 0  # the highest agent revision loaded from the store
        # The matcher is not safe to change while another thread matches: one
        # router shared by a server's threads takes turns (the GIL would anyway).
        self._lock = threading.RLock()

    def sync(self) -> int:
        """Load agents saved since the last sync, by this process or another;
        how many were loaded."""
        if self._seen:  # the usual call (once per request): nothing new, no pause needed
            changed = list(self._hook.hod_store_agents(after=self._seen))
        else:
            with gc_paused():  # a first sync reads every agent: millions of new objects
                changed = list(self._hook.hod_store_agents(after=self._seen))
        if changed:
            with self._lock:
                self.matcher.add_many(agent for _, agent in changed)
                self._seen = max(self._seen, changed[-1][0])
        return len(changed)

    @property
    def revision(self) -> int:
        """The store revision of the newest agent this roster has loaded."""
        return self._seen

    def switch_instants(self) -> list[datetime]:
        """Sorted instants, off a whole minute, where some agent's availability
        switches by an out-of-office period (A1) or a day's override (A2); every
        other switch (hours, breaks, dates) is on a whole minute (see Sweep)."""
        instants = set()
        with self._lock:
            agents = self.matcher.agents()
        for agent in agents:
            availability = agent.availability
            today = availability.today
            bounds = [today.since, today.until] if today is not None else []
            for period in availability.out_of_office:
                bounds += (period.start, period.end)
            instants.update(b for b in bounds if b is not None and (b.second or b.microsecond))
        return sorted(instants)

    def agent(self, npn: str) -> Agent:
        """The agent as last saved, by anyone; `NotFound` if there is none."""
        self.sync()
        if npn not in self.matcher:
            raise NotFound(f"no agent with NPN {npn}")
        return self.matcher.agent(npn)

    def save(self, agent: Agent, event: Event) -> None:
        """Into the matcher first (an agent it cannot place, with no time zone,
        raises InputError before anything is stored), then into the store.
        If the store fails, the matcher is put back as it was: no agent this
        process alone would offer referrals to."""
        with self._lock:  # no match sees the agent before the store has it
            before = self.matcher.agent(agent.npn) if agent.npn in self.matcher else None
            self.matcher.add(agent)
            try:
                revision = self._hook.hod_store_put_agent(agent=agent, events=[event])
            except BaseException:
                if before is None:
                    self.matcher.remove(agent.npn)
                else:
                    self.matcher.add(before)
                raise
            if revision == self._seen + 1:  # nobody saved one in between:
                self._seen = revision  # the next sync need not load it back

    def save_many(self, agents: list[Agent], events: list[Event]) -> None:
        """`save` for many agents in one store transaction (`hod_store_put_agents`):
        all into the matcher first (an agent it cannot place raises InputError
        before anything is stored), then into the store. If that raises, the
        matcher is put back as it was; if it is interrupted (KeyboardInterrupt,
        a signal's exception), which may stop the matcher midway through a
        change, the matcher forgets every agent and the next `sync` loads them
        from the store, which holds all of these or none."""
        with self._lock, gc_paused():  # a bulk load: see hod_core.wire.bulk
            matcher = self.matcher
            before = {a.npn: matcher.agent(a.npn) for a in agents if a.npn in matcher}
            try:
                matcher.add_many(agents)
                last = self._hook.hod_store_put_agents(agents=agents, events=events)
            except Exception:
                for npn in {a.npn for a in agents}:
                    if npn in before:
                        matcher.add(before[npn])
                    elif npn in matcher:
                        matcher.remove(npn)
                raise
            except BaseException:
                matcher.clear()
                self._seen = 0
                raise
            distinct = len({a.npn for a in agents}) == len(agents)
            if agents and distinct and last - len(agents) == self._seen:
                self._seen = last  # nobody saved one in between: no need to load them back

    def count_misses(self, npn: str, at: datetime) -> None:
        """Suspend an agent whose last N answered offers were all missed (L9)."""
        agent, policy = self.agent(npn), self.matcher.policy
        threshold = policy.suspension_consecutive_missed
        # The run is the newest answered offers; Pending ones (up to the
        # capacity) and undelivered misses may sit among them: when the page
        # ends before the run does, read further back.
        limit = threshold + policy.max_pending_offers_per_agent
        while True:
            history = self._hook.hod_store_agent_offers(
                npn=npn, since=agent.reinstated_at, limit=limit
            )
            streak, ended = decisions.missed_run(history)
            if ended or streak >= threshold or len(history) < limit:
                break
            limit *= 4
        suspended = decisions.suspension(agent, streak, at, policy)
        if suspended:
            self.save(*suspended)

    def head(self, referral: Referral, now: datetime, skip: Iterable[str] = ()) -> Head:
        """The head of the referral's queue at `now` (E1-E12, ranking), leaving
        out the agents in `skip` (found full by the store, E12)."""
        with self._lock:
            queue = self.matcher.match(
                referral.consumer,
                now,
                limit=1,
                offered=referral.offered_npns.union(skip) if skip else referral.offered_npns,
                offers=self.ledger(),
            ).queue
            if queue:
                return Head(queue[0].npn, queue[0].distance_km)
            return Head(impossible=self.matcher.consumer_failure(referral.consumer, now))

    def why(self, npn: str, referral: Referral, now: datetime) -> dict[str, Any]:
        """Every rule's verdict on agent `npn` for this referral at `now`."""
        self.agent(npn)
        with self._lock:
            return self.matcher.why(
                npn, referral.consumer, now, offered=referral.offered_npns, offers=self.ledger()
            )

    def any_eligible(self, npns: Iterable[str], referral: Referral, now: datetime) -> bool:
        """Does one of these agents pass every rule for this referral at `now`?
        The match's own rules (the naive match's test, which the match equals)."""
        with self._lock:
            return any(
                npn in self.matcher
                and self.matcher.why(
                    npn, referral.consumer, now, offered=referral.offered_npns, offers=self.ledger()
                )["eligible"]
                for npn in npns
            )

    def ledger(self) -> StoreLedger:
        return StoreLedger(self._hook.hod_store_offer_stats)


class StoreLedger:
    """The matcher's view of offers (E12, tie-break) for one match, read from
    the store once per agent (E12 and the tie-break ask about the same ones),
    and for all the agents at a ZIP at once when the matcher prefetches."""

    def __init__(self, stats_of: Callable[..., Mapping[str, OfferStats]]):
        self._stats_of = stats_of
        self._seen: dict[str, OfferStats] = {}

    def prefetch(self, npns: list[str]) -> None:
        missing = [npn for npn in npns if npn not in self._seen]
        if missing:
            found = self._stats_of(npns=missing)
            for npn in missing:
                self._seen[npn] = found.get(npn, _NEVER_OFFERED)

    def _stats(self, npn: str) -> OfferStats:
        if npn not in self._seen:
            self.prefetch([npn])
        return self._seen[npn]

    def pending_offers(self, npn: str) -> int:
        return self._stats(npn).pending

    def last_offered_at(self, npn: str) -> datetime | None:
        return self._stats(npn).last_offered_at
