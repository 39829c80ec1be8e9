"""Synthetic agents and consumers with a fixed seed: benchmarks, tests, demos.

Agents sit on real ZIP centroids of HealthCare.gov states (a tenth elsewhere,
licensed across state lines), with a realistic mix of licences and lines of
authority, display options, state preferences, languages, weekly schedules,
breaks, today's overrides and out-of-office periods. Output is the JSON wire
shape, so the same data exercises parsing, validation and matching.
"""

from __future__ import annotations

import json
import random
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from hod_core.domain.codes import US_STATES
from hod_core.geo import zips

HEALTH_LOAS = ["Accident & Health", "Health", "Life, Accident & Health", "Accident and Sickness"]
OTHER_LOAS = ["Life", "Property", "Casualty", "Variable Life & Annuity"]
OTHER_LANGUAGES = [
    "zh",
    "vi",
    "ko",
    "ht",
    "fr",
    "ru",
    "pt",
    "tl",
    "ar",
    "pl",
    "hi",
    "gu",
    "ja",
    "it",
    "de",
]
CONTACT_METHODS = ["email_text_app", "email_text", "email_app", "email"]
DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]

# (share, weekly hours, breaks): "None" hours = never saved (A4 default).
SCHEDULES: list[tuple[float, Any, list]] = [
    (0.35, None, []),
    (0.20, {d: [["09:00", "17:00"]] for d in DAYS[:5]}, []),
    (0.15, {d: [["08:00", "18:00"]] for d in DAYS[:5]}, [{"start": "12:00", "end": "13:00"}]),
    (
        0.10,
        {d: [["08:00", "20:00"]] for d in DAYS[:6]},
        [{"days": ["sat"], "start": "12:00", "end": "12:30"}],
    ),
    (0.08, {d: [["07:00", "22:00"]] for d in DAYS}, []),
    (0.07, {d: [["17:00", "21:00"]] for d in DAYS[:5]} | {"sat": [["09:00", "15:00"]]}, []),
    (0.05, {d: [["00:00", "24:00"]] for d in DAYS}, []),
]


class Synthesizer:
    def __init__(
        self, seed: int = 2026, plan_year: int = 2026, states: frozenset[str] | None = None
    ):
        from hod_core.rules.policy import load_policy

        policy = load_policy()
        self.random = random.Random(seed)
        self.plan_year = plan_year
        self.hc_states = sorted(states or policy.healthcare_gov_states[plan_year])
        located = [p for p in zips.zip_table().values() if p.located and p.zone]
        self.hc_zips = [p for p in located if p.state in self.hc_states]
        self.other_zips = [
            p for p in located if p.state not in self.hc_states and p.state in US_STATES
        ]
        self.by_state: dict[str, list] = {}
        for place in self.hc_zips:
            self.by_state.setdefault(place.state, []).append(place)

    def agents(self, count: int, first_npn: int = 10_000_000) -> list[dict[str, Any]]:
        return [self.agent(str(first_npn + i)) for i in range(count)]

    def write_agents(self, path: Path, count: int, first_npn: int = 10_000_000) -> Path:
        """`count` agents as a JSONL file, one at a time: the input of `hod match`,
        `hod simulate` and `hod coverage`, and of the benchmarks that time reading it."""
        with Path(path).open("w", encoding="utf-8") as out:
            for i in range(count):
                out.write(json.dumps(self.agent(str(first_npn + i))) + "\n")
        return Path(path)

    def agent(self, npn: str) -> dict[str, Any]:
        r = self.random
        place = r.choice(self.hc_zips if r.random() < 0.9 else self.other_zips)
        licensed = {place.state} if r.random() < 0.95 else set()
        licensed |= set(r.sample(self.hc_states, r.choice([0, 0, 1, 2, 3, 6])))
        licensed = sorted(licensed or {r.choice(self.hc_states)})
        licenses = [self.license(state) for state in licensed]
        preferences = None
        if r.random() < 0.2 and len(licensed) > 1:
            preferences = sorted(r.sample(licensed, r.randint(1, len(licensed) - 1)))
        return {
            "npn": npn,
            "first_name": "Agent",
            "last_name": npn,
            "email": f"agent{npn}@example.com",
            "phone": f"+1{r.randint(201, 989)}{r.randint(200, 999)}{r.randint(0, 9999):04d}",
            "street_address": f"{r.randint(1, 9999)} Main St",
            "zip": place.zip,
            "home_state": place.state
            if place.state in self.hc_states or r.random() < 0.5
            else licensed[0],
            "display_option": r.choices([1, 2, 3, 4], [60, 25, 12, 3])[0],
            "licenses": licenses,
            "state_preferences": preferences,
            "languages": self.languages(),
            "contact_method": r.choice(CONTACT_METHODS),
            "participation": {
                "plan_year": self.plan_year if r.random() < 0.96 else self.plan_year - 1,
                "hod_training": r.random() < 0.98,
                "npn_on_ffm_list": r.random() < 0.99,
                "terms_accepted": r.random() < 0.98,
            },
            "suspended": r.random() < 0.01,
            "timezone": place.zone if r.random() < 0.05 else None,
            "availability": self.availability(),
        }

    def license(self, state: str) -> dict[str, Any]:
        r = self.random
        health = r.random() < 0.93
        lines = [r.choice(HEALTH_LOAS)] if health else []
        if r.random() < 0.4 or not lines:
            lines.append(r.choice(OTHER_LOAS))
        expires = date(self.plan_year, 1, 1) + timedelta(days=r.randint(0, 3 * 365))
        return {
            "state": state,
            "lines_of_authority": lines,
            "active": r.random() < 0.97,
            "expires_on": None if r.random() < 0.05 else expires.isoformat(),
        }

    def languages(self) -> list[str]:
        r = self.random
        roll = r.random()
        spoken = ["es"] if roll < 0.06 else ["en"] + (["es"] if roll < 0.36 else [])
        if r.random() < 0.08:
            spoken.append(r.choice(OTHER_LANGUAGES))
        return spoken

    def availability(self) -> dict[str, Any]:
        r = self.random
        _, weekly, breaks = r.choices(SCHEDULES, [s[0] for s in SCHEDULES])[0]
        availability: dict[str, Any] = {"weekly": weekly, "breaks": breaks}
        start = datetime(self.plan_year, 11, 1, tzinfo=UTC) + timedelta(days=r.randint(0, 40))
        if r.random() < 0.05:
            end = (
                None if r.random() < 0.3 else (start + timedelta(days=r.randint(1, 14))).isoformat()
            )
            availability["out_of_office"] = [{"from": start.isoformat(), "to": end}]
        if r.random() < 0.05:
            day = date(self.plan_year, 11, 23) + timedelta(days=r.randint(0, 6))
            since = datetime(day.year, day.month, day.day, 14, tzinfo=UTC)
            availability["today"] = {
                "date": day.isoformat(),
                "on": r.random() < 0.7,
                "since": since.isoformat(),
                "until": (since + timedelta(hours=r.randint(2, 8))).isoformat(),
            }
        return availability

    def consumer(self) -> dict[str, Any]:
        r = self.random
        place = r.choice(self.hc_zips)
        language = r.choices(["en", "es", r.choice(OTHER_LANGUAGES)], [75, 20, 5])[0]
        return {
            "first_name": "Consumer",
            "last_name": "Example",
            "phone": f"+1{r.randint(201, 989)}{r.randint(200, 999)}{r.randint(0, 9999):04d}",
            "email": "consumer@example.com",
            "zip": place.zip,
            "state": place.state,
            "language": language,
        }

    def instant(self) -> datetime:
        """A moment in Open Enrollment week; mostly US daytime, a tenth at any hour."""
        r = self.random
        day = datetime(self.plan_year, 11, 23, tzinfo=UTC) + timedelta(days=r.randint(0, 6))
        if r.random() < 0.9:
            return day + timedelta(hours=13, minutes=r.randint(0, 14 * 60 - 1))
        return day + timedelta(minutes=r.randint(0, 24 * 60 - 1))
