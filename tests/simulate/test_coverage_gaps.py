"""Coverage gaps in words: runs of empty hours, merged, grouped by day,
wrapped over the weekend, and through DST hours that do not exist."""

from __future__ import annotations

from datetime import date

from hod_core.coverage.gaps import describe, gap_report, zero_runs

MONDAY = date(2026, 11, 23)


def week(open_hours: set[int]) -> list[int | None]:
    return [3 if hour in open_hours else 0 for hour in range(168)]


def office_hours(days=range(5), start=8, end=17) -> set[int]:
    return {d * 24 + h for d in days for h in range(start, end)}


def test_weekday_office_hours_read_as_nights_and_a_weekend():
    counts = week(office_hours())
    assert zero_runs(counts)[0] == (17, 32)  # Mon 17:00 to Tue 08:00
    assert zero_runs(counts)[-1] == (4 * 24 + 17, 168 + 8)  # Fri 17:00 wraps to Mon 08:00
    report = gap_report("AL", "vi", counts, MONDAY, "America/Chicago", eligible=4)
    assert report["text"] == "AL, vi: nobody Mon-Thu 17:00-08:00, Fri 17:00-Mon 08:00 CST"
    assert report["hours"] == 168 - 45
    assert [r["hours"] for r in report["ranges"]] == [15, 15, 15, 15, 63]


def test_same_hours_on_scattered_days_are_listed_once():
    always = set(range(168))
    lunch = {d * 24 + 12 for d in (0, 1, 2, 4)}
    runs = zero_runs(week(always - lunch))
    assert describe(runs) == "Mon-Wed, Fri 12:00-13:00"


def test_runs_at_the_week_edges_join_only_when_both_are_empty():
    counts = week(set(range(6, 168)))  # Monday 00:00-06:00 empty, Sunday night covered
    assert zero_runs(counts) == [(0, 6)]
    assert describe(zero_runs(counts)) == "Mon 00:00-06:00"
    counts = week(set(range(6, 160)))  # and Sunday from 16:00: one run over midnight
    assert zero_runs(counts) == [(160, 174)]
    assert describe(zero_runs(counts)) == "Sun 16:00-Mon 06:00"  # one night: both days named


def test_nights_from_sunday_to_thursday_read_as_one_span_of_days():
    nights = {d * 24 + h for d in (6, 0, 1, 2, 3) for h in (21, 22, 23)}
    nights |= {(d * 24 + 24 + h) % 168 for d in (6, 0, 1, 2, 3) for h in range(6)}
    assert describe(zero_runs(week(set(range(168)) - nights))) == "Sun-Thu 21:00-06:00"


def test_a_long_run_is_written_with_both_ends():
    counts = week(set(range(100)) - set(range(20, 70)))
    assert describe(zero_runs(counts)) == "Mon 20:00-Wed 22:00, Fri 04:00-Mon 00:00"


def test_everyone_covered_is_no_gap_and_nobody_says_why():
    assert gap_report("TX", "en", week(set(range(168))), MONDAY, "America/Chicago", 9) is None
    nobody = gap_report("TX", "ko", week(set()), MONDAY, "America/Chicago", eligible=0)
    assert nobody["text"] == "TX, ko: nobody all week (no eligible agent)"
    idle = gap_report("TX", "ko", week(set()), MONDAY, "America/Chicago", eligible=2)
    assert idle["text"] == "TX, ko: nobody all week (2 eligible, none available)"


def test_an_hour_that_does_not_exist_neither_starts_nor_ends_a_run():
    # Spring forward, Sunday 14 March 2027: 02:00 does not exist in Chicago.
    monday, sunday = date(2027, 3, 8), 6 * 24
    counts: list[int | None] = week(set(range(168)) - {sunday + 1, sunday + 3})
    counts[sunday + 2] = None
    assert zero_runs(counts) == [(sunday + 1, sunday + 4)]
    report = gap_report("TX", "es", counts, monday, "America/Chicago", eligible=5)
    assert report["text"] == "TX, es: nobody Sun 01:00-04:00 CST"
    assert report["hours"] == 2 and report["ranges"][0]["hours"] == 2
    counts[sunday + 1] = 4  # a run starting right after the missing hour starts at 03:00
    assert zero_runs(counts) == [(sunday + 3, sunday + 4)]


def test_a_fall_back_week_names_both_zone_abbreviations():
    # DST ends Sunday 1 November 2026: Saturday night is CDT, Sunday night CST.
    monday, saturday, sunday = date(2026, 10, 26), 5 * 24, 6 * 24
    counts = week(set(range(168)) - {saturday + 22, sunday + 22})
    report = gap_report("TX", "es", counts, monday, "America/Chicago", eligible=5)
    assert report["text"] == "TX, es: nobody Sat-Sun 22:00-23:00 CDT/CST"
    assert report["ranges"][0]["start"] == "2026-10-31T22:00:00-05:00"
    assert report["ranges"][1]["start"] == "2026-11-01T22:00:00-06:00"
