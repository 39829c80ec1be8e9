"""The referral service: Get Contacted in, offers out, down the queue on reject
or timeout (SPEC section 4, L1-L11).

Every action follows one pattern (`_transact`): read the referral from the
store, decide its next version with the clock's `now`, and commit it over the
version read. If another thread or process committed first, the commit is
refused and the action is decided again on what is stored now. So two
accepts of one offer cannot both win, and an accept after expiry meets the
expiry already recorded.

Time moves only through `tick()`: it asks the store which referrals are due
(an offer's window closed, a wait ran out, a contact deadline passed) and
acts on each. A process restarted after an outage runs the same sweep and
catches up; nothing depends on timers held in memory.
"""

from __future__ import annotations

import logging
import secrets
import threading
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from attrs import evolve, frozen

from . import hookspecs, views, wire
from .bulk import freeze_long_lived
from .dispatch import Dispatcher, RetryPolicy
from .errors import HodError, InputError, LifecycleError, NotFound, OfferExpired
from .matcher import Matcher
from .models import Agent, Consumer, member
from .notices import Notice, missed_alert, notice_language
from .plugins import bind_single, plugin_manager
from .query import ConsumerFacts
from .referrals import (
    AGENT_MOVES,
    Event,
    NotAGoodReason,
    Offer,
    OfferStats,
    OfferStatus,
    Referral,
    ReferralStatus,
)
from .rules.policy import Policy, load_policy

log = logging.getLogger(__name__)

COMMIT_ATTEMPTS = 100  # commits refused in a row before giving up: a store that never settles
DUE_BATCH = 500
_UNREAD = object()  # `_transact` has not read the referral yet
_NEVER_OFFERED = OfferStats()

Decision = tuple[Referral, list[Event]] | None  # the next version and its events; None: no change


@frozen
class TickReport:
    """What one sweep did, for logs and tests."""

    expired: int = 0
    offered_from_waiting: int = 0
    unmatched: int = 0
    contact_overdue: int = 0
    notices_retried: int = 0


class Router:
    """Referrals through their lifecycle, over a host's clock, store and channels.

    `plugins`: objects implementing the hooks of `hod_core.hookspecs` (a
    store, a clock, a sender per channel); `channels`: the channels this
    deployment sends on. An agent whose contact method names a channel left
    out gets an event saying it was not sent, never a silent drop.
    `freeze_after_load`: once the agents are loaded, move every live object
    out of the cyclic garbage collector's sight (`gc.freeze`), which nearly
    doubles the referral rate at 100k agents; a host that must not have its
    own objects frozen passes False. `delivery_threads`: worker threads per
    channel, so a stalled channel holds up neither the others nor the caller;
    0 sends in the caller's thread (deterministic: tests, one-shot scripts).
    Call `close()` when done: it waits for notices under way and records them.
    """

    def __init__(
        self,
        plugins: Iterable[object],
        *,
        policy: Policy | None = None,
        channels: Iterable[str] = tuple(hookspecs.CHANNEL_HOOKS),
        link_base: str = "hod:referral/",
        new_id: Callable[[datetime], str] | None = None,
        freeze_after_load: bool = True,
        delivery_threads: int = 4,
    ):
        self.channels = tuple(channels)
        self.plugins = plugin_manager(plugins, channels=self.channels)
        self.hook = bind_single(self.plugins, ["hod_now", *hookspecs.STORE_HOOKS])
        self.policy = policy or load_policy()
        self.dispatch = Dispatcher(
            self.plugins.hook,
            self.channels,
            link_base=link_base,
            now=self.now,
            retry=RetryPolicy(
                self.policy.notify_max_attempts,
                self.policy.notify_retry,
                self.policy.notify_retry_max,
            ),
            threads=delivery_threads,
        )
        self._new_id = new_id or time_ordered_id
        self.matcher = Matcher(self.policy)
        self._agents_seen = 0  # the highest agent revision loaded from the store
        # The matcher is not safe to change while another thread matches: one
        # router shared by a server's threads takes turns (the GIL would anyway).
        self._matching = threading.RLock()
        self.sync_agents()
        self.matcher.warm()
        if freeze_after_load:  # see bulk.freeze_long_lived; a host may opt out
            freeze_long_lived()

    # -- time and agents -----------------------------------------------------
    def now(self) -> datetime:
        at = self.hook.hod_now()
        if not isinstance(at, datetime) or at.tzinfo is None:
            raise HodError(f"the clock hook returned {at!r}, not a timezone-aware datetime")
        return at.astimezone(UTC)  # instants are kept in UTC; zones matter only for hours

    def sync_agents(self) -> None:
        """Load agents saved since the last sync, by this process or another."""
        changed = list(self.hook.hod_store_agents(after=self._agents_seen))
        if changed:
            with self._matching:
                self.matcher.add_many(agent for _, agent in changed)
            self._agents_seen = changed[-1][0]

    def put_agent(self, agent: Agent | Mapping[str, Any], *, actor: str = "host") -> Agent:
        """Save an agent (validated first: a bad record stores nothing)."""
        if not isinstance(agent, Agent):
            agent = wire.structure(agent, Agent, source="agent")
        now = self.now()
        self._save_agent(agent, Event(now, "agent.saved", npn=agent.npn, actor=actor))
        self._offer_waiting(now)  # this agent may be the one a waiting referral needs
        return agent

    def reinstate(self, npn: str, *, actor: str = "host") -> Agent:
        """Lift a suspension (L9); misses before now no longer count towards one."""
        now = self.now()
        agent = evolve(self._agent(npn), suspended=False, reinstated_at=now)
        self._save_agent(agent, Event(now, "agent.reinstated", npn=npn, actor=actor, rule="L9"))
        self._offer_waiting(now)
        return agent

    def _agent(self, npn: str) -> Agent:
        self.sync_agents()
        if npn not in self.matcher:
            raise NotFound(f"no agent with NPN {npn}")
        return self.matcher.agent(npn)

    def _save_agent(self, agent: Agent, event: Event) -> None:
        """Into the matcher first (an agent it cannot place, with no time zone,
        raises InputError before anything is stored), then into the store."""
        with self._matching:
            self.matcher.add(agent)
        revision = self.hook.hod_store_put_agent(agent=agent, events=[event])
        with self._matching:
            if revision == self._agents_seen + 1:  # nobody saved one in between:
                self._agents_seen = revision  # the next sync need not load it back

    # -- L1: Get Contacted ------------------------------------------------------
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
        referral = Referral(
            id=self._new_id(now),
            consumer=consumer,
            state=facts.state,
            created_at=now,
            wait_until=now + self.policy.max_wait,
            status=ReferralStatus.WAITING,
        )
        created = Event(
            now,
            "referral.created",
            referral.id,
            rule="L1",
            detail={"state": facts.state, "language": consumer.language},
        )

        def decide(_: None) -> Decision:
            return self._place(referral, now, [created])

        return self._transact(referral.id, decide, known=None)  # new: nothing to read

    # -- L3, L4: the agent answers ------------------------------------------------
    def accept(self, referral_id: str, npn: str) -> views.AgentReferralView:
        """Accept a Pending offer (L3): the consumer's contact data, to this agent only."""
        now = self.now()
        _, current = self._settle(referral_id, now)  # an expiry due by now is recorded first

        def decide(stored: Referral | None) -> Decision:
            _answerable(stored, referral_id, npn, now)
            accepted = stored.answered(
                OfferStatus.ACCEPTED,
                now,
                status=ReferralStatus.ACCEPTED,
                agent_npn=npn,
                accepted_at=now,
                contact_deadline=now + self.policy.contact_deadline,
            )
            detail = {
                "contact_target": (now + self.policy.contact_target).isoformat(),
                "contact_deadline": accepted.contact_deadline.isoformat(),
            }
            return accepted, [Event(now, "offer.accepted", referral_id, npn, "agent", "L3", detail)]

        return views.for_agent(self._transact(referral_id, decide, known=current), npn)

    def reject(self, referral_id: str, npn: str) -> None:
        """Reject a Pending offer (L4): no penalty, and the next agent gets it now."""
        now = self.now()
        _, current = self._settle(referral_id, now)

        def decide(stored: Referral | None) -> Decision:
            _answerable(stored, referral_id, npn, now, expired_rule="L5")
            rejected = stored.answered(OfferStatus.REJECTED, now)
            return self._place(
                rejected, now, [Event(now, "offer.rejected", referral_id, npn, "agent", "L4")]
            )

        self._transact(referral_id, decide, known=current)

    # -- L6: after accept --------------------------------------------------------
    def update_status(
        self,
        referral_id: str,
        npn: str,
        status: ReferralStatus | str,
        *,
        reason: NotAGoodReason | str | None = None,
    ) -> views.AgentReferralView:
        """Move an accepted referral on (L6); any move not in `AGENT_MOVES` is refused."""
        status = member(ReferralStatus, "referral status")(status)
        if reason is not None:
            reason = member(NotAGoodReason, "reason")(reason)
            if status is not ReferralStatus.NOT_A_GOOD_REFERRAL:
                raise InputError("a reason goes only with Not a Good Referral", field="reason")
        now = self.now()

        def decide(stored: Referral | None) -> Decision:
            if stored is None or stored.agent_npn != npn:
                raise NotFound(f"referral {referral_id} is not accepted by agent {npn}", rule="L6")
            if status not in AGENT_MOVES.get(stored.status, ()):
                raise LifecycleError(
                    f"referral {referral_id} cannot move from {stored.status.label} "
                    f"to {status.label}",
                    rule="L6",
                )
            moved = evolve(stored, status=status, reason=reason, contact_deadline=None)
            detail = {"from": stored.status.value, "to": status.value}
            if reason is not None:
                detail["reason"] = reason.value
            return moved, [Event(now, "referral.status", referral_id, npn, "agent", "L6", detail)]

        return views.for_agent(self._transact(referral_id, decide), npn)

    # -- the sweep: L5, L7, L10 -----------------------------------------------------
    def tick(self) -> TickReport:
        """Act on everything due by the clock's now, then offer waiting referrals."""
        now = self.now()
        self.sync_agents()
        counts = dict.fromkeys(
            ("expired", "unmatched", "contact_overdue", "offered_from_waiting"), 0
        )
        while True:
            due = self.hook.hod_store_due(now=now, limit=DUE_BATCH)
            for referral_id in due:
                kind, _ = self._settle(referral_id, now)
                if kind:
                    counts[kind] += 1
            if len(due) < DUE_BATCH:
                break
        counts["offered_from_waiting"] += self._offer_waiting(now)
        counts["notices_retried"] = self.dispatch.retry_due(now, self._unwanted_because)
        self.flush()
        return TickReport(**counts)

    def _settle(self, referral_id: str, now: datetime) -> tuple[str | None, Referral | None]:
        """Do what is due on one referral by `now`: what it was, if anything, and
        the referral as it stands after."""
        done: list[str] = []

        def decide(stored: Referral | None) -> Decision:
            done.clear()
            if stored is None or stored.due_at is None or stored.due_at > now:
                return None
            if stored.status is ReferralStatus.OFFERED:  # L5: the window closed unanswered
                offer = stored.pending_offer
                missed = stored.answered(OfferStatus.MISSED, offer.expires_at)
                done.append("expired")
                event = Event(
                    now,
                    "offer.missed",
                    stored.id,
                    offer.npn,
                    rule="L5",
                    detail={"expired_at": offer.expires_at.isoformat()},
                )
                return self._place(missed, now, [event])
            if stored.status is ReferralStatus.WAITING:  # L10: max_wait ran out
                placed = self._place(stored, now, [])
                done.append("unmatched" if placed[0].final else "offered_from_waiting")
                return placed
            overdue = Event(  # L7: accepted, no status update by the contact deadline
                now,
                "referral.contact_overdue",
                stored.id,
                stored.agent_npn,
                rule="L7",
                detail={"contact_deadline": stored.contact_deadline.isoformat()},
            )
            done.append("contact_overdue")
            return evolve(stored, contact_deadline=None), [overdue]

        referral = self._transact(referral_id, decide)
        return (done[0] if done else None), referral

    def _offer_waiting(self, now: datetime) -> int:
        """Offer waiting referrals, oldest first, to whoever is eligible now (L10)."""
        offered = 0

        def decide(stored: Referral | None) -> Decision:
            if stored is None or stored.status is not ReferralStatus.WAITING:
                return None
            placed = self._place(stored, now, [])
            return None if placed[0].status is ReferralStatus.WAITING else placed

        for referral_id in self.hook.hod_store_waiting():
            placed = self._transact(referral_id, decide)
            if placed is not None and placed.status is ReferralStatus.OFFERED:
                offered += 1
        return offered

    # -- the queue -------------------------------------------------------------
    def _place(self, referral: Referral, now: datetime, events: list[Event]) -> Decision:
        """Offer to the head of the queue at `now` (L1, E11, E12); else wait (L10),
        or end Unmatched once the wait is over or nobody could ever match (E5)."""
        with self._matching:
            queue = self.matcher.match(
                referral.consumer,
                now,
                limit=1,
                offered=referral.offered_npns,
                offers=self._ledger(),
            ).queue
        if queue:
            head = queue[0]
            offer = Offer(head.npn, now, now + self.policy.offer_window)
            detail = {"distance_km": head.distance_km, "expires_at": offer.expires_at.isoformat()}
            offered = evolve(
                referral, status=ReferralStatus.OFFERED, offers=(*referral.offers, offer)
            )
            return offered, [
                *events,
                Event(now, "offer.made", referral.id, head.npn, rule="L1", detail=detail),
            ]
        impossible = self.matcher.consumer_failure(referral.consumer, now)
        if impossible or now >= referral.wait_until:
            detail = {"because": impossible or "max_wait", "offers": len(referral.offers)}
            unmatched = evolve(referral, status=ReferralStatus.UNMATCHED)
            return unmatched, [
                *events,
                Event(now, "referral.unmatched", referral.id, rule="L10", detail=detail),
            ]
        waiting = evolve(referral, status=ReferralStatus.WAITING)
        if referral.status is not ReferralStatus.WAITING or referral.version == 0:  # new, or back
            detail = {"wait_until": referral.wait_until.isoformat()}
            events = [
                *events,
                Event(now, "referral.waiting", referral.id, rule="L10", detail=detail),
            ]
        return waiting, events

    # -- committing --------------------------------------------------------------
    def _transact(
        self,
        referral_id: str,
        decide: Callable[[Referral | None], Decision],
        known: Referral | None | object = _UNREAD,
    ) -> Referral:
        """Decide and commit over the stored version; decide again when beaten to it.

        `known`: the referral as the caller just read it, saving the first read.
        """
        stored = known
        for _ in range(COMMIT_ATTEMPTS):
            if stored is _UNREAD:
                stored = self.hook.hod_store_referral(referral_id=referral_id)
            decision = decide(stored)
            if decision is None:
                return stored
            new, events = decision
            expected = stored.version if stored else 0
            new = evolve(new, version=expected + 1)
            carried = self.dispatch.take()  # notification outcomes ride along
            if self.hook.hod_store_commit(
                referral=new,
                expected_version=expected,
                events=[*carried, *events],
                max_pending=self.policy.max_pending_offers_per_agent,
            ):
                self._after_commit(stored, new)
                return new
            self.dispatch.put_back(carried)
            stored = _UNREAD  # beaten to it: read what won
        raise HodError(f"referral {referral_id}: {COMMIT_ATTEMPTS} commits refused in a row")

    def _after_commit(self, old: Referral | None, new: Referral) -> None:
        """Side effects of a committed change: notify a new offer (L2), count misses (L9)."""
        old_offers = {o.npn: o.status for o in old.offers} if old else {}
        for offer in new.offers:
            was = old_offers.get(offer.npn)
            if offer.status is OfferStatus.PENDING and was is None:
                agent = self.matcher.agent(offer.npn)
                self.dispatch.offer(new, offer, agent, self.matcher.zone(offer.npn))
            elif offer.status is OfferStatus.MISSED and was is OfferStatus.PENDING:
                self._count_misses(offer.npn, offer.expires_at)

    def flush(self) -> None:
        """Write notification outcomes not yet carried by a commit. `tick` and
        `events` flush; a host that stops should call `close()`."""
        outcomes = self.dispatch.take()
        if outcomes:
            self.hook.hod_store_append_events(events=outcomes)

    def drain(self, timeout: float | None = None) -> bool:
        """Wait for the notices under way, then write their outcomes. True when
        none is left running (a stalled channel may outlast `timeout`)."""
        done = self.dispatch.drain(timeout)
        self.flush()
        return done

    def close(self) -> None:
        """Finish the notices under way, record them, stop the worker threads.
        Retries not yet due are given up: the offers run on by the clock."""
        self.dispatch.close()
        self.flush()

    def _unwanted_because(self, notice: Notice) -> str | None:
        """Why a due retry is no longer worth sending, or None to send it."""
        if notice.referral_id is None:  # a registration test stays wanted
            return None
        stored = self.hook.hod_store_referral(referral_id=notice.referral_id)
        offer = stored.offer_to(notice.npn) if stored else None
        if offer is None:
            return "no such offer"
        if offer.status is not OfferStatus.PENDING:
            return f"offer {offer.status.value}"
        if self.now() >= offer.expires_at:
            return "offer expired"
        return None

    # -- R4: the registration test text ------------------------------------------
    def send_registration_test(self, npn: str) -> bool:
        """R4: send the agent a test text if its contact method includes text.
        False when it does not; the outcome is recorded like any notice's."""
        return self.dispatch.registration_test(self._agent(npn), self.now())

    # -- L9: suspension ------------------------------------------------------------
    def _count_misses(self, npn: str, at: datetime) -> None:
        """Suspend an agent whose last N answered offers were all missed (L9)."""
        agent = self._agent(npn)
        threshold = self.policy.suspension_consecutive_missed
        if agent.suspended or threshold <= 0:
            return
        # The run of misses is the newest answered offers; Pending ones may sit
        # among them (up to the capacity), so look that much further back.
        history = self.hook.hod_store_agent_offers(
            npn=npn,
            since=agent.reinstated_at,
            limit=threshold + self.policy.max_pending_offers_per_agent,
        )
        streak = 0
        for entry in history:
            status = entry.offer.status
            if status is OfferStatus.PENDING:
                continue
            if status is not OfferStatus.MISSED:
                break
            streak += 1
        if streak >= threshold:
            detail = {"consecutive_missed": streak}
            event = Event(at, "agent.suspended", npn=npn, rule="L9", detail=detail)
            self._save_agent(evolve(agent, suspended=True), event)

    # -- what people see ------------------------------------------------------------
    def referral(self, referral_id: str) -> Referral:
        """The whole record, contact data included: for the host, never for display."""
        stored = self.hook.hod_store_referral(referral_id=referral_id)
        if stored is None:
            raise NotFound(f"no referral {referral_id}")
        return stored

    def referral_for_agent(self, referral_id: str, npn: str) -> views.AgentReferralView:
        view = views.for_agent(self.referral(referral_id), npn)
        if view is None:
            raise NotFound(f"referral {referral_id} was never offered to agent {npn}")
        return view

    def agent_referrals(self, npn: str, limit: int | None = 100) -> list[views.AgentReferralView]:
        """Manage Referrals: the referrals offered to the agent, newest first."""
        history = self.hook.hod_store_agent_offers(npn=npn, since=None, limit=limit)
        return [views.for_agent(self.referral(h.referral_id), npn) for h in history]

    def missed_alert(self, npn: str, language: str | None = None) -> str | None:
        """L8: the alert text when the agent missed offers in the lookback, else None."""
        agent = self._agent(npn)
        now = self.now()
        since = now - self.policy.missed_alert_lookback
        history = self.hook.hod_store_agent_offers(
            npn=npn, since=since - self.policy.offer_window, limit=None
        )
        missed = sum(
            1
            for h in history
            if h.offer.status is OfferStatus.MISSED and h.offer.answered_at >= since
        )
        language = language or notice_language(agent.languages)
        return missed_alert(
            missed, self.policy.missed_alert_lookback, self.policy.offer_window, language
        )

    def consumer_view(self, referral_id: str) -> dict[str, Any]:
        """What the consumer may see: the status and, once accepted, the agent's card."""
        referral = self.referral(referral_id)
        agent = self._agent(referral.agent_npn) if referral.agent_npn else None
        return {
            "referral_id": referral.id,
            "status": referral.status.label,
            "agent": views.agent_card(agent) if agent else None,
        }

    def events(
        self, referral_id: str | None = None, *, after: int = 0, limit: int = 1000
    ) -> list[Event]:
        self.flush()
        return list(self.hook.hod_store_events(referral_id=referral_id, after=after, limit=limit))

    def why(self, referral_id: str, npn: str) -> dict[str, Any]:
        """Why agent `npn` would (not) get this referral now: every rule's verdict."""
        referral = self.referral(referral_id)
        self._agent(npn)
        with self._matching:
            return self.matcher.why(
                npn,
                referral.consumer,
                self.now(),
                offered=referral.offered_npns,
                offers=self._ledger(),
            )

    def _ledger(self) -> _StoreLedger:
        return _StoreLedger(self.hook.hod_store_offer_stats)


def time_ordered_id(now: datetime) -> str:
    """A referral id that sorts by creation time: 14 hex digits of microseconds,
    then 12 random ones. Stores index ids; ordered ids append at the end of
    an index instead of touching a random page per insert."""
    micros = int(now.timestamp() * 1_000_000)
    return f"{micros:014x}{secrets.token_hex(6)}"


def _answerable(
    stored: Referral | None, referral_id: str, npn: str, now: datetime, expired_rule: str = "L3"
) -> Offer:
    """The agent's Pending offer of this referral, or the reason there is none.
    Too late is L3 for an accept; for a reject it is L5 (the offer was missed)."""
    if stored is None:
        raise NotFound(f"no referral {referral_id}")
    offer = stored.offer_to(npn)
    if offer is None:
        raise NotFound(f"referral {referral_id} was never offered to agent {npn}")
    if offer.status is OfferStatus.MISSED or (
        offer.status is OfferStatus.PENDING and now >= offer.expires_at
    ):
        raise OfferExpired(
            f"the offer of referral {referral_id} to agent {npn} expired at "
            f"{offer.expires_at.isoformat()}: the window to answer it has closed",
            rule=expired_rule,
        )
    if offer.status is not OfferStatus.PENDING:
        raise LifecycleError(
            f"agent {npn} already answered referral {referral_id}: {offer.status.value}",
            rule="L3" if offer.status is OfferStatus.ACCEPTED else "L4",
        )
    return offer


class _StoreLedger:
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
