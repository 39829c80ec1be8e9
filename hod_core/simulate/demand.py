"""Demand for a simulation: Get Contacted requests and their instants.

A demand file is JSONL, one request a line, with no contact data (none is
needed to route a referral, and none is accepted):

    {"at": "2026-12-15T15:04:05Z", "zip": "33101", "state": "FL", "language": "es"}

`state` may be left out (the ZIP's). `hod export demand` writes one from any
store, so a real server's history can be replayed; `synthetic_day` draws an
Open Enrollment day from public figures (`data/open_enrollment.toml`, where
every number is cited).
"""

from __future__ import annotations

import json
import random
import tomllib
from bisect import bisect_right
from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from importlib import resources
from itertools import accumulate
from pathlib import Path
from zoneinfo import ZoneInfo

from attrs import frozen

from hod_core.domain import limits, validate
from hod_core.errors import InputError
from hod_core.geo import zips
from hod_core.rules.policy import Policy

DEMAND_FIELDS = ("at", "zip", "state", "language")
PAGE = 500  # referrals asked of a store at a time


@frozen
class Request:
    """One Get Contacted request as the simulation sees it: where, in which
    language, when (UTC), and the hour of the consumer's own day."""

    at: datetime
    zip: str
    state: str
    language: str
    zone: str

    @property
    def local_hour(self) -> int:
        return self.at.astimezone(ZoneInfo(self.zone)).hour

    def wire(self) -> dict[str, str]:
        at = self.at.astimezone(UTC).isoformat().replace("+00:00", "Z")
        return {"at": at, "zip": self.zip, "state": self.state, "language": self.language}


def request(at: datetime, zip_code: str, state: str | None, language: str) -> Request:
    """A checked request: a located ZIP, a known state and language (E5 is the router's)."""
    place = _checked("zip", lambda z: zips.locate(validate.zip_code(z)), zip_code)
    if state is not None:
        state = _checked("state", validate.state, state)
        if state != place.state:
            raise InputError(
                f"state {state} is not the state of ZIP {place.zip} ({place.state})",
                field="state",
            )
    if place.zone is None:
        raise InputError(f"ZIP {place.zip} has no time zone in the shipped data", field="zip")
    language = _checked("language", validate.language, language)
    return Request(at.astimezone(UTC), place.zip, place.state, language, place.zone)


def _checked(field: str, check, value):
    """`check(value)`, its InputError named after `field`."""
    try:
        return check(value)
    except InputError as exc:
        raise InputError(exc.message, field=exc.field or field) from None


def read_demand(path: str | Path) -> list[Request]:
    """Every request of a demand file, earliest first; a bad line is an
    InputError naming the file, line and field."""
    path = Path(path)
    source = path.name
    requests = []
    for number, data in limits.read_lines(path, source=source):
        text = limits.decode(data, source=source, line=number)
        if not text.strip():
            continue
        value = limits.parse_json(text, source=source, line=number)
        try:
            requests.append(_structure(value))
        except InputError as exc:
            raise exc.located(source=source, line=number) from None
    if not requests:
        raise InputError("no requests in the demand file", source=source)
    return sorted(requests, key=_instant)


def _instant(r: Request) -> datetime:
    return r.at


def _structure(value) -> Request:
    if not isinstance(value, dict):
        raise InputError("a request must be a JSON object")
    for key in value:
        if key not in DEMAND_FIELDS:  # contact data (name, phone, email) among them
            raise InputError(
                f"unknown field (a demand line holds only {', '.join(DEMAND_FIELDS)})",
                field=key[:40],
            )
    for key in ("at", "zip", "language"):
        if key not in value:
            raise InputError("required field missing", field=key)
    try:
        at = validate.rfc3339(value["at"])
    except InputError as exc:
        raise exc.located(prefix="at") from None
    fields = {"zip": value["zip"], "state": value.get("state"), "language": value["language"]}
    for key in ("zip", "state", "language"):
        if fields[key] is not None and not isinstance(fields[key], str):
            raise InputError("must be text, got {value}", field=key, value=fields[key])
    return request(at, fields["zip"], fields["state"], fields["language"])


def write_demand(requests: Iterable[Request], path: str | Path) -> int:
    """Write a demand file; how many requests were written."""
    count = 0
    with Path(path).open("w", encoding="utf-8") as out:
        for r in requests:
            out.write(json.dumps(r.wire()) + "\n")
            count += 1
    return count


def export_demand(store, path: str | Path) -> tuple[int, int]:
    """Every referral a store holds, as demand (ZIP, state, language, instant;
    no contact data), oldest first. Returns (written, skipped): a referral
    whose contact data was erased (P2) has no ZIP left and is skipped."""
    found, skipped, before = [], 0, None
    while True:
        page = list(store.hod_store_referrals(status=None, before=before, limit=PAGE))
        for referral in page:
            if referral.consumer is None:
                skipped += 1
                continue
            found.append(
                request(
                    referral.created_at, referral.consumer.zip, referral.state, referral.language
                )
            )
        if len(page) < PAGE:
            break
        before = page[-1].id
    return write_demand(sorted(found, key=_instant), path), skipped


# -- the synthetic Open Enrollment day --------------------------------------------
def open_enrollment_data() -> dict:
    text = resources.files(__package__).joinpath("data", "open_enrollment.toml").read_text()
    return tomllib.loads(text)


def default_day() -> date:
    return date.fromisoformat(open_enrollment_data()["day"]["date"])


class _Draw:
    """Weighted draws by one cumulative table (random.choices re-sums each call)."""

    def __init__(self, weights: dict):
        self.keys = list(weights)
        self.cumulative = list(accumulate(weights.values()))

    def __call__(self, rng: random.Random):
        return self.keys[bisect_right(self.cumulative, rng.random() * self.cumulative[-1])]


def synthetic_day(count: int, seed: int, policy: Policy, day: date | None = None) -> list[Request]:
    """`count` requests over one Open Enrollment day, earliest first: each
    one's state by HealthCare.gov plan selections (only the policy's
    HealthCare.gov states for its plan year), a ZIP of that state, a language
    by the documented mix, and an instant at an hour of the consumer's own
    day drawn from the hourly curve. Same `seed`, same day."""
    data = open_enrollment_data()
    day = day or date.fromisoformat(data["day"]["date"])
    states = policy.healthcare_gov_states.get(policy.plan_year, frozenset())
    weights = {
        s: n
        for s, n in data["states"].items()
        if isinstance(n, int) and s in states and s != "year"
    }
    if not weights:
        raise InputError(
            f"the policy lists no HealthCare.gov state with plan-selection figures "
            f"for plan year {policy.plan_year}",
            field="healthcare_gov_states",
        )
    places: dict[str, list] = {s: [] for s in weights}
    for place in zips.zip_table().values():
        if place.state in places and place.located and place.zone:
            places[place.state].append(place)
    for state in sorted(s for s, found in places.items() if not found):
        weights.pop(state)
    for found in places.values():
        found.sort(key=lambda p: p.zip)  # table order is not a promise; the draws must repeat
    langs = data["languages"]
    population = langs["population_millions"]
    shares = {c: v[0] * v[1] / population for c, v in langs.items() if isinstance(v, list)}
    language = _Draw({"en": 1 - sum(shares.values()), **shares})
    state_of = _Draw(weights)
    hour_of = _Draw(dict(enumerate(data["hours"]["weights"])))
    rng = random.Random(f"hod-simulate-demand/{seed}")
    requests = []
    for _ in range(count):
        place = rng.choice(places[state_of(rng)])
        local = datetime.combine(day, time(hour_of(rng)), ZoneInfo(place.zone))
        at = local + timedelta(seconds=rng.randrange(3600))
        requests.append(
            Request(at.astimezone(UTC), place.zip, place.state, language(rng), place.zone)
        )
    return sorted(requests, key=_instant)
