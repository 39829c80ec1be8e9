"""Coverage gaps as people read them: "AL, vi: nobody Mon-Thu 17:00-08:00,
Fri 17:00-Mon 08:00 CST".

A gap is a run of hours with no eligible agent available, in the consumer's
local wall-clock time. The week is read as repeating: a run that reaches
Sunday 24:00 joins the one that starts Monday 00:00, so a weekend reads as
"Fri 17:00-Mon 08:00" rather than two pieces. Runs shorter than a day that
start at the same hour and last as long are written once with their days
("Mon-Thu 17:00-08:00"). An hour that does not exist (a spring-forward gap)
neither starts nor ends a run; a run passes through it.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

HOURS = 7 * 24
DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def zero_runs(counts: list[int | None]) -> list[tuple[int, int]]:
    """[start, end) hour indices of the runs of zero counts; `end` may pass
    HOURS when a run wraps past Sunday midnight into Monday."""
    runs: list[tuple[int, int]] = []
    start = last_zero = None
    for hour, count in enumerate(counts):
        if count == 0:
            if start is None:
                start = hour
            last_zero = hour
        elif count is not None and start is not None:
            runs.append((start, last_zero + 1))
            start = None
    if start is not None:
        runs.append((start, last_zero + 1))
    if len(runs) > 1 and runs[0][0] == _first_existing(counts) and runs[-1][1] == _end(counts):
        head = runs.pop(0)
        runs[-1] = (runs[-1][0], HOURS + head[1])
    return runs


def _first_existing(counts: list[int | None]) -> int:
    return next(i for i, c in enumerate(counts) if c is not None)


def _end(counts: list[int | None]) -> int:
    return max(i for i, c in enumerate(counts) if c is not None) + 1


def _clock(hour: int) -> str:
    return f"{hour % 24:02d}:00"


def _day(hour: int) -> str:
    return DAY_NAMES[(hour // 24) % 7]


def _days(starts: list[int]) -> str:
    """Mon, Tue, Wed, Fri -> "Mon-Wed, Fri"; Sun, Mon, Tue -> "Sun-Tue"."""
    days = sorted({(s // 24) % 7 for s in starts})
    spans = [[days[0]]]
    for day in days[1:]:
        if day == spans[-1][-1] + 1:
            spans[-1].append(day)
        else:
            spans.append([day])
    if len(spans) > 1 and spans[0][0] == 0 and spans[-1][-1] == 6:  # Sun runs into Mon
        spans = [spans[-1] + spans[0], *spans[1:-1]]
    return ", ".join(
        DAY_NAMES[s[0]] if len(s) == 1 else f"{DAY_NAMES[s[0]]}-{DAY_NAMES[s[-1]]}" for s in spans
    )


def _span(start: int, end: int) -> str:
    return f"{_day(start)} {_clock(start)}-{_day(end)} {_clock(end)}"


def describe(runs: list[tuple[int, int]]) -> str:
    """The runs in words: same-hour runs shorter than a day grouped by day
    ("Mon-Thu 17:00-08:00": an end before the start is the next day); a run
    alone of its kind that passes midnight names both days."""
    groups: dict[tuple[int, int], list[int]] = {}
    items: list[tuple[int, object]] = []
    for start, end in runs:
        length = end - start
        if length < 24:
            key = (start % 24, length)
            if key not in groups:
                groups[key] = []
                items.append((start, key))
            groups[key].append(start)
        else:
            items.append((start, _span(start, end)))
    words = []
    for _, item in items:
        if isinstance(item, str):
            words.append(item)
        else:
            hour, length = item
            starts = groups[item]
            if len(starts) == 1 and hour + length > 24:  # one night: name both days
                words.append(_span(starts[0], starts[0] + length))
            else:
                words.append(f"{_days(starts)} {_clock(hour)}-{_clock(hour + length)}")
    return ", ".join(words)


def _wall(monday: date, hour: int, tz: ZoneInfo) -> datetime:
    day = monday + timedelta(days=hour // 24)
    return datetime(day.year, day.month, day.day, hour % 24, tzinfo=tz)


def gap_report(
    state: str,
    language: str,
    counts: list[int | None],
    monday: date,
    zone: str,
    eligible: int,
) -> dict | None:
    """One state and language's gaps (None when every hour has someone)."""
    runs = zero_runs(counts)
    if not runs:
        return None
    tz = ZoneInfo(zone)
    hours = sum(1 for c in counts if c == 0)
    if hours == sum(1 for c in counts if c is not None):
        why = "no eligible agent" if eligible == 0 else f"{eligible} eligible, none available"
        text = f"{state}, {language}: nobody all week ({why})"
    else:
        names = list(dict.fromkeys(_wall(monday, start, tz).tzname() for start, _ in runs))
        text = f"{state}, {language}: nobody {describe(runs)} {'/'.join(names)}"
    return {
        "state": state,
        "language": language,
        "eligible": eligible,
        "hours": hours,
        "text": text,
        "ranges": [
            {
                "start": _wall(monday, start, tz).isoformat(),
                "end": _wall(monday, end, tz).isoformat(),
                "hours": sum(1 for c in (counts * 2)[start:end] if c == 0),
            }
            for start, end in runs
        ],
    }
