"""The lifecycle's decisions (L1-L10), as pure functions.

Each decision takes a referral as stored, the clock's `now`, where placing
is involved the head of the referral's queue at `now` (`Head`), and the
policy, and returns a frozen `Decision`: the referral's next version, the
events that record it, and what kind of change it is. Nothing here reads a
store, a clock or a matcher: every rule can be tested on plain records. The
router (`hod_core.lifecycle.router`) reads the referral, asks the matcher for the
head, commits the decision over the version it read, and notifies.

A refusal (an accept after the window, a move L6 does not allow) raises a
`LifecycleError` naming the rule, before anything is decided.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from datetime import datetime

from attrs import frozen

from hod_core.domain.models import Agent, Consumer
from hod_core.domain.referrals import (
    AGENT_MOVES,
    AgentOffer,
    Event,
    NotAGoodReason,
    Offer,
    OfferStatus,
    Referral,
    ReferralStatus,
    evolve,
)
from hod_core.errors import LifecycleError, NotFound, OfferExpired
from hod_core.rules.policy import Policy


class Change(enum.Enum):
    """What kind of change a decision makes (the sweep counts them by kind)."""

    OFFERED = "offered"  # a new offer is Pending (L1)
    WAITING = "waiting"  # nobody eligible yet (L10)
    UNMATCHED = "unmatched"  # the wait is over, or nobody could ever match (L10), final
    EXPIRED = "expired"  # the Pending offer's window closed unanswered (L5), then placed
    ACCEPTED = "accepted"  # L3
    REJECTED = "rejected"  # L4, then placed
    MOVED = "moved"  # the accepting agent's status update (L6)
    CONTACT_OVERDUE = "contact_overdue"  # no status update by the contact deadline (L7)
    ERASED = "erased"  # the consumer's contact data, `contact_retention_days` after the end (P2)


@frozen
class Decision:
    """The next version of a referral (its version number is the router's
    business), the events that record the change, and its kind."""

    referral: Referral
    events: tuple[Event, ...]
    change: Change


@frozen
class Head:
    """The head of a referral's queue at one moment, as the matcher found it:
    the agent to offer it to, or nobody, and then, when no agent could ever
    match (E5: a state not on HealthCare.gov), the rule that says so."""

    npn: str | None = None
    distance_km: float | None = None
    impossible: str | None = None


NOBODY = Head()


def opened(
    referral_id: str, consumer: Consumer, state: str, now: datetime, policy: Policy
) -> Referral:
    """A new Get Contacted request (L1), Waiting until placed, version 0."""
    return Referral(
        id=referral_id,
        consumer=consumer,
        state=state,
        created_at=now,
        wait_until=now + policy.max_wait,
        status=ReferralStatus.WAITING,
    )


def create(referral: Referral, now: datetime, head: Head, policy: Policy) -> Decision:
    """The request recorded (L1) and placed at once."""
    detail = {"state": referral.state, "language": referral.language}
    created = Event(now, "referral.created", referral.id, rule="L1", detail=detail)
    return place(referral, now, head, policy, (created,))


def next_version(decided: Referral, expected: int) -> Referral:
    """The decided referral as committed over version `expected`: one higher.
    The commonest decisions (an offer, an accept) build it so already, saving
    the router a copy of the whole record; any other gets its number here."""
    if decided.version == expected + 1:
        return decided
    return evolve(decided, version=expected + 1)


def is_due(referral: Referral, now: datetime) -> bool:
    """Is anything due on the referral by `now` (see `settle`)?"""
    return referral.due_at is not None and referral.due_at <= now


def needs_queue(referral: Referral) -> bool:
    """Would settling it (when due) place it again, and so need its queue's head?"""
    return referral.status in (ReferralStatus.OFFERED, ReferralStatus.WAITING)


def place(
    referral: Referral,
    now: datetime,
    head: Head,
    policy: Policy,
    events: Sequence[Event] = (),
) -> Decision:
    """Offer to the head of the queue at `now` (L1, E11, E12); else wait (L10),
    or end Unmatched once the wait is over or nobody could ever match (E5).
    `events`: what led here, recorded before the placement's own."""
    if head.npn is not None:
        offer = Offer(head.npn, now, now + policy.offer_window)
        detail = {"distance_km": head.distance_km, "expires_at": offer.expires_at.isoformat()}
        made = Event(now, "offer.made", referral.id, head.npn, rule="L1", detail=detail)
        offered = evolve(
            referral,
            status=ReferralStatus.OFFERED,
            offers=(*referral.offers, offer),
            version=referral.version + 1,  # see `next_version`
        )
        return Decision(offered, (*events, made), Change.OFFERED)
    if head.impossible or now >= referral.wait_until:
        detail = {"because": head.impossible or "max_wait", "offers": len(referral.offers)}
        ended = Event(now, "referral.unmatched", referral.id, rule="L10", detail=detail)
        unmatched = evolve(referral, status=ReferralStatus.UNMATCHED, closed_at=now)
        return Decision(unmatched, (*events, ended), Change.UNMATCHED)
    waiting = evolve(referral, status=ReferralStatus.WAITING)
    if referral.status is not ReferralStatus.WAITING or referral.version == 0:  # new, or back
        detail = {"wait_until": referral.wait_until.isoformat()}
        events = (*events, Event(now, "referral.waiting", referral.id, rule="L10", detail=detail))
    return Decision(waiting, tuple(events), Change.WAITING)


def settle(referral: Referral, now: datetime, head: Head | None, policy: Policy) -> Decision | None:
    """What is due on the referral by `now`, if anything (the sweep): an offer
    missed (L5), a wait run out (L10), a contact deadline passed (L7). `head`
    is needed (see `needs_queue`) when the referral is Offered or Waiting."""
    if not is_due(referral, now):
        return None
    if referral.status is ReferralStatus.OFFERED:  # L5: the window closed unanswered
        offer = referral.pending_offer
        missed = referral.answered(OfferStatus.MISSED, offer.expires_at)
        detail = {"expired_at": offer.expires_at.isoformat()}
        event = Event(now, "offer.missed", referral.id, offer.npn, rule="L5", detail=detail)
        placed = place(missed, now, head, policy, (event,))
        return evolve(placed, change=Change.EXPIRED)
    if referral.status is ReferralStatus.WAITING:  # L10: max_wait ran out
        return place(referral, now, head, policy)
    detail = {"contact_deadline": referral.contact_deadline.isoformat()}
    overdue = Event(
        now, "referral.contact_overdue", referral.id, referral.agent_npn, rule="L7", detail=detail
    )
    return Decision(evolve(referral, contact_deadline=None), (overdue,), Change.CONTACT_OVERDUE)


def erase(referral: Referral, now: datetime, policy: Policy) -> Decision | None:
    """P2: `contact_retention_days` after a referral reached a final state, the
    consumer's name, phone, email and ZIP go; the state, language, times,
    offers and outcome stay (what statistics need). None when not yet due, or
    already done. A record without `closed_at` counts from its creation."""
    if referral.consumer is None or not referral.final:
        return None
    closed_at = referral.closed_at or referral.created_at
    if now < closed_at + policy.contact_retention:
        return None
    detail = {"closed_at": closed_at.isoformat(), "retention_days": policy.contact_retention.days}
    event = Event(now, "referral.contact_erased", referral.id, rule="P2", detail=detail)
    return Decision(evolve(referral, consumer=None), (event,), Change.ERASED)


def not_theirs(referral_id: str) -> NotFound:
    """What an agent hears of a referral never offered to them, and of one that
    does not exist: the same words (naming no agent), so nobody learns from
    them which referrals exist or who holds one."""
    return NotFound(f"referral {referral_id} is not one of this agent's referrals")


def not_accepted(referral_id: str) -> NotFound:
    """`not_theirs` for a status move (L6): not accepted by this agent, whether
    offered to another, to nobody, or not there at all."""
    return NotFound(f"referral {referral_id} is not accepted by this agent", rule="L6")


def answerable(referral: Referral, npn: str, now: datetime, expired_rule: str = "L3") -> Offer:
    """The agent's Pending offer of this referral, or the reason there is none.
    Too late is L3 for an accept; for a reject it is L5 (the offer was missed)."""
    offer = referral.offer_to(npn)
    if offer is None:
        raise not_theirs(referral.id)
    if offer.status is OfferStatus.MISSED or (
        offer.status is OfferStatus.PENDING and now >= offer.expires_at
    ):
        raise OfferExpired(
            f"the offer of referral {referral.id} to agent {npn} expired at "
            f"{offer.expires_at.isoformat()}: the window to answer it has closed",
            rule=expired_rule,
        )
    if offer.status is not OfferStatus.PENDING:
        raise LifecycleError(
            f"agent {npn} already answered referral {referral.id}: {offer.status.value}",
            rule="L3" if offer.status is OfferStatus.ACCEPTED else "L4",
        )
    return offer


def accept(referral: Referral, npn: str, now: datetime, policy: Policy) -> Decision:
    """The agent takes its Pending offer (L3); the contact clock starts (L7)."""
    answerable(referral, npn, now)
    accepted = referral.answered(
        OfferStatus.ACCEPTED,
        now,
        status=ReferralStatus.ACCEPTED,
        agent_npn=npn,
        accepted_at=now,
        contact_deadline=now + policy.contact_deadline,
        version=referral.version + 1,  # see `next_version`
    )
    detail = {
        "contact_target": (now + policy.contact_target).isoformat(),
        "contact_deadline": accepted.contact_deadline.isoformat(),
    }
    event = Event(now, "offer.accepted", referral.id, npn, "agent", "L3", detail)
    return Decision(accepted, (event,), Change.ACCEPTED)


def reject(referral: Referral, npn: str, now: datetime, head: Head, policy: Policy) -> Decision:
    """The agent turns its Pending offer down (L4): no penalty, and the head of
    the queue (which leaves this agent out, E11) gets it at once."""
    answerable(referral, npn, now, expired_rule="L5")
    rejected = referral.answered(OfferStatus.REJECTED, now)
    event = Event(now, "offer.rejected", referral.id, npn, "agent", "L4")
    return evolve(place(rejected, now, head, policy, (event,)), change=Change.REJECTED)


def move(
    referral: Referral,
    npn: str,
    status: ReferralStatus,
    reason: NotAGoodReason | None,
    now: datetime,
) -> Decision:
    """The accepting agent moves the referral on (L6): only `AGENT_MOVES`."""
    if referral.agent_npn != npn:
        raise not_accepted(referral.id)
    if status not in AGENT_MOVES.get(referral.status, ()):
        raise LifecycleError(
            f"referral {referral.id} cannot move from {referral.status.label} to {status.label}",
            rule="L6",
        )
    closed_at = now if status.final else None
    moved = evolve(
        referral, status=status, reason=reason, contact_deadline=None, closed_at=closed_at
    )
    detail = {"from": referral.status.value, "to": status.value}
    if reason is not None:
        detail["reason"] = reason.value
    event = Event(now, "referral.status", referral.id, npn, "agent", "L6", detail)
    return Decision(moved, (event,), Change.MOVED)


def missed_run(history: Sequence[AgentOffer]) -> tuple[int, bool]:
    """L9: how many of the agent's newest answered offers (newest first in
    `history`) were missed in a row, and whether the run ended inside
    `history` (an accept or a reject ends it). Pending offers are skipped,
    and so are misses of offers whose notice never reached the agent."""
    streak = 0
    for entry in history:
        status = entry.offer.status
        if status is OfferStatus.PENDING or (status is OfferStatus.MISSED and not entry.delivered):
            continue
        if status is not OfferStatus.MISSED:
            return streak, True
        streak += 1
    return streak, False


def suspension(
    agent: Agent, streak: int, at: datetime, policy: Policy
) -> tuple[Agent, Event] | None:
    """L9: the agent suspended, and the event saying so, after `streak`
    consecutive misses (see `missed_run`), from `suspension_consecutive_missed`."""
    if agent.suspended or streak < policy.suspension_consecutive_missed:
        return None
    detail = {"consecutive_missed": streak}
    event = Event(at, "agent.suspended", npn=agent.npn, rule="L9", detail=detail)
    return evolve(agent, suspended=True), event


def missed_since(history: Sequence[AgentOffer], since: datetime) -> int:
    """L8: the offers in `history` missed at or after `since`."""
    return sum(
        1 for h in history if h.offer.status is OfferStatus.MISSED and h.offer.answered_at >= since
    )


def retry_unwanted(referral: Referral | None, npn: str, now: datetime) -> str | None:
    """Why a retry of an offer's notice (L2) is not worth sending, or
    None to send it: the offer must still be Pending, inside its window."""
    offer = referral.offer_to(npn) if referral else None
    if offer is None:
        return "no such offer"
    if offer.status is not OfferStatus.PENDING:
        return f"offer {offer.status.value}"
    if now >= offer.expires_at:
        return "offer expired"
    return None
