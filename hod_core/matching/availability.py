"""Is an agent available at an instant? Rules A1-A4, in the agent's own zone.

Hours are local wall-clock times. On an ordinary day a wall-clock comparison
is exact; on a day with a DST change every boundary is turned into an instant
first, so a nonexistent local time (spring forward) is skipped to the first
time that exists and an ambiguous one (fall back) means its first occurrence.
`LocalClock` converts an instant once per zone, not once per agent.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime, timedelta
from functools import cache, lru_cache
from zoneinfo import ZoneInfo

from attrs import field, frozen

from hod_core.domain.codes import WEEKDAYS
from hod_core.domain.models import Availability, Break, Interval, TodayOverride

DAY_MINUTES = 24 * 60
BY_OBJECT_MOST = 4096  # plans remembered by the identity of their Availability


@cache
def zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def wall_to_instant(day: date, minutes: int, tz: ZoneInfo) -> datetime:
    """The instant a local wall-clock time on `day` happens (24:00 = next midnight).

    Ambiguous times take their first occurrence (fold=0); a time inside a
    spring-forward gap does not exist and moves to the end of the gap.
    """
    day = day + timedelta(days=minutes // DAY_MINUTES)
    wall = datetime(day.year, day.month, day.day) + timedelta(minutes=minutes % DAY_MINUTES)
    instant = wall.replace(tzinfo=tz).astimezone(UTC)
    if instant.astimezone(tz).replace(tzinfo=None) == wall:
        return instant
    # In a gap: the transition instant is the first whose wall time is past `wall`.
    step = timedelta(minutes=1)
    before = wall.replace(tzinfo=tz, fold=1).astimezone(UTC)
    while before.astimezone(tz).replace(tzinfo=None) < wall:
        before += step
    return before


@lru_cache(maxsize=4096)
def regular_day(day: date, tz: ZoneInfo) -> bool:
    """True when the local day is exactly 24 hours long (no DST change in it)."""
    start = wall_to_instant(day, 0, tz)
    return wall_to_instant(day, DAY_MINUTES, tz) - start == timedelta(days=1)


class LocalClock:
    """One instant as seen in one zone: what every availability check needs.

    A plain class with slots, not attrs: a match builds one per zone it meets.
    """

    __slots__ = ("at", "tz", "date", "weekday", "minute", "regular")

    def __init__(
        self, at: datetime, tz: ZoneInfo, date: date, weekday: int, minute: int, regular: bool
    ):
        self.at = at  # UTC
        self.tz = tz
        self.date = date
        self.weekday = weekday  # 0 = Monday
        self.minute = minute  # minutes since local midnight
        self.regular = regular  # no DST change on this local date

    @classmethod
    def of(cls, at: datetime, zone_name: str) -> LocalClock:
        tz = zone(zone_name)
        local = at.astimezone(tz)
        day = local.date()
        return cls(
            at, tz, day, local.weekday(), local.hour * 60 + local.minute, regular_day(day, tz)
        )

    def __repr__(self) -> str:
        return f"LocalClock({self.at.isoformat()}, {self.tz.key}, minute {self.minute})"


def _subtract(intervals: Iterable[tuple[int, int]], cuts: Iterable[tuple[int, int]]):
    """Interval difference on one day: `intervals` minus `cuts`, merged and sorted."""
    pieces = sorted(intervals)
    for cut_start, cut_end in cuts:
        pieces = [
            part
            for start, end in pieces
            for part in ((start, min(end, cut_start)), (max(start, cut_end), end))
            if part[0] < part[1]
        ]
    merged: list[tuple[int, int]] = []
    for start, end in sorted(pieces):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return tuple(merged)


@frozen
class Schedule:
    """Weekly hours with breaks already subtracted: `days[0]` is Monday's list."""

    days: tuple[tuple[tuple[int, int], ...], ...]
    # Minute of the week (Monday 00:00 = 0) -> 1 when open, on a regular day:
    # one index instead of a scan of the day's intervals, 10 kB per schedule
    # (agents share a handful of schedules).
    week: bytes = field(init=False, eq=False, repr=False)

    @week.default
    def _week(self) -> bytes:
        week = bytearray(7 * DAY_MINUTES)
        for weekday, intervals in enumerate(self.days):
            base = weekday * DAY_MINUTES
            for start, end in intervals:
                week[base + start : base + end] = b"\x01" * (end - start)
        return bytes(week)

    @classmethod
    def build(
        cls,
        weekly: Mapping[str, tuple[Interval, ...]],
        breaks: Iterable[Break] = (),
    ) -> Schedule:
        breaks = tuple(breaks)
        days = []
        for name in WEEKDAYS:
            hours = ((i.start, i.end) for i in weekly.get(name, ()))
            cuts = [(b.start, b.end) for b in breaks if b.days is None or name in b.days]
            days.append(_subtract(hours, cuts))
        return cls(tuple(days))

    def is_open(self, clock: LocalClock) -> bool:
        """A3/A4 at `clock`: a wall-clock test, or instants on a DST-change day."""
        if clock.regular:
            return self.week[clock.weekday * DAY_MINUTES + clock.minute] == 1
        return self.is_open_exact(clock)

    def is_open_exact(self, clock: LocalClock) -> bool:
        """The slow, always-correct test: every boundary as an instant."""
        # An interval of the day before may end after midnight only through a
        # 24:00 end, which lands on today's midnight: today's list is enough.
        tz, day = clock.tz, clock.date
        return any(
            wall_to_instant(day, start, tz) <= clock.at < wall_to_instant(day, end, tz)
            for start, end in self.days[clock.weekday]
        )


@frozen
class AvailabilityPlan:
    """An agent's availability compiled once: OOO periods, override, schedule."""

    schedule: Schedule
    out_of_office: tuple  # of OutOfOffice
    today: TodayOverride | None
    rule: str = "A3"  # A4 when the schedule is the policy default
    # No OOO and no override: availability is the schedule's alone, so a
    # match can share one answer among all agents with this schedule and zone.
    plain: bool = field(init=False)

    @plain.default
    def _plain(self) -> bool:
        return not self.out_of_office and self.today is None

    def available(self, clock: LocalClock) -> bool:
        return self.decide(clock)[0]

    def decide(self, clock: LocalClock) -> tuple[bool, str]:
        """(available, the A-rule that decided it)."""
        at = clock.at
        for period in self.out_of_office:  # A1 beats everything
            if period.covers(at):
                return False, "A1"
        today = self.today
        if today is not None and today.date == clock.date:  # A2
            since = today.since or wall_to_instant(clock.date, 0, clock.tz)
            if at >= since:
                if not today.on:
                    return False, "A2"
                until = today.until or wall_to_instant(clock.date, DAY_MINUTES, clock.tz)
                if at < until:
                    return True, "A2"
        return self.schedule.is_open(clock), self.rule


class ScheduleBook:
    """Interns schedules so agents with the same hours share one object.

    Sharing lets a match decide "is this schedule open now?" once per zone and
    schedule instead of once per agent.
    """

    def __init__(self, default_weekly: Mapping[str, tuple[Interval, ...]]):
        self._default_weekly = default_weekly
        self._known: dict[Schedule, Schedule] = {}
        self._by_hours: dict[tuple, Schedule] = {}
        self._plain: dict[tuple, AvailabilityPlan] = {}
        self._keys: dict[tuple, SharedSchedule] = {}
        self._by_object: dict[int, tuple[Availability, AvailabilityPlan]] = {}

    def plan(self, availability: Availability) -> AvailabilityPlan:
        # Readers share one Availability object among agents whose hours read
        # the same: the same object gives the same plan, without rebuilding its key.
        seen = self._by_object.get(id(availability))
        if seen is not None and seen[0] is availability:
            return seen[1]
        plan = self._plan(availability)
        if len(self._by_object) >= BY_OBJECT_MOST:
            self._by_object.clear()
        self._by_object[id(availability)] = (availability, plan)  # kept alive: ids stay unique
        return plan

    def _plan(self, availability: Availability) -> AvailabilityPlan:
        weekly, rule = availability.weekly, "A3"
        if weekly is None:  # A4: no hours ever saved; breaks still apply
            weekly, rule = self._default_weekly, "A4"
        # Building a schedule subtracts breaks day by day; agents mostly share
        # a few templates, so build each distinct one once.
        key = (
            tuple((day, tuple((i.start, i.end) for i in hours)) for day, hours in weekly.items()),
            tuple((b.start, b.end, b.days) for b in availability.breaks),
        )
        schedule = self._by_hours.get(key)
        if schedule is None:
            built = Schedule.build(weekly, availability.breaks)
            schedule = self._by_hours[key] = self._known.setdefault(built, built)
        if availability.out_of_office or availability.today:
            return AvailabilityPlan(schedule, availability.out_of_office, availability.today, rule)
        plain = self._plain.get((schedule, rule))
        if plain is None:
            plain = self._plain[(schedule, rule)] = AvailabilityPlan(schedule, (), None, rule)
        return plain

    def shared_key(self, zone_name: str, schedule: Schedule) -> SharedSchedule:
        """One key object per (zone, schedule) pair, for the per-match memo."""
        key = (zone_name, id(schedule))
        shared = self._keys.get(key)
        if shared is None:
            shared = self._keys[key] = SharedSchedule(zone_name, schedule)
        return shared


class SharedSchedule:
    """A (zone, schedule) pair many agents share: a match asks "open now?" once.

    Interned by `ScheduleBook`, so it hashes and compares by identity, the
    cheapest dictionary key there is.
    """

    __slots__ = ("zone", "schedule")

    def __init__(self, zone_name: str, schedule: Schedule):
        self.zone = zone_name
        self.schedule = schedule

    def __repr__(self) -> str:
        return f"SharedSchedule({self.zone!r}, {self.schedule.days!r})"
