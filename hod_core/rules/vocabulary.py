"""The facts a rule condition may name, with their types and where they come from.

This table is the contract between the rule file and the matcher: a policy
author reads it (it is printed in docs/rule-file.md) to know what `agent.languages`
means; the compiler reads it to type-check conditions and to decide which
parts of a rule can be answered by an index, which once per agent, and which
per candidate at match time.

Kinds:
- static:   depends on the agent record only; evaluated once when an agent is
            added or updated.
- dated:    a static set of values, each valid until a date (licences expire);
            usable as an index key, re-checked against the match date.
- dynamic:  depends on the agent and the moment (availability, open offers).
- consumer: the Get Contacted request.
- referral: the referral being placed (who was already offered it).
- policy:   a constant from the rule file's [policy] table, folded at compile time.
"""

from __future__ import annotations

from collections.abc import Callable
from operator import attrgetter
from typing import Any

from attrs import frozen

# (agent record, query) -> value. Written out as plain lambdas, not built from
# attrgetter, because they run per candidate and every call level counts. The
# agent's own fields are read from the record's agent (`a.agent.home_state`),
# but for the few the record keeps as slots (npn, zip, display option; see
# matching.agent_records.AgentRecord, which keeps only what it converts, derives or groups by).
Getter = Callable[[Any, Any], Any]


@frozen
class Fact:
    name: str
    type: str  # bool, int, string, list<string>, ... ; a trailing ? = may be null
    kind: str
    doc: str
    getter: Getter
    # For "dated" facts: record -> {value: valid-until date or None}, for the index.
    dated_values: Callable[[Any], dict] | None = None


# The shipped rule file reads: participation (E1), terms_accepted (E2),
# suspended (E3), display_option (E4, E7, E8), health_license_states (E6),
# home_state (E7), state_preferences (E8), languages (E9), available (E10),
# pending_offers (E12), and referral.offered_npns (E11).
AGENT_FACTS = (
    Fact("agent.npn", "string", "static", "National Producer Number", lambda a, q: a.npn),
    Fact("agent.zip", "string", "static", "the agent's ZIP code", lambda a, q: a.zip),
    Fact(
        "agent.home_state",
        "string",
        "static",
        "resident (home) state",
        lambda a, q: a.agent.home_state,
    ),
    Fact(
        "agent.display_option",
        "int",
        "static",
        "MLMS display option 1-4",
        lambda a, q: a.display_option,
    ),
    Fact(
        "agent.languages",
        "list<string>",
        "static",
        "ISO 639-1 codes the agent speaks",
        lambda a, q: a.agent.languages,
    ),
    Fact(
        "agent.state_preferences",
        "list<string>?",
        "static",
        "states the agent wants referrals from; null = never narrowed",
        lambda a, q: a.agent.state_preferences,
    ),
    Fact("agent.suspended", "bool", "static", "account suspended", lambda a, q: a.agent.suspended),
    Fact(
        "agent.contact_method",
        "string",
        "static",
        "preferred contact method",
        lambda a, q: a.agent.contact_method._value_,  # .value is a slow descriptor
    ),
    Fact(
        "agent.timezone",
        "string",
        "static",
        "IANA zone (given, or from the ZIP)",
        lambda a, q: a.zone,
    ),
    Fact(
        "agent.participation.plan_year",
        "int",
        "static",
        "plan year of the completed Marketplace registration and agreements",
        lambda a, q: a.agent.participation.plan_year,
    ),
    Fact(
        "agent.participation.hod_training",
        "bool",
        "static",
        "Help On Demand course done",
        lambda a, q: a.agent.participation.hod_training,
    ),
    Fact(
        "agent.participation.npn_on_ffm_list",
        "bool",
        "static",
        "NPN valid on the FFM registration completion list",
        lambda a, q: a.agent.participation.npn_on_ffm_list,
    ),
    Fact(
        "agent.participation.terms_accepted",
        "bool",
        "static",
        "both terms of use accepted",
        lambda a, q: a.agent.participation.terms_accepted,
    ),
    Fact(
        "agent.health_license_states",
        "list<string>",
        "dated",
        "states of active licences with a health line of authority "
        "(policy.health_lines_of_authority), not expired on the agent's local date",
        lambda a, q: q.valid_health_states(a),
        dated_values=attrgetter("health_licenses"),
    ),
    Fact(
        "agent.available",
        "bool",
        "dynamic",
        "available now by A1-A4 in the agent's zone",
        lambda a, q: q.available(a),
    ),
    Fact(
        "agent.pending_offers",
        "int",
        "dynamic",
        "offers the agent holds right now (Pending)",
        lambda a, q: q.pending_offers_of(a.npn),
    ),
)

CONSUMER_FACTS = (
    Fact(
        "consumer.state",
        "string",
        "consumer",
        "state of residence (given, or from the ZIP)",
        lambda a, q: q.consumer.state,
    ),
    Fact(
        "consumer.language",
        "string",
        "consumer",
        "ISO 639-1 language requested",
        lambda a, q: q.consumer.language,
    ),
    Fact(
        "consumer.zip", "string", "consumer", "the consumer's ZIP code", lambda a, q: q.consumer.zip
    ),
)

REFERRAL_FACTS = (
    Fact(
        "referral.offered_npns",
        "list<string>",
        "referral",
        "agents already offered this referral (rejected, missed or pending)",
        lambda a, q: q.offered_npns,
    ),
)

FACTS: dict[str, Fact] = {f.name: f for f in (*AGENT_FACTS, *CONSUMER_FACTS, *REFERRAL_FACTS)}
ROOTS = ("agent", "consumer", "referral", "policy")


def policy_type(value: Any) -> str:
    """The rule-language type of a policy constant."""
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "double"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list | tuple | frozenset):
        inner = {policy_type(v) for v in value}
        return f"list<{inner.pop() if len(inner) == 1 else 'dyn'}>"
    if isinstance(value, dict):
        keys = {policy_type(k) for k in value}
        values = {policy_type(v) for v in value.values()}
        key = keys.pop() if len(keys) == 1 else "dyn"
        val = values.pop() if len(values) == 1 else "dyn"
        return f"map<{key},{val}>"
    return "dyn"
