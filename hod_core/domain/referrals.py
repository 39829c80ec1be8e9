"""Referrals, offers and events: the records of the lifecycle (L1-L11).

A `Referral` is one consumer's Get Contacted request and everything that has
happened to it: its offers, in order, and where it stands now. Records are
frozen; every state change makes a new one with `version` one higher, and the
store accepts it only over the version it replaces. That compare-and-set is
what makes accept atomic across threads and processes.

An `Event` is one line of the append-only audit trail (L11). Events carry ids,
rule ids and counts, never the consumer's contact details.
"""

from __future__ import annotations

import enum
import secrets
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import attrs
from attrs import Factory, field, frozen

from hod_core.domain.models import Consumer


class ReferralStatus(enum.Enum):
    """Where a referral stands; the labels are the seeds' status names (seed 002)."""

    WAITING = "waiting"  # L10: nobody eligible yet
    OFFERED = "offered"  # an offer is Pending (L1)
    ACCEPTED = "accepted"  # L3
    IN_PROGRESS = "in_progress"  # L6: message left, waiting to connect
    NOT_A_GOOD_REFERRAL = "not_a_good_referral"  # L6, final
    COMPLETED = "completed"  # L6 "Referral Completed", final
    UNMATCHED = "unmatched"  # L10: max_wait passed with nobody eligible, final

    @property
    def label(self) -> str:
        return _LABELS[self]

    @property
    def final(self) -> bool:
        return self in FINAL


_LABELS = {
    ReferralStatus.WAITING: "Waiting",
    ReferralStatus.OFFERED: "Pending",
    ReferralStatus.ACCEPTED: "Accepted",
    ReferralStatus.IN_PROGRESS: "In Progress",
    ReferralStatus.NOT_A_GOOD_REFERRAL: "Not a Good Referral",
    ReferralStatus.COMPLETED: "Referral Completed",
    ReferralStatus.UNMATCHED: "Unmatched",
}
FINAL = frozenset(
    {ReferralStatus.NOT_A_GOOD_REFERRAL, ReferralStatus.COMPLETED, ReferralStatus.UNMATCHED}
)

# L6: the moves the accepting agent may make after accepting; nothing else.
AGENT_MOVES: Mapping[ReferralStatus, frozenset[ReferralStatus]] = {
    ReferralStatus.ACCEPTED: frozenset(
        {
            ReferralStatus.IN_PROGRESS,
            ReferralStatus.NOT_A_GOOD_REFERRAL,
            ReferralStatus.COMPLETED,
        }
    ),
    ReferralStatus.IN_PROGRESS: frozenset(
        {ReferralStatus.NOT_A_GOOD_REFERRAL, ReferralStatus.COMPLETED}
    ),
}


class NotAGoodReason(enum.Enum):
    """Why an agent could not help (seed 002; L6)."""

    WRONG_CONTACT_DATA = "wrong_contact_data"
    WORKING_WITH_ANOTHER_BROKER = "working_with_another_broker"
    NO_CONTACT_AFTER_3_ATTEMPTS = "no_contact_after_3_attempts"


class OfferStatus(enum.Enum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    MISSED = "missed"


@frozen
class Offer:
    """One agent's turn at a referral: Pending until answered or expired."""

    npn: str
    offered_at: datetime
    expires_at: datetime
    status: OfferStatus = OfferStatus.PENDING
    answered_at: datetime | None = None  # a Missed offer is answered at its expiry

    def answered(self, status: OfferStatus, at: datetime) -> Offer:
        return evolve(self, status=status, answered_at=at)


@frozen
class Referral:
    """A Get Contacted request and its whole history of offers."""

    id: str
    # The request, contact data included: shown only to the agent who accepted
    # (L3); None once erased, `contact_retention_days` after the end (P2).
    consumer: Consumer | None
    state: str  # the consumer's state, resolved from the ZIP when not given
    created_at: datetime
    wait_until: datetime  # L10: Unmatched if nobody is eligible by then
    status: ReferralStatus
    offers: tuple[Offer, ...] = ()
    agent_npn: str | None = None  # the agent who accepted
    accepted_at: datetime | None = None
    contact_deadline: datetime | None = None  # L7: until the first status update
    reason: NotAGoodReason | None = None
    closed_at: datetime | None = None  # when it reached a final state (P2 counts from here)
    version: int = 0
    # The consumer's language (E9), kept for statistics once the contact data
    # is erased; the consumer's own unless given.
    language: str = field(default=Factory(lambda self: self.consumer.language, takes_self=True))

    @property
    def pending_offer(self) -> Offer | None:
        if self.offers and self.offers[-1].status is OfferStatus.PENDING:
            return self.offers[-1]
        return None

    @property
    def offered_npns(self) -> frozenset[str]:
        """E11: everyone who has had a turn, never offered this referral again."""
        return frozenset(o.npn for o in self.offers)

    @property
    def due_at(self) -> datetime | None:
        """When the sweep (`Router.tick`) must next act on this referral, if ever."""
        if self.status is ReferralStatus.OFFERED:
            return self.offers[-1].expires_at
        if self.status is ReferralStatus.WAITING:
            return self.wait_until
        if self.status is ReferralStatus.ACCEPTED:
            return self.contact_deadline
        return None

    def offer_to(self, npn: str) -> Offer | None:
        """This agent's offer of the referral (E11: there is at most one)."""
        return next((o for o in self.offers if o.npn == npn), None)

    @property
    def final(self) -> bool:
        return self.status.final

    def answered(self, outcome: OfferStatus, at: datetime, **changes: Any) -> Referral:
        """This referral with its Pending (last) offer answered, and `changes`."""
        last = self.offers[-1].answered(outcome, at)
        return evolve(self, offers=(*self.offers[:-1], last), **changes)


@frozen
class OfferStats:
    """What E12 and the ranking's tie-break need to know of one agent's offers."""

    pending: int = 0  # Pending offers held, over all referrals
    last_offered_at: datetime | None = None  # when last offered any referral


@frozen
class AgentOffer:
    """An offer as an agent's history sees it (Manage Referrals, L8, L9).

    `delivered`: at least one notice of this offer reached the agent (a
    `notify.sent` event of this referral and agent is in the store). L9
    counts only misses of delivered offers: a miss the agent was never told
    of (every channel failed, or the process died before sending) is not
    theirs.
    """

    referral_id: str
    offer: Offer
    delivered: bool = False


@frozen
class Event:
    """One entry of the audit trail (L11): who did what, when, under which rule.

    `seq` is given by the store when the event is appended; `detail` holds
    ids, counts and codes only: never a consumer's name, phone or email.
    """

    at: datetime
    kind: str
    referral_id: str | None = None
    npn: str | None = None
    actor: str = "system"  # "system", "agent", or the host's name for itself
    rule: str | None = None
    detail: Mapping[str, Any] = field(factory=dict)
    seq: int | None = None


_COPIERS: dict[type, Any] = {}


def evolve(inst: Any, /, **changes: Any) -> Any:
    """`attrs.evolve` with the same result (the class's `__init__` runs, so
    defaults, factories and validators apply alike), at about half its cost: the
    per-class argument list is compiled once instead of walked per call. The
    lifecycle copies a frozen record several times a referral."""
    copier = _COPIERS.get(inst.__class__)
    if copier is None:
        copier = _COPIERS[inst.__class__] = _copier(inst.__class__)
    return copier(inst, changes)


def _copier(cls: type) -> Any:
    fields = [a for a in attrs.fields(cls) if a.init]
    known = frozenset(a.alias for a in fields)
    arguments = ", ".join(f"{a.alias}=c.get({a.alias!r}, i.{a.name})" for a in fields)
    source = (
        "def copy(i, c):\n"
        "    if not c.keys() <= known:\n"
        "        raise TypeError(f'{cls.__name__} has no field(s) {sorted(c.keys() - known)}')\n"
        f"    return cls({arguments})\n"
    )
    scope = {"cls": cls, "known": known}
    exec(compile(source, f"<evolve {cls.__qualname__}>", "exec"), scope)  # noqa: S102
    return scope["copy"]


def time_ordered_id(now: datetime) -> str:
    """A referral id that sorts by creation time: 14 hex digits of microseconds,
    then 12 random ones. Stores index ids; ordered ids append at the end of
    an index instead of touching a random page per insert."""
    micros = int(now.timestamp() * 1_000_000)
    return f"{micros:014x}{secrets.token_hex(6)}"
