"""What a match knows about one moment: the consumer, the instant, open offers.

A `Query` answers the dynamic facts of the rule vocabulary (`agent.available`,
`agent.pending_offers`, ...) for the agents a match looks at, memoising what
agents share: the instant is converted once per time zone, and a schedule
shared by many agents is tested once per zone.
"""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import Protocol

from attrs import frozen

from hod_core.domain.codes import US_STATES
from hod_core.domain.models import Consumer
from hod_core.errors import InputError
from hod_core.geo import zips
from hod_core.geo.distance import SPHERE_ERROR, unit_vector
from hod_core.geo.index import EARTH_RADIUS_KM, dot_at
from hod_core.matching.availability import LocalClock, SharedSchedule


class OfferLedger(Protocol):
    """What the matcher needs to know of offers made so far (E12, ranking).

    It may also have `prefetch(npns)`: the matcher calls it with the agents
    at one ZIP before asking about any of them one by one."""

    def pending_offers(self, npn: str) -> int: ...

    def last_offered_at(self, npn: str) -> datetime | None: ...


class OfferSnapshot:
    """An OfferLedger from plain mappings: what a caller knows of offers now."""

    def __init__(
        self,
        pending: dict[str, int] | None = None,
        last_offered: dict[str, datetime] | None = None,
    ):
        self.pending = pending or {}
        self.last_offered = last_offered or {}

    def pending_offers(self, npn: str) -> int:
        return self.pending.get(npn, 0)

    def last_offered_at(self, npn: str) -> datetime | None:
        return self.last_offered.get(npn)


# A store read of offers covers the tested group and the groups up to
# (1 + 2 SPHERE_ERROR) its distance plus this many km, at most NEARBY_GROUPS.
NEARBY_KM_SLACK = 0.01
NEARBY_GROUPS = 16
NO_OFFERS = OfferSnapshot()  # no offers yet: none pending, nobody ever offered one


@frozen
class ConsumerFacts:
    """A Get Contacted request placed on the map: state resolved, ZIP located."""

    state: str
    language: str
    zip: str
    lat: float
    lon: float
    vector: tuple[float, float, float]  # on the unit sphere

    @classmethod
    def of(cls, consumer: Consumer) -> ConsumerFacts:
        return _facts(consumer.zip, consumer.state, consumer.language)


@lru_cache(maxsize=65536)
def _facts(zip_code: str, given_state: str | None, language: str) -> ConsumerFacts:
    """One shared (frozen) object per ZIP, state and language: a router asks for
    the same consumer's facts twice a request, and consumers of a town repeat."""
    zip_state, lat, lon, vector = _located(zip_code)
    if given_state is None and zip_state not in US_STATES:
        raise InputError(f"ZIP {zip_code} is in {zip_state}, not a state", field="zip")
    return ConsumerFacts(given_state or zip_state, language, zip_code, lat, lon, vector)


@lru_cache(maxsize=65536)  # more than there are ZIPs: each is placed once per process
def _located(code: str) -> tuple[str, float, float, tuple[float, float, float]]:
    place = zips.locate(code)
    return place.state, place.lat, place.lon, unit_vector(place.lat, place.lon)


class Query:
    __slots__ = (
        "consumer",
        "at",
        "offered_npns",
        "offers",
        "prefetch",
        "near",
        "slot",
        "fetched_to",
        "_pending_offers",
        "surely_valid_until",
        "_clocks",
        "opens",
    )

    def __init__(
        self,
        consumer: ConsumerFacts,
        at: datetime,
        offered_npns: frozenset[str] = frozenset(),
        offers: OfferLedger | None = None,
    ):
        if at.tzinfo is None:
            raise InputError("the match instant needs a UTC offset", field="at")
        self.consumer = consumer
        self.at = at
        self.offered_npns = offered_npns
        self.offers = offers or NO_OFFERS
        self._pending_offers = self.offers.pending_offers  # bound once: E12 runs per candidate
        # A ledger that reads a store may take many agents in one go: the
        # matcher names the ring and the slot (ZIP group) it is testing; the
        # first agent there to reach E12 fetches for its group and the groups
        # just beyond it, which a queue of one tests too (see `_nearby`).
        # Agents who fail availability never cause a read.
        self.prefetch = getattr(self.offers, "prefetch", None)
        self.near: tuple | None = None  # (bucket, ring, gates) of the ring being walked
        self.slot = -1  # the ring slot being tested
        self.fetched_to = 0  # slots before this one had their offers fetched
        # Every zone's local date is within a day of UTC's: a licence valid
        # through this date is valid here whatever the agent's zone.
        self.surely_valid_until = at.astimezone(UTC).date() + timedelta(days=1)
        self._clocks: dict[str, LocalClock] = {}
        self.opens: dict[SharedSchedule, bool] = {}  # (zone, schedule) -> open now

    def pending_offers_of(self, npn: str) -> int:
        if self.slot >= self.fetched_to:
            self.prefetch(self._nearby(self.slot))
        return self._pending_offers(npn)

    def _nearby(self, slot: int) -> list[str]:
        """The agents of this slot's group and of the open groups right after
        it in the ring: one read instead of one per group. A match of one
        agent goes on testing every group within SPHERE_ERROR of the first
        found, as a rule one to three more; past NEARBY_KM_SLACK of that, a
        group is left to its own read (most matches never reach it)."""
        bucket, (positions, dots), gates = self.near[0], self.near[1][:2], self.near[2]
        records, starts, opens = bucket.records, bucket.starts, self.opens
        reach = dot_at(
            math.acos(min(dots[slot], 1.0)) * EARTH_RADIUS_KM * (1 + 2 * SPHERE_ERROR)
            + NEARBY_KM_SLACK
        )
        npns, end, last = [], slot, min(len(positions), slot + NEARBY_GROUPS)
        while end < last and dots[end] >= reach:
            position = positions[end]
            end += 1
            if gates is not None and opens.get(gates[position]) is False:
                continue  # closed: nobody here reaches E12
            npns.extend([record.npn for record in records[starts[position] : starts[position + 1]]])
        self.fetched_to = end
        return npns

    def clock(self, zone: str) -> LocalClock:
        clock = self._clocks.get(zone)
        if clock is None:
            clock = self._clocks[zone] = LocalClock.of(self.at, zone)
        return clock

    def available(self, record) -> bool:
        """E10 by A1-A4; agents with only a schedule share one answer per zone."""
        plan = record.plan
        if plan.plain:
            is_open = self.opens.get(record.schedule_key)
            if is_open is None:
                is_open = self.schedule_open(record.schedule_key)
            return is_open
        return plan.available(self.clock(record.zone))

    def schedule_open(self, shared: SharedSchedule) -> bool:
        """Is this (zone, schedule) open at the instant? Asked once per match."""
        is_open = self.opens[shared] = shared.schedule.is_open(self.clock(shared.zone))
        return is_open

    def local_date(self, record) -> date:
        return self.clock(record.zone).date

    def valid_health_states(self, record) -> frozenset[str]:
        today = self.local_date(record)
        return frozenset(
            s for s, until in record.health_licenses.items() if until is None or until >= today
        )

    def local(self, name: str):
        raise KeyError(name)
