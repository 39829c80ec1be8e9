"""Availability A1-A4 in the agent's zone, including DST, against an oracle."""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from hod_core.domain.codes import WEEKDAYS
from hod_core.domain.models import Availability, Break, Interval, OutOfOffice, TodayOverride
from hod_core.matching.availability import LocalClock, Schedule, ScheduleBook

NINE_TO_FIVE = {d: (Interval(9 * 60, 17 * 60),) for d in WEEKDAYS[:5]}
DEFAULT_HOURS = {d: (Interval(8 * 60, 17 * 60),) for d in WEEKDAYS[:5]}


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def decide(availability: Availability, when: str, zone: str = "America/Chicago"):
    plan = ScheduleBook(DEFAULT_HOURS).plan(availability)
    return plan.decide(LocalClock.of(at(when), zone))


def test_a4_no_hours_saved_means_monday_to_friday_eight_to_five():
    assert decide(Availability(), "2026-11-23T08:00:00-06:00") == (True, "A4")
    assert decide(Availability(), "2026-11-23T16:59:59-06:00") == (True, "A4")
    assert decide(Availability(), "2026-11-23T17:00:00-06:00") == (False, "A4")
    assert decide(Availability(), "2026-11-23T07:59:00-06:00") == (False, "A4")
    assert decide(Availability(), "2026-11-28T12:00:00-06:00") == (False, "A4")  # Saturday


def test_a3_weekly_hours_in_the_agents_zone_not_utc():
    hours = Availability(weekly=NINE_TO_FIVE)
    # 16:30 UTC is 10:30 in Chicago (open) but 08:30 in Los Angeles (closed).
    assert decide(hours, "2026-11-23T16:30:00Z", "America/Chicago") == (True, "A3")
    assert decide(hours, "2026-11-23T16:30:00Z", "America/Los_Angeles") == (False, "A3")


def test_a3_missing_weekday_is_off_and_breaks_subtract():
    hours = Availability(
        weekly={"mon": (Interval(8 * 60, 18 * 60),), "sat": (Interval(10 * 60, 14 * 60),)},
        breaks=(Break(12 * 60, 13 * 60), Break(10 * 60, 11 * 60, days=frozenset({"sat"}))),
    )
    assert decide(hours, "2026-11-23T11:59:00-06:00")[0] is True
    assert decide(hours, "2026-11-23T12:30:00-06:00")[0] is False  # lunch break, every day
    assert decide(hours, "2026-11-24T10:00:00-06:00")[0] is False  # Tuesday: not listed = off
    assert decide(hours, "2026-11-28T10:30:00-06:00")[0] is False  # Saturday break
    assert decide(hours, "2026-11-28T11:30:00-06:00")[0] is True


def test_a1_out_of_office_beats_everything_and_no_end_date_lasts():
    vacation = OutOfOffice(at("2026-11-23T00:00:00-06:00"), at("2026-11-25T00:00:00-06:00"))
    forever = OutOfOffice(at("2026-12-24T00:00:00-06:00"), None)
    override_on = TodayOverride(date(2026, 11, 23), True, None, None)
    availability = Availability(
        weekly=NINE_TO_FIVE, today=override_on, out_of_office=(vacation, forever)
    )
    assert decide(availability, "2026-11-23T10:00:00-06:00") == (False, "A1")
    assert decide(availability, "2026-11-25T10:00:00-06:00") == (True, "A3")  # [from, to)
    assert decide(availability, "2031-01-06T10:00:00-06:00") == (False, "A1")


def test_a2_today_on_outside_hours_until_stop_referrals():
    on = TodayOverride(
        date(2026, 11, 23), True, at("2026-11-23T18:00:00-06:00"), at("2026-11-23T21:00:00-06:00")
    )
    evening = Availability(weekly=NINE_TO_FIVE, today=on)
    assert decide(evening, "2026-11-23T17:30:00-06:00") == (False, "A3")  # not switched on yet
    assert decide(evening, "2026-11-23T19:00:00-06:00") == (True, "A2")
    assert decide(evening, "2026-11-23T21:00:00-06:00") == (False, "A3")  # Stop Referrals
    assert decide(evening, "2026-11-24T19:00:00-06:00") == (False, "A3")  # another day


def test_a2_today_off_ends_the_day_from_the_moment_it_was_switched():
    off = TodayOverride(date(2026, 11, 23), False, at("2026-11-23T11:00:00-06:00"), None)
    availability = Availability(weekly=NINE_TO_FIVE, today=off)
    assert decide(availability, "2026-11-23T10:00:00-06:00") == (True, "A3")
    assert decide(availability, "2026-11-23T11:00:00-06:00") == (False, "A2")
    assert decide(availability, "2026-11-23T16:00:00-06:00") == (False, "A2")
    assert decide(availability, "2026-11-24T10:00:00-06:00") == (True, "A3")  # next local day


def test_a2_override_date_is_the_agents_local_date():
    # 2026-11-24T05:30Z is still the 23rd in Chicago (23:30), the 24th in New York.
    on = TodayOverride(date(2026, 11, 23), True, None, None)
    availability = Availability(weekly=NINE_TO_FIVE, today=on)
    assert decide(availability, "2026-11-24T05:30:00Z") == (True, "A2")
    assert decide(availability, "2026-11-24T05:30:00Z", "America/New_York") == (False, "A3")


def test_dst_spring_forward_nonexistent_start_is_skipped_to_the_end_of_the_gap():
    # 8 March 2026, New York: 02:00 -> 03:00. A start at 02:30 means 03:00 EDT.
    schedule = Schedule.build({"sun": (Interval(2 * 60 + 30, 5 * 60),)})
    tz = "America/New_York"
    assert not schedule.is_open(LocalClock.of(at("2026-03-08T06:59:00Z"), tz))  # 01:59 EST
    assert schedule.is_open(LocalClock.of(at("2026-03-08T07:00:00Z"), tz))  # 03:00 EDT
    assert schedule.is_open(LocalClock.of(at("2026-03-08T08:59:00Z"), tz))  # 04:59 EDT
    assert not schedule.is_open(LocalClock.of(at("2026-03-08T09:00:00Z"), tz))  # 05:00 EDT


def test_dst_fall_back_ambiguous_end_uses_the_first_occurrence():
    # 1 November 2026, New York: 02:00 EDT -> 01:00 EST; 01:30 happens twice.
    schedule = Schedule.build({"sun": (Interval(0, 90),)})  # 00:00-01:30
    tz = "America/New_York"
    assert schedule.is_open(LocalClock.of(at("2026-11-01T05:29:00Z"), tz))  # 01:29 EDT
    assert not schedule.is_open(LocalClock.of(at("2026-11-01T05:30:00Z"), tz))  # 01:30 EDT: ended
    assert not schedule.is_open(
        LocalClock.of(at("2026-11-01T06:15:00Z"), tz)
    )  # 01:15 EST, 2nd pass


def test_dst_fall_back_day_is_25_hours_for_an_all_day_schedule():
    schedule = Schedule.build({"sun": (Interval(0, 24 * 60),)})
    tz = "America/Chicago"
    start, end = at("2026-11-01T00:00:00-05:00"), at("2026-11-02T00:00:00-06:00")
    assert end - start == timedelta(hours=25)
    assert schedule.is_open(LocalClock.of(start, tz))
    assert schedule.is_open(LocalClock.of(end - timedelta(minutes=1), tz))
    assert not schedule.is_open(LocalClock.of(end, tz))  # Monday: not in this schedule


# --- property test against a brute-force oracle -------------------------------

ZONES = [
    "America/New_York",
    "America/Chicago",
    "America/Denver",
    "America/Phoenix",
    "America/Los_Angeles",
    "America/Anchorage",
    "Pacific/Honolulu",
    "America/Havana",
    "Australia/Lord_Howe",
    "Europe/London",
]
TRANSITIONS = [
    at(t)
    for t in (
        "2026-03-08T07:00:00Z",
        "2026-11-01T06:00:00Z",
        "2026-03-29T01:00:00Z",
        "2026-10-25T01:00:00Z",
        "2026-03-08T05:00:00Z",
        "2026-11-01T05:00:00Z",
        "2026-04-04T15:00:00Z",
        "2026-10-03T15:30:00Z",
        "2026-03-14T05:00:00Z",
    )
]


def oracle_instant(day: date, minutes: int, tz: ZoneInfo) -> datetime:
    """The first instant whose local wall time is at or after `day` + `minutes`."""
    wall = datetime(day.year, day.month, day.day) + timedelta(minutes=minutes)
    guess = wall.replace(tzinfo=UTC) - timedelta(hours=15)  # offsets lie in -12h..+14h
    for step in range(28 * 60 + 1):
        u = guess + timedelta(minutes=step)
        if u.astimezone(tz).replace(tzinfo=None) >= wall:
            return u
    raise AssertionError("no instant found")


def oracle_open(weekly, breaks, when: datetime, zone: str) -> bool:
    tz = ZoneInfo(zone)
    local_day = when.astimezone(tz).date()
    for day in (local_day - timedelta(days=1), local_day, local_day + timedelta(days=1)):
        name = WEEKDAYS[day.weekday()]
        minutes = set()
        for interval in weekly.get(name, ()):
            minutes |= set(range(interval.start, interval.end))
        for cut in breaks:
            if cut.days is None or name in cut.days:
                minutes -= set(range(cut.start, cut.end))
        for start, end in runs(sorted(minutes)):
            if oracle_instant(day, start, tz) <= when < oracle_instant(day, end, tz):
                return True
    return False


def runs(minutes: list[int]):
    """Consecutive minutes as [start, end) runs."""
    start = previous = None
    for minute in minutes:
        if start is None:
            start = previous = minute
        elif minute == previous + 1:
            previous = minute
        else:
            yield start, previous + 1
            start = previous = minute
    if start is not None:
        yield start, previous + 1


@st.composite
def schedules(draw):
    weekly = {}
    for day in draw(st.lists(st.sampled_from(WEEKDAYS), max_size=7, unique=True)):
        start = draw(st.integers(0, 24 * 60 - 15))
        end = draw(st.integers(start + 1, 24 * 60))
        weekly[day] = (Interval(start, end),)
    breaks = []
    if draw(st.booleans()):
        start = draw(st.integers(0, 24 * 60 - 1))
        days = draw(st.none() | st.frozensets(st.sampled_from(WEEKDAYS), min_size=1))
        breaks.append(Break(start, draw(st.integers(start + 1, 24 * 60)), days=days))
    return weekly, tuple(breaks)


@settings(max_examples=120, deadline=None)
@given(
    schedule=schedules(),
    zone=st.sampled_from(ZONES),
    near=st.sampled_from(TRANSITIONS),
    offset=st.integers(-36 * 60, 36 * 60),
)
def test_a3_matches_brute_force_oracle_around_dst_changes(schedule, zone, near, offset):
    weekly, breaks = schedule
    when = near + timedelta(minutes=offset)
    fast = Schedule.build(weekly, breaks).is_open(LocalClock.of(when, zone))
    assert fast == oracle_open(weekly, breaks, when, zone)


@settings(max_examples=60, deadline=None)
@given(schedule=schedules(), minute_of_week=st.integers(0, 7 * 24 * 60 - 1))
def test_weekly_minute_mask_agrees_with_the_days_intervals(schedule, minute_of_week):
    weekly, breaks = schedule
    built = Schedule.build(weekly, breaks)
    weekday, minute = divmod(minute_of_week, 24 * 60)
    in_intervals = any(start <= minute < end for start, end in built.days[weekday])
    assert (built.week[minute_of_week] == 1) == in_intervals


def test_book_gives_one_plan_per_shared_availability_object_and_equal_plans_for_equal_hours():
    book = ScheduleBook(DEFAULT_HOURS)
    shared = Availability(weekly=NINE_TO_FIVE)
    assert book.plan(shared) is book.plan(shared)
    twin = Availability(weekly=dict(NINE_TO_FIVE))
    assert book.plan(twin).schedule is book.plan(shared).schedule  # interned by hours
    away = Availability(
        weekly=NINE_TO_FIVE,
        out_of_office=(OutOfOffice(at("2026-11-23T00:00:00Z"), at("2026-11-24T00:00:00Z")),),
    )
    assert not book.plan(away).plain and book.plan(shared).plain
    # One zone and schedule: one shared key, whichever agent asks.
    assert book.shared_key("America/Chicago", book.plan(shared).schedule) is book.shared_key(
        "America/Chicago", book.plan(twin).schedule
    )
