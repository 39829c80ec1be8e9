"""The brute-force coverage count: the benchmark's baseline and the tests' oracle.

Every state, language and hour of the week, every agent, through the
matcher's own naive scan (`Matcher.naive_match`: every rule of the rule file
on every agent, availability by the real A1-A4 function at the real
instant). No sharing, no supposing: slow, and obviously right. The hour's
instant is worked out here again, not borrowed from `coverage.week`, so a
mistake there cannot hide in both.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from hod_core.coverage.counts import stand_in_consumer
from hod_core.coverage.week import consumer_places, monday_of
from hod_core.domain.models import Agent
from hod_core.matching.matcher import Matcher
from hod_core.rules.policy import Policy


def naive_coverage(
    agents: Iterable[Agent], policy: Policy, week_of: date, languages: Iterable[str]
) -> dict[str, dict[str, list[int | None]]]:
    """state -> language -> 168 counts (None: an hour that does not exist)."""
    matcher = Matcher(policy, agents)
    monday = monday_of(week_of)
    states = sorted(policy.healthcare_gov_states[policy.plan_year])
    result: dict[str, dict[str, list[int | None]]] = {}
    for state, (zone, zip_code) in consumer_places(states).items():
        tz = ZoneInfo(zone)
        for language in languages:
            consumer = stand_in_consumer(state, language, zip_code)
            counts: list[int | None] = []
            for hour in range(7 * 24):
                day = monday + timedelta(days=hour // 24)
                wall = datetime(day.year, day.month, day.day, hour % 24)
                at = wall.replace(tzinfo=tz)
                if at.astimezone(UTC).astimezone(tz).replace(tzinfo=None) != wall:
                    counts.append(None)  # a spring-forward gap
                    continue
                counts.append(len(matcher.naive_match(consumer, at).queue))
            result.setdefault(state, {})[language] = counts
    return result
