"""The rule file's [directory] table: the policy of Find Local Help (D1-D3).

D1-D3 themselves (nearest first, the street address only for display option
1, option 3 only in the agent's home state, option 4 never) are what the
agents chose in the MLMS, so they are code, not policy. What a policy team
may tune lives here: the radius a search offers, how many listings a page
holds, how ties at one distance are broken, and which eligibility rules of
[[rules]] a listed agent must pass as well (by default participation
complete for the plan year, E1, and a HealthCare.gov state, E5).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from attrs import frozen

DIRECTORY_ORDER_KEYS = ("distance", "name", "npn")
_DEFAULTS: dict[str, Any] = {
    "radius_choices_miles": [5, 10, 25, 50, 100],
    "default_radius_miles": 25,
    "page_size": 20,
    "order": ["distance", "name", "npn"],
    "rules": ["E1", "E5"],
}


@frozen
class DirectoryPolicy:
    """Find Local Help as the rule file tunes it."""

    radius_choices_miles: tuple[int, ...] = tuple(_DEFAULTS["radius_choices_miles"])
    default_radius_miles: int = _DEFAULTS["default_radius_miles"]
    page_size: int = _DEFAULTS["page_size"]
    order: tuple[str, ...] = tuple(_DEFAULTS["order"])
    rules: tuple[str, ...] = tuple(_DEFAULTS["rules"])

    @property
    def max_radius_miles(self) -> int:
        return max(self.radius_choices_miles)


def parse_directory(
    table: Any,
    rule_ids: set[str],
    problem: Callable[[str, str, int | None], None],
    line: Callable[[str], int | None],
) -> DirectoryPolicy:
    """[directory] -> DirectoryPolicy; every problem reported through `problem`.

    An absent table is the defaults, so a rule file without [directory]
    loads. `rule_ids` are the ids of [[rules]].
    """
    if table is None:
        table = {}
    if not isinstance(table, dict):
        problem("expected a table", "directory", None)
        return DirectoryPolicy()
    values = {**_DEFAULTS, **table}
    for key in sorted(set(table) - set(_DEFAULTS)):
        problem(f"unknown key (expected {', '.join(_DEFAULTS)})", f"directory.{key}", line(key))
    ok = True

    def bad(key: str, message: str) -> None:
        nonlocal ok
        ok = False
        problem(message, f"directory.{key}", line(key))

    choices = values["radius_choices_miles"]
    if not isinstance(choices, list) or not choices or not all(_positive(c) for c in choices):
        bad("radius_choices_miles", "expected a non-empty list of whole numbers of miles >= 1")
        choices = _DEFAULTS["radius_choices_miles"]
    radius = values["default_radius_miles"]
    if radius not in choices or not _positive(radius):
        bad("default_radius_miles", f"must be one of radius_choices_miles {choices}")
    if not _positive(values["page_size"]):
        bad("page_size", f"must be a whole number >= 1, got {values['page_size']!r}")
    order = values["order"]
    if (
        not isinstance(order, list)
        or not order
        or order[0] != "distance"
        or any(k not in DIRECTORY_ORDER_KEYS for k in order)
        or len(set(order)) != len(order)
    ):
        bad(
            "order",
            f'expected "distance" first, then keys from {", ".join(DIRECTORY_ORDER_KEYS)}, '
            "none twice",
        )
    rules = values["rules"]
    if not isinstance(rules, list) or not all(isinstance(r, str) for r in rules):
        bad("rules", 'expected a list of rule ids from [[rules]], e.g. ["E1", "E5"]')
    else:
        unknown = [r for r in rules if r not in rule_ids]
        if unknown and rule_ids:  # no rules at all is reported once, by [[rules]]
            bad("rules", f"unknown rule id(s) {unknown}: not in [[rules]]")
    if not ok:
        return DirectoryPolicy()
    return DirectoryPolicy(
        radius_choices_miles=tuple(sorted(set(choices))),
        default_radius_miles=radius,
        page_size=values["page_size"],
        order=tuple(dict.fromkeys([*order, "npn"])),  # the NPN settles the last tie
        rules=tuple(rules),
    )


def _positive(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 1
