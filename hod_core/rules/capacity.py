"""Capacity (E12) has one home: `policy.max_pending_offers_per_agent`.

The store enforces capacity inside each commit (`hod_store_commit`'s
`max_pending`), because only there can two processes offering the same agent
at the same moment be told apart. The rule file's E12 lets the matcher skip
full agents up front and `why` name the rule; it must say exactly what the
store enforces. A file whose E12 says anything else (`< 2` beside a
parameter of 1, `<=`, an extra condition) would match agents the store then
refuses, or skip agents the store would take, so it is refused with the
condition to write instead; a second rule naming `agent.pending_offers`
would be a second capacity, and is refused too. The number lives in one
place: `max_pending_offers_per_agent` in [policy].
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator, Sequence

import attrs

from hod_core.rules.compile import RuleProgram
from hod_core.rules.expr import Binary, Node, Var, parse

CAPACITY_RULE = "E12"
PENDING = ("agent", "pending_offers")
CAPACITY = ("policy", "max_pending_offers_per_agent")
CANONICAL = "agent.pending_offers < policy.max_pending_offers_per_agent"


def check_capacity(
    rules: Sequence[RuleProgram],
    declared: Collection[str],
    problem: Callable[[str, str, int | None], None],
) -> None:
    """Report, through `problem(message, field, line)`, a rule file whose
    capacity the store would not enforce. `rules`: those that compiled;
    `declared`: every rule id the file declares."""
    for rule in rules:
        node = parse(rule.condition)
        field = f"rules.{rule.id}.condition"
        if rule.id == CAPACITY_RULE:
            if not _is_canonical(node):
                problem(
                    f"must read `{CANONICAL}`, the capacity the store enforces; "
                    "set the number in [policy]",
                    field,
                    rule.line,
                )
        elif any(v.path[:2] == PENDING for v in _variables(node)):
            problem(
                "only E12 may name agent.pending_offers: capacity is "
                "[policy] max_pending_offers_per_agent, enforced by the store",
                field,
                rule.line,
            )
    if CAPACITY_RULE not in declared:
        problem(
            f"rule E12 is missing: write `{CANONICAL}` (the store enforces it anyway)",
            "rules",
            None,
        )


def _is_canonical(node: Node) -> bool:
    return (
        isinstance(node, Binary)
        and node.op == "<"
        and isinstance(node.left, Var)
        and node.left.path == PENDING
        and isinstance(node.right, Var)
        and node.right.path == CAPACITY
    )


def _variables(node: Node) -> Iterator[Var]:
    """Every variable the condition names, however deep."""
    if isinstance(node, Var):
        yield node
    for value in attrs.astuple(node, recurse=False):
        for child in value if isinstance(value, tuple) else (value,):
            if isinstance(child, Node):
                yield from _variables(child)
