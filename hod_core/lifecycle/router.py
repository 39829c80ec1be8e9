"""The referral service: Get Contacted in, offers out, down the queue on reject
or timeout (L1-L11).

The router does the plumbing around the lifecycle's decisions, which live in
`hod_core.lifecycle.decisions` as pure functions. Every action follows one pattern
(`_transact`): read the referral from the store, ask the matcher for the head
of its queue when the decision places it, decide its next version with the
clock's `now`, and commit it over the version read. If another thread or
process committed first, the commit is refused and the action is decided
again on what is stored now. So two accepts of one offer cannot both win,
and an accept after expiry meets the expiry already recorded. An answer to
an offer may start from the version this router committed last instead of
a read (`_answer`): the compare-and-set makes that safe.

Time moves only through `tick()`, the sweep (`hod_core.lifecycle.sweep`). The
matcher, kept in step with the store's agents, is `hod_core.lifecycle.roster`'s.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from hod_core import wire
from hod_core.domain import disclosure
from hod_core.domain.models import Agent, Consumer, member
from hod_core.domain.referrals import (
    Event,
    NotAGoodReason,
    OfferStatus,
    Referral,
    ReferralStatus,
    evolve,
    time_ordered_id,
)
from hod_core.errors import HodError, InputError, LifecycleError
from hod_core.extend import hookspecs
from hod_core.extend.hookspecs import Commit
from hod_core.extend.plugins import bind_single, default_channels, plugin_manager, store_of
from hod_core.lifecycle import decisions
from hod_core.lifecycle.decisions import Change, Decision, Head
from hod_core.lifecycle.host_methods import HostMethods
from hod_core.lifecycle.referral_reads import ReferralReads
from hod_core.lifecycle.roster import Roster
from hod_core.lifecycle.sweep import Decide, HeadOf, Sweep, TickReport
from hod_core.matching.match_facts import ConsumerFacts
from hod_core.matching.matcher import Matcher
from hod_core.notify.dispatch import Dispatcher, RetryPolicy
from hod_core.notify.notices import Notice
from hod_core.rules.policy import Policy, load_policy
from hod_core.wire.bulk import gc_paused

COMMIT_ATTEMPTS = 100  # commits refused in a row before giving up: a store that never settles
BULK_LOAD = 10_000  # agents loaded at start-up from which their objects are aged at once
# The referral versions this router committed last, kept to start an answer
# from (`_answer`): every offer of a 15-minute window at 4.5 referrals a second.
KEPT_COMMITTED = 4096
_UNREAD = object()  # `_transact` has not read the referral yet
_COMMIT_ANSWERS = tuple(c.value for c in Commit)


class Router(ReferralReads, HostMethods):
    """Referrals through their lifecycle, over a host's clock, store and channels.

    `plugins`: objects implementing the hooks of `hod_core.extend.hookspecs` (a
    store, a clock, a sender per channel); `channels`: the channels this
    deployment sends on; when None, the core ones and every other registered
    channel a plugin sends on (`hod_core.extend.plugins.default_channels`).
    An agent whose contact method names a channel left out gets an event
    saying it was not sent, never a silent drop.
    `delivery_threads`: worker threads per channel, so a stalled channel
    holds up neither the others nor the caller; 0 sends in the caller's
    thread (deterministic: tests, one-shot scripts). `freeze_after_load`:
    once the agents are loaded, move every live object of the process out of
    the cyclic garbage collector's sight (`gc.freeze`), which nearly doubles
    the referral rate at 100k agents. It is off by default because it
    freezes the host's objects too: a process that is mostly a router (the
    server, the benchmark) turns it on. Call `close()` when done: it waits
    for notices under way, records them and closes the store.
    """

    def __init__(
        self,
        plugins: Iterable[object],
        *,
        policy: Policy | None = None,
        channels: Iterable[str] | None = None,
        link_base: str = "hod:referral/",
        new_id: Callable[[datetime], str] | None = None,
        freeze_after_load: bool = False,
        delivery_threads: int = 4,
    ):
        plugins = list(plugins)
        self.channels = default_channels(plugins) if channels is None else tuple(channels)
        self.plugins = plugin_manager(plugins, channels=self.channels)
        self.hook = bind_single(self.plugins, ["hod_now", *hookspecs.STORE_HOOKS])
        self._store = store_of(self.plugins)  # closed by `close()`
        self._policy = policy or load_policy()
        self.dispatch = Dispatcher(
            self.plugins.hook,
            self.channels,
            link_base=link_base,
            now=self.now,
            retry=RetryPolicy.of(self.policy),
            threads=delivery_threads,
        )
        self._new_id = new_id or time_ordered_id
        self._committed: dict[str, Referral] = {}  # id -> last version committed here
        self.matcher = Matcher(self.policy)
        self.roster = Roster(self.matcher, self.hook)
        self.sweep = Sweep(self.hook, self.policy, self._transact, self.roster)
        self._load(freeze_after_load)

    def _load(self, freeze: bool) -> None:
        """Every stored agent into the matcher, its indexes built, under one
        pause of the cyclic GC: at the end of each pause the collector rescans
        everything made during it, which at 100k agents costs a second per pause.
        `freeze`: collect the host's garbage first, while it is small, then move
        all that is alive out of the collector's sight (`gc.freeze`, see the
        class). The load itself leaves no cyclic garbage (measured: none at
        100k agents), so nothing collectable is frozen with it."""
        if freeze:
            gc.collect()
        with gc_paused():
            loaded = self.roster.sync()
            self.matcher.warm()
            if freeze:
                gc.freeze()
            elif loaded >= BULK_LOAD:
                # All the load's objects are the youngest generation now: left
                # alone, they would be rescanned once per generation as they
                # age (three passes); one full collection ages them at once.
                gc.collect()

    # -- time and agents -----------------------------------------------------
    def now(self) -> datetime:
        at = self.hook.hod_now()
        if not isinstance(at, datetime) or at.tzinfo is None:
            raise HodError(f"the clock hook returned {at!r}, not a timezone-aware datetime")
        return at.astimezone(UTC)  # instants are kept in UTC; zones matter only for hours

    def sync_agents(self) -> None:
        """Load agents saved since the last sync, by this process or another."""
        self.roster.sync()

    def put_agent(self, agent: Agent | Mapping[str, Any], *, actor: str = "host") -> Agent:
        """Save an agent (validated first: a bad record stores nothing)."""
        if not isinstance(agent, Agent):
            agent = wire.structure(agent, Agent, source="agent")
        now = self.now()
        self.roster.save(agent, Event(now, "agent.saved", npn=agent.npn, actor=actor))
        self.sweep.changed()
        self.sweep.waiting(now)  # this agent may be the one a waiting referral needs
        return agent

    def put_agents(
        self, agents: Iterable[Agent | Mapping[str, Any]], *, actor: str = "host"
    ) -> list[Agent]:
        """Save many agents in one store transaction (an import): all of them,
        or, when one is bad, the store fails or the caller is interrupted,
        none. Each is validated and placed first (`InputError` naming the
        field; nothing stored); each gets an `agent.saved` event by `actor`."""
        agents = [
            a if isinstance(a, Agent) else wire.structure(a, Agent, source="agent") for a in agents
        ]
        now = self.now()
        events = [Event(now, "agent.saved", npn=a.npn, actor=actor) for a in agents]
        self.roster.save_many(agents, events)
        self.sweep.changed()
        self.sweep.waiting(now)  # these agents may be the ones waiting referrals need
        return agents

    def reinstate(self, npn: str, *, actor: str = "host") -> Agent:
        """Lift a suspension (L9); misses before it do not count towards another."""
        now = self.now()
        agent = evolve(self.roster.agent(npn), suspended=False, reinstated_at=now)
        self.roster.save(agent, Event(now, "agent.reinstated", npn=npn, actor=actor, rule="L9"))
        self.sweep.changed()
        self.sweep.waiting(now)
        return agent

    # -- L1, L3, L4, L6: requests and answers ----------------------------------------
    def request_contact(self, consumer: Consumer | Mapping[str, Any]) -> Referral:
        """Create a referral and offer it to the head of its queue (L1), or let it
        wait (L10). Bad input raises `InputError` naming the field; nothing is stored."""
        if not isinstance(consumer, Consumer):
            consumer = wire.structure(consumer, Consumer, source="consumer")
        facts = ConsumerFacts.of(consumer)  # an unlocated ZIP fails here, before storing
        now = self.now()
        self.sync_agents()
        # Older waiting referrals are offered at the next tick, not here: a sweep
        # per request would cost a match per waiting referral on every request.
        referral = decisions.opened(self._new_id(now), consumer, facts.state, now, self.policy)

        def decide(_: None, head: HeadOf) -> Decision:
            return decisions.create(referral, now, head(referral), self.policy)

        return self._transact(referral.id, now, decide, known=None)[0]  # new: nothing to read

    def accept(self, referral_id: str, npn: str) -> disclosure.AgentReferralView:
        """Accept a Pending offer (L3): the consumer's contact data, to this agent only."""
        now = self.now()

        def decide(stored: Referral | None, _: HeadOf) -> Decision:
            return decisions.accept(_offered(stored, referral_id), npn, now, self.policy)

        return disclosure.for_agent(self._answer(referral_id, now, decide)[0], npn)

    def reject(self, referral_id: str, npn: str) -> None:
        """Reject a Pending offer (L4): no penalty, and the next agent gets it now."""
        now = self.now()

        def decide(stored: Referral | None, head: HeadOf) -> Decision:
            stored = _offered(stored, referral_id)
            decisions.answerable(stored, npn, now, expired_rule="L5")  # before a match
            return decisions.reject(stored, npn, now, head(stored), self.policy)

        self._answer(referral_id, now, decide)

    def update_status(
        self,
        referral_id: str,
        npn: str,
        status: ReferralStatus | str,
        *,
        reason: NotAGoodReason | str | None = None,
    ) -> disclosure.AgentReferralView:
        """Move an accepted referral on (L6); any move not in `AGENT_MOVES` is refused."""
        status = member(ReferralStatus, "referral status")(status)
        if reason is not None:
            reason = member(NotAGoodReason, "reason")(reason)
            if status is not ReferralStatus.NOT_A_GOOD_REFERRAL:
                raise InputError("a reason goes only with Not a Good Referral", field="reason")
        now = self.now()

        def decide(stored: Referral | None, _: HeadOf) -> Decision:
            if stored is None:
                raise decisions.not_accepted(referral_id)
            return decisions.move(stored, npn, status, reason, now)

        return disclosure.for_agent(self._transact(referral_id, now, decide)[0], npn)

    # -- the sweep: L5, L7, L10, P2 ---------------------------------------------------
    def tick(self) -> TickReport:
        """Act on everything due by the clock's now, offer waiting referrals,
        retry notices, and erase contact data past its retention (P2)."""
        now = self.now()
        self.sync_agents()
        counts = self.sweep.due(now)
        counts["offered_from_waiting"] += self.sweep.waiting(now)
        counts["notices_retried"] = self.dispatch.retry_due(now, self._unwanted_because)
        counts["contact_erased"] = self.sweep.erase(now)
        self.flush()
        return TickReport(**counts)

    # -- committing --------------------------------------------------------------
    def _answer(
        self, referral_id: str, now: datetime, decide: Decide
    ) -> tuple[Referral | None, Change | None]:
        """An answer to an offer: what is due on the referral is settled first
        (an expiry is recorded before the answer meets it), then the answer is
        decided and committed.

        It starts from the version this router committed last, when it has it
        (`_committed`), not from a read: as a rule nothing changes between an
        offer and its answer. The commit is a compare-and-set on that version,
        so a version changed since is found there and the answer decided again
        on what is stored; a refusal is decided again on a fresh read too.
        """
        known = self._committed.get(referral_id)
        if known is not None:
            try:
                current, _ = self.sweep.settle(referral_id, now, known=known)
                return self._transact(referral_id, now, decide, known=current)
            except LifecycleError:
                pass  # perhaps refused on a version changed since: read it
        current, _ = self.sweep.settle(referral_id, now)
        return self._transact(referral_id, now, decide, known=current)

    def _transact(
        self,
        referral_id: str,
        now: datetime,
        decide: Decide,
        known: Referral | None | object = _UNREAD,
    ) -> tuple[Referral | None, Change | None]:
        """Decide and commit over the stored version; decide again when beaten
        to it (the referral changed) or when the store refuses the offer's
        agent as full (E12: the store is capacity's one home), then without
        that agent. `decide(stored, head)`: `head(referral)` is the head of its
        queue at `now`, leaving out the agents the store refused.

        `known`: the referral as the caller just read it, saving the first read.
        Returns the referral as it stands after (None: there is none) and the
        kind of change committed (None: nothing changed).
        """
        stored, full = known, set()

        def head(referral: Referral) -> Head:
            return self.roster.head(referral, now, skip=full)

        for _ in range(COMMIT_ATTEMPTS):
            if stored is _UNREAD:
                stored = self.hook.hod_store_referral(referral_id=referral_id)
            decision = decide(stored, head)
            if decision is None:
                return stored, None
            expected = stored.version if stored else 0
            new = decisions.next_version(decision.referral, expected)
            done = self._commit(new, expected, decision.events)
            if done is Commit.WRITTEN:
                if len(self._committed) >= KEPT_COMMITTED:
                    self._committed.clear()
                self._committed[new.id] = new
                self._after_commit(stored, new)
                return new, decision.change
            if done is Commit.AT_CAPACITY and new.pending_offer:
                full.add(new.pending_offer.npn)  # the only offer that can be new
            else:
                stored = _UNREAD  # beaten to it: read what won
        raise HodError(f"referral {referral_id}: {COMMIT_ATTEMPTS} commits refused in a row")

    def _commit(self, new: Referral, expected: int, events: tuple[Event, ...]) -> Commit:
        """One commit, with the notification outcomes not yet written riding
        along; they stay for the next commit or flush unless it is written."""
        carried, done = self.dispatch.take(), None
        try:
            answer = self.hook.hod_store_commit(
                referral=new,
                expected_version=expected,
                events=[*carried, *events],
                max_pending=self.policy.max_pending_offers_per_agent,
            )
            if answer not in _COMMIT_ANSWERS:
                raise HodError(
                    f"hod_store_commit answered {answer!r}, not one of {_COMMIT_ANSWERS}"
                )
            done = Commit(answer)
        finally:
            if done is not Commit.WRITTEN:
                self.dispatch.put_back(carried)
        return done

    def _after_commit(self, old: Referral | None, new: Referral) -> None:
        """Side effects of a committed change: notify a new offer (L2), count misses (L9)."""
        old_offers = {o.npn: o.status for o in old.offers} if old else {}
        for offer in new.offers:
            was = old_offers.get(offer.npn)
            if offer.status is OfferStatus.PENDING and was is None:
                agent = self.matcher.agent(offer.npn)
                self.dispatch.offer(new, offer, agent, self.matcher.zone(offer.npn))
            elif was is OfferStatus.PENDING and offer.status is not OfferStatus.PENDING:
                self.sweep.freed(offer.npn)  # the agent holds one offer fewer (E12)
                if offer.status is OfferStatus.MISSED:
                    self.roster.count_misses(offer.npn, offer.expires_at)

    # -- delivery -----------------------------------------------------------------
    def flush(self) -> None:
        """Write notification outcomes not yet carried by a commit. `tick` and
        `events` flush; a host that stops should call `close()`."""
        self.dispatch.flush(self.hook.hod_store_append_events)

    def drain(self, timeout: float | None = None) -> bool:
        """Wait for the notices under way, then write their outcomes. True when
        none is left running (a stalled channel may outlast `timeout`)."""
        done = self.dispatch.drain(timeout)
        self.flush()
        return done

    def close(self) -> None:
        """Finish the notices under way, record them, stop the worker threads,
        then close the store (`hookspecs.StoreAdapter`): a store shared with
        another router or the host is closed too, so the last user closes the
        router. Retries not yet due are given up: the offers run on by the
        clock. Closing twice does nothing more."""
        try:
            self.dispatch.close()
            self.flush()
        finally:
            self._store.close()

    def _unwanted_because(self, notice: Notice) -> str | None:
        """Why a due retry is not worth sending, or None to send it."""
        if notice.referral_id is None:  # a registration test stays wanted
            return None
        stored = self.hook.hod_store_referral(referral_id=notice.referral_id)
        return decisions.retry_unwanted(stored, notice.npn, self.now())

    def send_registration_test(self, npn: str) -> bool:
        """R4: send the agent a test text if its contact method includes text.
        False when it does not; the outcome is recorded like any notice's."""
        return self.dispatch.registration_test(self.roster.agent(npn), self.now())


def _offered(stored: Referral | None, referral_id: str) -> Referral:
    """The referral an agent answers; one that is not there reads as one not theirs."""
    if stored is None:
        raise decisions.not_theirs(referral_id)
    return stored
