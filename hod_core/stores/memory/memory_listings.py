"""The listing hooks (hookspecs.py, "listings for operators") in memory: a
mix-in of `MemoryStore`, reading its referrals and events under its lock.

A scan per call: the in-memory store serves tests and small hosts, where a
scan of every referral is cheaper than keeping an index up to date."""

from __future__ import annotations

from collections.abc import Sequence

from hod_core.domain.referrals import Event, Referral
from hod_core.extend.hookspecs import hookimpl


class MemoryListings:
    @hookimpl
    def hod_store_referrals(
        self, status: str | None, before: str | None, limit: int
    ) -> list[Referral]:
        with self._lock:
            referrals = list(self._referrals.values())
            cursor = self._referrals.get(before) if before is not None else None
        if before is not None and cursor is None:
            return []
        if status is not None:
            referrals = [r for r in referrals if r.status.value == status]
        if cursor is not None:
            bound = (cursor.created_at, cursor.id)
            referrals = [r for r in referrals if (r.created_at, r.id) < bound]
        referrals.sort(key=lambda r: (r.created_at, r.id), reverse=True)
        return referrals[:limit]

    @hookimpl
    def hod_store_events_of_kind(
        self, kinds: Sequence[str], before: int | None, limit: int
    ) -> list[Event]:
        wanted = set(kinds)
        with self._lock:
            events = self._events if before is None else self._events[: max(0, before - 1)]
            found = []
            for event in reversed(events):
                if event.kind in wanted:
                    found.append(event)
                    if len(found) >= limit:
                        break
        return found
