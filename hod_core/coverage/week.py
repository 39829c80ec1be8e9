"""The week `hod coverage` counts: each consumer zone's 168 wall-clock hours
as instants, and the zone and stand-in ZIP each state's consumers get.

A state with several zones is counted in the zone of most of its shipped ZIP
codes; for every HealthCare.gov state that is also the zone where most of its
people live (FL Eastern, IN Eastern, TN Central, TX Central, OR Pacific).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np

from hod_core.coverage.gaps import HOURS
from hod_core.errors import InputError
from hod_core.geo import zips
from hod_core.matching.availability import LocalClock


def monday_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


def consumer_places(states: Iterable[str]) -> dict[str, tuple[str, str]]:
    """state -> (IANA zone of most of its ZIPs, the lowest located ZIP there)."""
    by_state: dict[str, Counter] = {}
    first_zip: dict[tuple[str, str], str] = {}
    wanted = set(states)
    for place in zips.zip_table().values():
        if place.state in wanted and place.located and place.zone:
            by_state.setdefault(place.state, Counter())[place.zone] += 1
            key = (place.state, place.zone)
            if key not in first_zip or place.zip < first_zip[key]:
                first_zip[key] = place.zip
    places = {}
    for state in sorted(wanted):
        if state not in by_state:
            raise InputError(f"state {state} has no located ZIP in the shipped data", field="state")
        # most ZIPs first; the zone name settles a tie, so the choice never varies
        zone = min(by_state[state].items(), key=lambda item: (-item[1], item[0]))[0]
        places[state] = (zone, first_zip[(state, zone)])
    return places


class Week:
    """The 168 wall-clock hours of a week in each consumer zone, as instants.

    `instants` is every distinct UTC instant any zone's hours fall on;
    `slots[zone]` maps that zone's hours to indices into it (-1: the hour does
    not exist that week, a spring-forward gap).
    """

    def __init__(self, monday: date, zones: Iterable[str]):
        self.monday = monday
        wanted = {zone: _slot_instants(monday, ZoneInfo(zone)) for zone in sorted(set(zones))}
        self.instants = sorted({t for slots in wanted.values() for t in slots if t is not None})
        index = {t: i for i, t in enumerate(self.instants)}
        self.slots = {
            zone: np.array([-1 if t is None else index[t] for t in slots], dtype=np.int64)
            for zone, slots in wanted.items()
        }
        self.stamps = np.array([t.timestamp() for t in self.instants])
        self._clocks: dict[str, list[LocalClock]] = {}
        self._dates: dict[str, np.ndarray] = {}

    def clocks(self, zone: str) -> list[LocalClock]:
        """Every instant as seen in an agent's zone (computed once per zone)."""
        clocks = self._clocks.get(zone)
        if clocks is None:
            clocks = self._clocks[zone] = [LocalClock.of(t, zone) for t in self.instants]
            self._dates[zone] = np.array([c.date.toordinal() for c in clocks])
        return clocks

    def local_dates(self, zone: str) -> np.ndarray:
        self.clocks(zone)
        return self._dates[zone]


def _slot_instants(monday: date, tz: ZoneInfo) -> list[datetime | None]:
    slots: list[datetime | None] = []
    for hour in range(HOURS):
        day = monday + timedelta(days=hour // 24)
        wall = datetime(day.year, day.month, day.day, hour % 24)
        instant = wall.replace(tzinfo=tz).astimezone(UTC)  # fold=0: first occurrence
        exists = instant.astimezone(tz).replace(tzinfo=None) == wall
        slots.append(instant if exists else None)
    return slots
