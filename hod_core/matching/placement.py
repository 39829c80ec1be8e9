"""Which of the matcher's buckets an agent belongs in, from the rule file's keys.

A bucket is keyed by the consumer fields the rules' key terms name, by
default (state, language). An agent's keys are the values each field's
terms admit (intersected, each with the day it lapses), one key per
combination; a field no term restricts is "*", any consumer value. An agent
failing an agent-only (static) rule belongs in no bucket.

With the shipped rule file, the static rules are E1-E4 and the key terms
E6-E9: this is where an agent's licensed states (E6), home state under
display option 3 (E7), State Preferences (E8) and languages (E9) decide which
requests can reach it at all.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from datetime import date
from operator import attrgetter

from hod_core.matching.agent_records import AgentRecord
from hod_core.rules.compile import WILDCARD, all_of

ANY = "*"
_ANY_VALUE = {ANY: None}  # a key field no term restricts: any consumer value


class Placement:
    """An agent record -> [(bucket key, the day it lapses)], one shared tuple per key."""

    def __init__(self, rules):
        self.fields = tuple(sorted({k.field for r in rules for k in r.keys}))
        self.consumer_key = _key_reader(self.fields)  # consumer facts -> their bucket key
        self._field_terms = [
            [k for r in rules for k in r.keys if k.field == f] for f in self.fields
        ]
        self._static = [(r.id, r.static) for r in rules if r.static]
        self._all_static = all_of([check for _, check in self._static])  # one call when all pass
        self._keys: dict[tuple, tuple] = {}  # one tuple object per member key
        self.wild_keys: set[tuple] = set()  # member keys holding a wildcard

    def __call__(self, record: AgentRecord) -> list[tuple[tuple, date | None]]:
        if self._all_static is not None and not self._all_static(record, None):
            record.static_failure = next(
                rule_id for rule_id, check in self._static if not check(record, None)
            )
            return []
        per_field = []
        for terms in self._field_terms:
            allowed: dict | None = None  # None: any value of this consumer field
            for term in terms:
                values = term.values(record)  # a dict of its own, read and never changed here
                if values is WILDCARD:
                    continue
                allowed = values if allowed is None else _intersect(allowed, values)
            if allowed is None:
                allowed = _ANY_VALUE
            elif not allowed:
                return []  # no value of this field admits the agent: in no bucket
            per_field.append(allowed)
        keys, placements = self._keys, []
        if len(per_field) == 2:  # the usual (state, language): no product machinery
            first, second = per_field
            for a, ua in first.items():
                for b, ub in second.items():
                    shared = keys.get(key := (a, b))
                    if shared is None:
                        shared = self._new_key(key)
                    placements.append(
                        (shared, ua if ub is None else ub if ua is None or ub < ua else ua)
                    )
            return placements
        for combo in itertools.product(*(f.items() for f in per_field)):
            key = tuple([value for value, _ in combo])
            shared = keys.get(key)
            if shared is None:
                shared = self._new_key(key)
            placements.append((shared, _earliest([until for _, until in combo])))
        return placements

    def _new_key(self, key: tuple) -> tuple:
        """The one tuple of a bucket key, kept: placements share it, not a copy per agent."""
        self._keys[key] = key
        if ANY in key:
            self.wild_keys.add(key)
        return key

    def wilds_covering(self, key: tuple) -> list[tuple]:
        """The wildcard member keys whose agents also belong in bucket `key`."""
        return [wild for wild in self.wild_keys if covers(wild, key)]


def covers(member_key: tuple, key: tuple) -> bool:
    """Whether agents placed under `member_key` belong in the bucket `key`."""
    return all(m in (ANY, k) for m, k in zip(member_key, key, strict=True))


def _key_reader(fields: tuple[str, ...]):
    """consumer facts -> the tuple of their values for the key fields."""
    if len(fields) > 1:
        return attrgetter(*fields)  # a tuple already, and fast
    return lambda facts: tuple(getattr(facts, f) for f in fields)


def _intersect(allowed: dict, values: dict) -> dict:
    return {v: _earliest((allowed[v], values[v])) for v in allowed if v in values}


def _earliest(untils: Iterable[date | None]) -> date | None:
    earliest = None
    for until in untils:
        if until is not None and (earliest is None or until < earliest):
            earliest = until
    return earliest
