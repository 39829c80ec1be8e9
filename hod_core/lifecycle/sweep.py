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

import threading
from bisect import bisect_right
from collections.abc import Callable
from datetime import datetime

from attrs import frozen

from hod_core.domain.referrals import Referral, ReferralStatus
from hod_core.lifecycle import decisions
from hod_core.lifecycle.decisions import Change, Decision, Head
from hod_core.rules.policy import Policy

BATCH = 500  # ids asked of the store at a time
HeadOf = Callable[[Referral], Head]  # a referral's queue head at the action's now
Decide = Callable[[Referral | None, HeadOf], Decision | None]
# (referral id, now, decide, known=the referral just read: saves reading it again)
Transact = Callable[..., tuple[Referral | None, Change | None]]
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
    `transact(referral_id, now, decide)`: the router's commit loop;
    `roster`: the agents (`hod_core.lifecycle.roster.Roster`), to tell when waiting
    referrals need matching again (None: at every pass)."""

    def __init__(self, hook, policy: Policy, transact: Transact, roster=None):
        self._hook = hook
        self._policy = policy
        self._transact = transact
        self._roster = roster
        # L10 without a match per waiting referral at every tick: a pass that
        # left them waiting stays true until something that could change a
        # match happens (see `_unchanged_since`).
        self._changed = True
        self._freed: set[str] = set()  # agents whose offer ended since the last pass
        self._freed_lock = threading.Lock()
        self._last_pass: tuple[datetime, int] | None = None  # its now, agents' revision
        self._switches: tuple[int, list[datetime]] = (-1, [])  # revision, instants

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

    def settle(
        self, referral_id: str, now: datetime, known: Referral | None = None
    ) -> tuple[Referral | None, Change | None]:
        """Do what is due on one referral by `now`: the referral after, and the
        kind of change (an accept or reject records a due expiry first).
        `known`: a version to start from instead of reading it (see Router._answer)."""
        stored = known or self._hook.hod_store_referral(referral_id=referral_id)
        if stored is None or not decisions.is_due(stored, now):
            return stored, None  # the usual answer (every accept asks), before any match

        def decide(stored: Referral | None, head: HeadOf) -> Decision | None:
            if stored is None or not decisions.is_due(stored, now):
                return None  # another process settled it first
            first = head(stored) if decisions.needs_queue(stored) else None
            return decisions.settle(stored, now, first, self._policy)

        return self._transact(referral_id, now, decide, known=stored)

    def changed(self) -> None:
        """Something that can make any agent eligible happened (an agent saved or
        reinstated): match waiting referrals at the next pass."""
        self._changed = True

    def freed(self, npn: str) -> None:
        """An offer of agent `npn` ended (E12: one offer fewer): at the next pass,
        a waiting referral is matched again if this agent now passes its rules."""
        with self._freed_lock:
            self._freed.add(npn)

    def waiting(self, now: datetime) -> int:
        """Offer waiting referrals, oldest first, to whoever is eligible now (L10)."""
        # Taken before the pass: a change during it is seen by the next one.
        with self._freed_lock:
            freed, self._freed = self._freed, set()
        only = sorted(freed) if self._unchanged_since(now) else None
        if only == []:
            return 0  # every waiting referral would get the answer it got last time

        def decide(stored: Referral | None, head: HeadOf) -> Decision | None:
            if stored is None or stored.status is not ReferralStatus.WAITING:
                return None
            if only is not None and not self._roster.any_eligible(only, stored, now):
                return None  # nobody else changed: still nobody for it
            placed = decisions.place(stored, now, head(stored), self._policy)
            return None if placed.change is Change.WAITING else placed

        self._changed, revision = False, self._revision()
        try:
            waiting = self._hook.hod_store_waiting()
            offered = [self._transact(rid, now, decide)[1] for rid in waiting]
        except BaseException:
            self._changed = True
            raise
        self._last_pass = (now, revision)
        return offered.count(Change.OFFERED)

    def _unchanged_since(self, now: datetime) -> bool:
        """True when no waiting referral can match differently at `now` than at
        the last pass: this process changed no agent and ended no offer, no agent
        was saved by anyone (the roster's revision), and no availability can have
        switched (L10, A1-A4). Hours, breaks, dates and time zones switch on
        whole minutes, so any whole minute of the clock between the two passes
        counts as a change; so does an out-of-office period or a day's override
        (A1, A2) starting or ending between them, at whatever second. An offer
        ended by another process is seen by that process's next pass, and by
        every process's first pass in the next minute."""
        if self._changed or self._roster is None or self._last_pass is None:
            return False
        then, revision = self._last_pass
        if revision != self._revision() or not then <= now:
            return False
        if _minute(now) != _minute(then):
            return False
        switches = self._switch_instants(revision)
        at = bisect_right(switches, then)
        return at == len(switches) or switches[at] > now

    def _revision(self) -> int:
        return -1 if self._roster is None else self._roster.revision

    def _switch_instants(self, revision: int) -> list[datetime]:
        """The instants, off a whole minute, where an agent's A1 or A2 switches,
        sorted; worked out again only when agents changed."""
        if self._switches[0] != revision:
            self._switches = (revision, self._roster.switch_instants())
        return self._switches[1]

    def erase(self, now: datetime) -> int:
        """P2: erase the contact data of referrals that ended `contact_retention`
        ago, then have the store make the bytes unrecoverable."""

        def decide(stored: Referral | None, _: HeadOf) -> Decision | None:
            return stored and decisions.erase(stored, now, self._policy)

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


def _minute(at: datetime) -> datetime:
    return at.replace(second=0, microsecond=0)
