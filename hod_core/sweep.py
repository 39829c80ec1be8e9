"""What the clock does: the sweep `Router.tick` runs (L5, L7, L10, P2).

Time moves only through the sweep. It asks the store what is due by now (an
offer's window closed, a wait ran out, a contact deadline passed), offers
waiting referrals to whoever is eligible now, and erases the contact data of
referrals that ended `contact_retention_days` ago. A process restarted after
an outage runs the same sweep and catches up: nothing depends on timers held
in memory. Each change is a lifecycle decision committed through the
router's compare-and-set loop (`transact`), like any other action.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from attrs import frozen

from . import lifecycle
from .lifecycle import Change, Decision, Head
from .referrals import Referral, ReferralStatus
from .rules.policy import Policy

BATCH = 500  # ids asked of the store at a time
HeadOf = Callable[[Referral], Head]  # a referral's queue head at the action's now
Decide = Callable[[Referral | None, HeadOf], Decision | None]
Transact = Callable[[str, datetime, Decide], tuple[Referral | None, Change | None]]
# What the sweep counts, by the kind of change it made.
_COUNTED = {
    Change.EXPIRED: "expired",
    Change.UNMATCHED: "unmatched",
    Change.OFFERED: "offered_from_waiting",
    Change.CONTACT_OVERDUE: "contact_overdue",
}


@frozen
class TickReport:
    """What one sweep did, for logs and tests."""

    expired: int = 0
    offered_from_waiting: int = 0
    unmatched: int = 0
    contact_overdue: int = 0
    notices_retried: int = 0
    contact_erased: int = 0  # P2


class Sweep:
    """The sweep's three passes over the store. `hook`: the store hooks;
    `transact(referral_id, now, decide)`: the router's commit loop."""

    def __init__(self, hook, policy: Policy, transact: Transact):
        self._hook = hook
        self._policy = policy
        self._transact = transact

    def due(self, now: datetime) -> dict[str, int]:
        """Act on every referral due by `now`; what was done, counted by kind."""
        counts = dict.fromkeys(_COUNTED.values(), 0)
        while True:
            due = self._hook.hod_store_due(now=now, limit=BATCH)
            for referral_id in due:
                _, change = self.settle(referral_id, now)
                if change in _COUNTED:
                    counts[_COUNTED[change]] += 1
            if len(due) < BATCH:
                return counts

    def settle(self, referral_id: str, now: datetime) -> tuple[Referral | None, Change | None]:
        """Do what is due on one referral by `now`: the referral after, and the
        kind of change (an accept or reject records a due expiry first)."""

        def decide(stored: Referral | None, head: HeadOf) -> Decision | None:
            if stored is None or not lifecycle.is_due(stored, now):
                return None  # the usual answer, before any match
            first = head(stored) if lifecycle.needs_queue(stored) else None
            return lifecycle.settle(stored, now, first, self._policy)

        return self._transact(referral_id, now, decide)

    def waiting(self, now: datetime) -> int:
        """Offer waiting referrals, oldest first, to whoever is eligible now (L10)."""

        def decide(stored: Referral | None, head: HeadOf) -> Decision | None:
            if stored is None or stored.status is not ReferralStatus.WAITING:
                return None
            placed = lifecycle.place(stored, now, head(stored), self._policy)
            return None if placed.change is Change.WAITING else placed

        waiting = self._hook.hod_store_waiting()
        return [self._transact(rid, now, decide)[1] for rid in waiting].count(Change.OFFERED)

    def erase(self, now: datetime) -> int:
        """P2: erase the contact data of referrals that ended `contact_retention`
        ago, then have the store make the bytes unrecoverable."""

        def decide(stored: Referral | None, _: HeadOf) -> Decision | None:
            return stored and lifecycle.erase(stored, now, self._policy)

        erased = 0
        while True:
            due = self._hook.hod_store_erasable(
                closed_before=now - self._policy.contact_retention, limit=BATCH
            )
            changes = [self._transact(rid, now, decide)[1] for rid in due]
            erased += changes.count(Change.ERASED)
            if len(due) < BATCH or Change.ERASED not in changes:
                break
        if erased:
            self._hook.hod_store_scrub()
        return erased
