"""The ranking's tie-break: among agents at one distance, the rule file's
[ranking] order after "distance" (least recently offered, then NPN)."""

from __future__ import annotations

from hod_core.matching.agent_records import AgentRecord
from hod_core.matching.match_facts import Query


def tie_break(order: tuple[str, ...]):
    """query -> the sort key of (km, record) among agents at one distance: the
    rule file's [ranking] order after "distance" (which the policy insists
    comes first, and which is the same for all of them).

    A crowded centroid ties a hundred agents or more, so the default order
    gets a key written out: one call per agent instead of one per part."""
    names = tuple(name for name in order if name != "distance")
    if names == ("least_recently_offered", "npn"):

        def default(query: Query):
            last_offered_at = query.offers.last_offered_at

            def key(pair: tuple[float, AgentRecord]) -> tuple:
                npn = pair[1].npn
                last = last_offered_at(npn)
                return (_NEVER if last is None else last.timestamp(), len(npn), npn)

            return key

        return default
    parts = [_TIE_KEYS[name] for name in names]

    def any_order(query: Query):
        return lambda pair: tuple(part(pair[1], query) for part in parts)

    return any_order


def _least_recently_offered(record: AgentRecord, query: Query) -> float:
    last = query.offers.last_offered_at(record.npn)
    return _NEVER if last is None else last.timestamp()  # never offered: first


_NEVER = float("-inf")
_TIE_KEYS = {
    "least_recently_offered": _least_recently_offered,
    "npn": lambda record, query: (len(record.npn), record.npn),  # numeric order of digits
    # ... the default order's key (in tie_break) flattens these two into one tuple
}
