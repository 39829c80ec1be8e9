"""`hod coverage`: eligible agents available per HealthCare.gov state, language
and hour of one week, in the consumer's local time.

What is counted, and why each choice:

- **Eligible** is decided by the rule file itself, compiled as the matcher
  compiles it (`rules.compile`): every rule's agent-only part, its index keys
  (licence in the state, language, display option, State Preferences), its
  consumer part (E5) and its per-moment part (E10 and whatever else a rule
  file puts there). The per-moment part is evaluated twice per agent and
  consumer key, once supposing the agent available and once not, so any rule
  file that reads `agent.available` is followed exactly, not only the
  shipped `agent.available && ...`. The consumer is a new referral (E11:
  offered to nobody yet) and nobody holds an offer (E12: capacity free): the
  most agents a request arriving at that hour could reach.
- **Available** is the real A1-A4 function (`AvailabilityPlan.available`)
  in the agent's own zone, at the hour's first minute, hh:00 of the
  consumer's local time: "at 08:00 on Monday, 12 agents could take an
  Alabama consumer in Vietnamese". An agent starting at 08:30 counts from
  09:00; one on a 12:00-12:30 break is not counted at 12:00.
- **The consumer's local time** in a state with several zones is the zone of
  most of its shipped ZIP codes; for every HealthCare.gov state that is also
  where most of its people live (FL Eastern, TN Central, TX Central, ...).
  A DST week keeps 168 wall-clock hours: the hour that does not exist
  (02:00 on the spring-forward Sunday) has no count (null), the repeated one
  (01:00 on the fall-back Sunday) is counted at its first occurrence.
- **Licence expiry** is checked on the agent's local date at each hour.

Speed: agents share schedules. Availability is computed once per distinct
(zone, schedule) over the week's hours with numpy arrays; only agents with
an out-of-office period or a today's override in the week are looked at
hour by hour, and only at the hours those could change.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterable
from datetime import date, timedelta

import numpy as np

from hod_core.coverage.gaps import gap_report
from hod_core.coverage.week import Week, consumer_places, monday_of
from hod_core.domain.models import Agent, Consumer
from hod_core.errors import InputError
from hod_core.matching.agent_records import AgentRecord
from hod_core.matching.availability import ScheduleBook
from hod_core.matching.match_facts import ConsumerFacts, Query
from hod_core.rules.compile import WILDCARD
from hod_core.rules.policy import Policy
from hod_core.wire.bulk import gc_paused

KIND = "hod.coverage"
VERSION = 1
HOUR_RULE = (
    "an agent counts in an hour when available at its first minute (hh:00, consumer's local time)"
)


class _Supposed(Query):
    """A match's query for one consumer key, where the agent's availability is
    supposed rather than looked up, and its local date is given: the compiled
    rules read it exactly as they read a real match's query."""

    __slots__ = ("supposed", "day")

    def available(self, record) -> bool:
        return self.supposed

    def local_date(self, record) -> date:
        return self.day


class Eligibility:
    """The rule file's rules split as the compiler files them (static, keys,
    consumer, per-moment): answers, for one agent, which consumer keys it may
    serve and whether it would be eligible available, and unavailable."""

    def __init__(self, policy: Policy):
        rules = policy.rules
        self.static = [r.static for r in rules if r.static]
        self.keys: dict[str, list] = {}
        for rule in rules:
            for term in rule.keys:
                self.keys.setdefault(term.field, []).append(term)
        self.consumer = [r.consumer for r in rules if r.consumer]
        self.dynamic = [r.dynamic for r in rules if r.dynamic]

    def passes_static(self, record: AgentRecord) -> bool:
        return all(check(record, None) for check in self.static)

    def consumer_ok(self, query: Query) -> bool:
        return all(check(None, query) for check in self.consumer)

    def allowed(self, record: AgentRecord) -> dict[str, dict | None]:
        """field -> {value: valid until (None = no end)}; None = any value."""
        allowed: dict[str, dict | None] = {}
        for field, terms in self.keys.items():
            values: dict | None = None
            for term in terms:
                these = term.values(record)
                if these is WILDCARD:
                    continue
                values = (
                    dict(these)
                    if values is None
                    else {v: _earliest(values[v], these[v]) for v in values if v in these}
                )
            allowed[field] = values
        return allowed

    def pattern(self, record: AgentRecord, query: _Supposed) -> tuple[bool, bool]:
        """(eligible if available, eligible if not) under the per-moment rules."""
        results = []
        for supposed in (True, False):
            query.supposed = supposed
            results.append(all(check(record, query) for check in self.dynamic))
        return results[0], results[1]


def _earliest(a: date | None, b: date | None) -> date | None:
    if a is None:
        return b
    return a if b is None else min(a, b)


class _Tally:
    """Counts per (state, language): weights of shared vectors over the instants."""

    def __init__(self, pairs: list[tuple[str, str]]):
        self.weights: dict[tuple[str, str], Counter] = {pair: Counter() for pair in pairs}
        self.vectors: dict[object, np.ndarray] = {}

    def add(self, pair, key, vector_of) -> None:
        if key not in self.vectors:
            self.vectors[key] = vector_of()
        self.weights[pair][key] += 1

    def counts(self, pair, size: int) -> np.ndarray:
        weights = self.weights[pair]
        if not weights:
            return np.zeros(size, dtype=np.int64)
        keys = list(weights)
        matrix = np.stack([self.vectors[k] for k in keys]).astype(np.int64)
        return np.array([weights[k] for k in keys], dtype=np.int64) @ matrix


class CoverageCounter:
    """Feed agents one by one (`add`), then read the figures (`result`)."""

    def __init__(self, policy: Policy, week_of: date, languages: Iterable[str]):
        self.policy = policy
        self.monday = monday_of(week_of)
        self.languages = list(dict.fromkeys(languages))
        if not self.languages:
            raise InputError("give at least one language", field="languages")
        self.states = sorted(policy.healthcare_gov_states[policy.plan_year])
        self.places = consumer_places(self.states)
        self.week = Week(self.monday, {zone for zone, _ in self.places.values()})
        self.rules = Eligibility(policy)
        self.book = ScheduleBook(policy.default_hours)
        self.queries: dict[tuple[str, str], _Supposed] = {}
        first = self.week.instants[0]
        for state in self.states:
            zone, zip_code = self.places[state]
            for language in self.languages:
                facts = ConsumerFacts.of(stand_in_consumer(state, language, zip_code))
                query = _Supposed(facts, first)
                query.supposed, query.day = True, self.monday
                if self.rules.consumer_ok(query):
                    self.queries[(state, language)] = query
        self.tally = _Tally([(s, lang) for s in self.states for lang in self.languages])
        self.eligible: Counter = Counter()
        self.agents = 0
        self._schedules: dict[tuple, np.ndarray] = {}
        self._started = time.perf_counter()

    # -- agents -----------------------------------------------------------
    def add(self, agent: Agent) -> None:
        self.agents += 1
        record = AgentRecord(agent, self.policy, self.book)
        if not self.rules.passes_static(record):
            return
        allowed = self.rules.allowed(record)
        states = _among(self.states, allowed.get("state"))
        languages = _among(self.languages, allowed.get("language"))
        if not states or not languages:
            return
        dates = self.week.local_dates(record.zone)
        first, last = date.fromordinal(int(dates[0])), date.fromordinal(int(dates[-1]))
        # A licence lapsing within the week makes eligibility differ by day.
        # Every health licence's last day is some licence's expires_on, so
        # the raw licences answer without digesting them (a superset).
        dated = any(
            lic.expires_on is not None and first <= lic.expires_on < last for lic in agent.licenses
        )
        for state in states:
            for language in languages:
                query = self.queries.get((state, language))
                if query is None or not _other_keys_ok(allowed, query.consumer):
                    continue
                until = _earliest(
                    (allowed.get("state") or {}).get(state),
                    (allowed.get("language") or {}).get(language),
                )
                if dated:
                    self._add_dated(record, (state, language), query, until, dates)
                    continue
                if until is not None and until < first:
                    continue  # lapsed before the week began
                query.day = first
                pattern = self.rules.pattern(record, query)
                if pattern == (False, False):
                    continue
                self.eligible[(state, language)] += 1
                self._add_pattern(record, (state, language), pattern)

    def _add_pattern(self, record: AgentRecord, pair, pattern) -> None:
        if pattern == (True, True):
            self.tally.add(pair, "always", lambda: np.ones(len(self.week.instants), bool))
            return
        key = self._availability_key(record)
        if pattern == (True, False):
            self.tally.add(pair, key, lambda: self._availability(record))
        else:  # (False, True): a rule file that wants agents *un*available
            self.tally.add(pair, ("not", key), lambda: ~self._availability(record))

    def _add_dated(self, record, pair, query, until, dates) -> None:
        """A licence lapses during the week: each local date on its own."""
        available = self._availability(record)
        vector = np.zeros(len(dates), bool)
        ever = False
        for ordinal in np.unique(dates):
            day = date.fromordinal(int(ordinal))
            if until is not None and until < day:
                continue
            query.day = day
            if_available, if_not = self.rules.pattern(record, query)
            ever = ever or if_available or if_not
            vector |= (dates == ordinal) & np.where(available, if_available, if_not)
        if ever:
            self.eligible[pair] += 1
            self.tally.add(pair, ("dated", record.npn, pair), lambda: vector)

    # -- availability -----------------------------------------------------
    def _availability_key(self, record: AgentRecord):
        """Agents whose out-of-office or override touches the week have their
        own answer; the others share their (zone, schedule)'s."""
        plan = record.plan
        if not plan.plain and self._special_hours(plan, self.week.local_dates(record.zone)).any():
            return ("agent", record.npn)
        # The book interns schedules and keeps them alive: the id is the
        # schedule, and far cheaper to hash than its days.
        return ("schedule", record.zone, id(plan.schedule))

    def _availability(self, record: AgentRecord) -> np.ndarray:
        """A1-A4 at every instant of the week, in the agent's zone."""
        plan, zone = record.plan, record.zone
        key = (zone, id(plan.schedule))
        base = self._schedules.get(key)
        if base is None:
            clocks = self.week.clocks(zone)
            base = self._schedules[key] = np.array([plan.schedule.is_open(c) for c in clocks])
        if plan.plain:
            return base
        special = self._special_hours(plan, self.week.local_dates(zone))
        if not special.any():
            return base
        result = base.copy()
        clocks = self.week.clocks(zone)
        for i in np.flatnonzero(special):
            result[i] = plan.available(clocks[i])
        return result

    def _special_hours(self, plan, dates: np.ndarray) -> np.ndarray:
        """Instants where A1 or A2 may decide: inside an out-of-office period,
        or on the override's local date (a superset; the real rule decides)."""
        stamps = self.week.stamps
        special = np.zeros(len(stamps), bool)
        for period in plan.out_of_office:
            end = np.inf if period.end is None else period.end.timestamp()
            special |= (stamps >= period.start.timestamp()) & (stamps < end)
        if plan.today is not None:
            special |= dates == plan.today.date.toordinal()
        return special

    # -- figures ----------------------------------------------------------
    def result(self, *, agents_file: str = "") -> dict:
        size = len(self.week.instants)
        coverage: dict[str, dict] = {}
        gaps = []
        for state in self.states:
            zone, zip_code = self.places[state]
            slots = self.week.slots[zone]
            coverage[state] = {}
            for language in self.languages:
                totals = self.tally.counts((state, language), size)
                counts = [None if i < 0 else int(totals[i]) for i in slots]
                eligible = self.eligible[(state, language)]
                report = gap_report(state, language, counts, self.monday, zone, eligible)
                existing = [c for c in counts if c is not None]
                coverage[state][language] = {
                    "eligible": eligible,
                    "counts": counts,
                    "min": min(existing),
                    "max": max(existing),
                    "hours_uncovered": sum(1 for c in existing if c == 0),
                }
                if report is not None:
                    gaps.append(report)
        return {
            "kind": KIND,
            "version": VERSION,
            "inputs": {
                "agents_file": agents_file,
                "agents": self.agents,
                "policy": self.policy.source,
                "plan_year": self.policy.plan_year,
                "week_of": self.monday.isoformat(),
                "languages": self.languages,
            },
            "hour": HOUR_RULE,
            "days": [(self.monday + timedelta(days=d)).isoformat() for d in range(7)],
            "states": {
                s: {"zone": zone, "zip": zip_code} for s, (zone, zip_code) in self.places.items()
            },
            "coverage": coverage,
            "gaps": gaps,
            "seconds": round(time.perf_counter() - self._started, 3),
        }


def stand_in_consumer(state: str, language: str, zip_code: str) -> Consumer:
    """A consumer of that state and language: contact fields are placeholders
    no rule may read (the vocabulary has no consumer name, phone or email)."""
    return Consumer(
        first_name="Coverage",
        last_name="Map",
        phone="+12025550123",
        email="coverage@example.com",
        zip=zip_code,
        language=language,
        state=state,
    )


def _among(wanted: list[str], allowed: dict | None) -> list[str]:
    return list(wanted) if allowed is None else [v for v in wanted if v in allowed]


def _other_keys_ok(allowed: dict[str, dict | None], facts: ConsumerFacts) -> bool:
    """Key terms on consumer fields other than state and language (a rule file
    keying on `consumer.zip`): checked against the stand-in consumer."""
    return all(
        values is None or getattr(facts, field) in values
        for field, values in allowed.items()
        if field not in ("state", "language")
    )


def count_coverage(
    agents: Iterable[Agent],
    policy: Policy,
    week_of: date,
    languages: Iterable[str],
    *,
    agents_file: str = "",
) -> dict:
    """The figures `hod coverage --json` prints, for agents already read.

    The cyclic collector is paused meanwhile: each agent's record is garbage
    a moment later, and full collections would rescan every agent held by
    the caller again and again (at 100k agents, half the time)."""
    counter = CoverageCounter(policy, week_of, languages)
    with gc_paused():
        for agent in agents:
            counter.add(agent)
    return counter.result(agents_file=agents_file)
