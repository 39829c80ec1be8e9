"""The synthetic Open Enrollment day follows its cited figures."""

from __future__ import annotations

from collections import Counter
from datetime import date
from zoneinfo import ZoneInfo

from hod_core.geo import zips
from hod_core.rules.policy import load_policy
from hod_core.simulate.demand import open_enrollment_data, synthetic_day


def test_states_languages_and_hours_follow_the_data_file():
    policy = load_policy()
    day = synthetic_day(20_000, 3, policy)
    data = open_enrollment_data()
    hc_states = policy.healthcare_gov_states[policy.plan_year]
    weights = {s: n for s, n in data["states"].items() if s in hc_states}
    states = Counter(r.state for r in day)
    assert set(states) <= hc_states and "IL" not in states  # Illinois left for 2026
    for state in ("FL", "TX", "NC"):
        expected = weights[state] / sum(weights.values())
        assert abs(states[state] / len(day) - expected) < 0.015
    assert all(zips.lookup(r.zip).state == r.state for r in day)  # the state's own ZIPs
    languages = Counter(r.language for r in day)
    assert 0.90 < languages["en"] / len(day) < 0.94 and 0.045 < languages["es"] / len(day) < 0.065
    hours = Counter(r.local_hour for r in day)
    curve = data["hours"]["weights"]
    busiest, quietest = curve.index(max(curve)), curve.index(min(curve))
    assert hours[busiest] > 15 * hours[quietest]
    local_days = {r.at.astimezone(ZoneInfo(r.zone)).date() for r in day}
    assert local_days == {date(2026, 12, 15)}  # one day in every consumer's own time
    assert [r.at for r in day] == sorted(r.at for r in day)


def test_the_same_seed_draws_the_same_day():
    policy = load_policy()
    assert synthetic_day(500, 8, policy) == synthetic_day(500, 8, policy)
    assert synthetic_day(500, 8, policy) != synthetic_day(500, 9, policy)
    assert {r.at.date() for r in synthetic_day(50, 1, policy, date(2026, 11, 2))} <= {
        date(2026, 11, 2),
        date(2026, 11, 3),
    }
