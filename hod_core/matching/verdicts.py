"""Every rule, in file order, on an agent: what explanations and the oracle need.

The matcher's search skips whole groups of agents and tests only the
per-moment rules; these functions do none of that. They answer "which rule
excluded whom" (`hod match --explain`), "why not this agent" (`--why`), and
the brute-force scan that the tests and the benchmark hold the search to.
"""

from __future__ import annotations

from collections.abc import Iterable

from hod_core.geo.distance import geodesic_km
from hod_core.matching.agent_records import AgentRecord
from hod_core.matching.match_facts import Query


def exclusions(records: dict[str, AgentRecord], rules, query: Query) -> dict[str, str]:
    """npn -> the first rule, in file order, each ineligible agent fails."""
    excluded = {}
    for npn, record in records.items():
        for rule in rules:
            if not rule.check(record, query):
                excluded[npn] = rule.id
                break
    return excluded


def why(record: AgentRecord, rules, query: Query) -> dict:
    """Every rule's verdict for one agent, its availability and its distance."""
    verdicts = [
        {"id": rule.id, "passed": bool(rule.check(record, query)), "description": rule.description}
        for rule in rules
    ]
    available, decided_by = record.plan.decide(query.clock(record.zone))
    facts = query.consumer
    return {
        "npn": record.npn,
        "eligible": all(r["passed"] for r in verdicts),
        "first_failing": next((r["id"] for r in verdicts if not r["passed"]), None),
        "rules": verdicts,
        "availability": {"available": available, "decided_by": decided_by, "zone": record.zone},
        "distance_km": round(geodesic_km(facts.lat, facts.lon, record.lat, record.lon), 3),
    }


def eligible(
    records: Iterable[AgentRecord], rules, query: Query
) -> list[tuple[float, AgentRecord]]:
    """(geodesic km, agent) for every agent passing every rule: no index, no search."""
    facts = query.consumer
    return [
        (geodesic_km(facts.lat, facts.lon, r.lat, r.lon), r)
        for r in records
        if all(rule.check(r, query) for rule in rules)
    ]
