"""Load, validate and compile a rule file into a `Policy`.

Every problem in the file is collected with its line before anything is
returned: a broken file raises one `PolicyError` listing them all and is
never half-loaded.
"""

from __future__ import annotations

import tomllib
from datetime import timedelta
from importlib import resources
from pathlib import Path
from typing import Any

from attrs import field, frozen

from hod_core.domain import limits, validate
from hod_core.domain.codes import US_STATES, WEEKDAYS
from hod_core.domain.models import Interval
from hod_core.errors import InputError, PolicyError
from hod_core.rules.capacity import check_capacity
from hod_core.rules.compile import Compiler, RuleProgram
from hod_core.rules.directory_policy import DirectoryPolicy, parse_directory
from hod_core.rules.expr import parse
from hod_core.rules.locate import Locator

DEFAULT_POLICY = "default.toml"
RANKING_KEYS = ("distance", "least_recently_offered", "npn")
RULE_KEYS = {"id", "description", "seed", "condition"}

# [policy] integer parameters: name -> smallest allowed value.
_COUNTS = {
    "plan_year": 2014,
    "offer_window_minutes": 1,
    "contact_target_minutes": 1,
    "contact_deadline_minutes": 1,
    "missed_alert_lookback_days": 1,
    "suspension_consecutive_missed": 1,
    "max_pending_offers_per_agent": 1,
    "max_wait_minutes": 0,
}
# Optional [policy] integer parameters (a rule file without them loads with
# the defaults): name -> (smallest allowed value, default).
_OPTIONAL_COUNTS = {
    "notify_max_attempts": (1, 4),
    "notify_retry_seconds": (1, 30),
    "notify_retry_max_seconds": (1, 240),
    # P2: days after a referral ends before its consumer's contact data is erased.
    "contact_retention_days": (0, 90),
}


@frozen
class Policy:
    """A compiled rule file: parameters, eligibility rules in order, ranking."""

    source: str
    plan_year: int
    offer_window: timedelta
    contact_target: timedelta
    contact_deadline: timedelta
    missed_alert_lookback: timedelta
    suspension_consecutive_missed: int
    max_pending_offers_per_agent: int
    max_wait: timedelta
    notify_max_attempts: int
    notify_retry: timedelta
    notify_retry_max: timedelta
    contact_retention: timedelta  # P2
    default_hours: dict[str, tuple[Interval, ...]]
    healthcare_gov_states: dict[int, frozenset[str]]
    health_names: frozenset[str]
    health_keywords: tuple[str, ...]
    ranking: tuple[str, ...]
    rules: tuple[RuleProgram, ...]
    directory: DirectoryPolicy = field(factory=DirectoryPolicy)  # Find Local Help (D1-D3)
    # LOA names repeat across agents: each distinct name is judged once.
    _health_memo: dict[str, bool] = field(factory=dict, init=False, eq=False, repr=False)

    def is_health_line(self, line_of_authority: str) -> bool:
        """E6: does a line of authority count as health under this policy?"""
        known = self._health_memo.get(line_of_authority)
        if known is None:
            name = line_of_authority.strip().casefold()
            known = name in self.health_names or any(k in name for k in self.health_keywords)
            self._health_memo[line_of_authority] = known
        return known

    def rule(self, rule_id: str) -> RuleProgram:
        return next(r for r in self.rules if r.id == rule_id)


def default_policy_text() -> str:
    return resources.files(__package__).joinpath(DEFAULT_POLICY).read_text(encoding="utf-8")


def load_policy(path: str | Path | None = None) -> Policy:
    """The shipped default policy, or the rule file at `path`."""
    if path is None:
        return parse_policy(default_policy_text(), source="default.toml (built in)")
    source = str(path)
    try:  # bounded and strict UTF-8 (limits), before TOML sees a byte
        text = limits.decode(
            limits.read_bytes(path, limits.MAX_RULE_FILE_BYTES, source=source), source=source
        )
    except InputError as exc:
        problem = InputError(f"cannot read rule file: {exc.message}", source=source, line=exc.line)
        raise PolicyError([problem]) from None
    return parse_policy(text, source=source)


def check_policy(path: str | Path) -> list[InputError]:
    """Every problem in a rule file (empty when it loads)."""
    try:
        load_policy(path)
    except PolicyError as exc:
        return exc.problems
    return []


def parse_policy(text: str, *, source: str) -> Policy:
    try:
        data = tomllib.loads(text)
        limits.check_structure(data, source=source, scalars=limits.TOML_SCALARS)
    except InputError as exc:  # too deep or too large, though valid TOML
        raise PolicyError([exc]) from None
    except RecursionError:  # tomllib recurses per nesting level
        problem = InputError(f"nested deeper than {limits.MAX_DEPTH} levels", source=source)
        raise PolicyError([problem]) from None
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        line = None
        if "(at line " in message:
            line = int(message.rsplit("(at line ", 1)[1].split(",")[0])
            message = message.rsplit(" (at line ", 1)[0]
        raise PolicyError(
            [InputError(f"not valid TOML: {message}", source=source, line=line)]
        ) from None
    return _Loader(text, source).load(data)


class _Loader:
    def __init__(self, text: str, source: str):
        self.where = Locator(text)
        self.source = source
        self.problems: list[InputError] = []

    def problem(self, message: str, field: str, line: int | None):
        self.problems.append(InputError(message, field=field, source=self.source, line=line))

    def load(self, data: dict[str, Any]) -> Policy:
        for key in set(data) - {"policy", "rules", "ranking", "directory"}:
            self.problem(
                "unknown table (expected policy, ranking, rules, directory)",
                key,
                self.where.line(key),
            )
        params = self.parameters(data.get("policy"))
        ranking = self.ranking(data.get("ranking", {}))
        # Rules see every parameter as written, so one bad value is reported
        # once, at its own line, not again in each rule that names it.
        raw = data.get("policy") if isinstance(data.get("policy"), dict) else {}
        rules = self.rules(data.get("rules"), {**raw, **params})
        declared = {e.get("id") for e in data.get("rules") or () if isinstance(e, dict)}
        check_capacity(rules, declared, self.problem)  # E12: the store's capacity, no other
        directory = parse_directory(
            data.get("directory"),
            {e.get("id") for e in data.get("rules") or () if isinstance(e, dict)},
            self.problem,
            lambda key: self.where.line("directory", key),
        )
        if self.problems:
            raise PolicyError(self.problems)
        minutes = lambda name: timedelta(minutes=params[name])  # noqa: E731
        health = params["health_lines_of_authority"]
        return Policy(
            source=self.source,
            plan_year=params["plan_year"],
            offer_window=minutes("offer_window_minutes"),
            contact_target=minutes("contact_target_minutes"),
            contact_deadline=minutes("contact_deadline_minutes"),
            missed_alert_lookback=timedelta(days=params["missed_alert_lookback_days"]),
            suspension_consecutive_missed=params["suspension_consecutive_missed"],
            max_pending_offers_per_agent=params["max_pending_offers_per_agent"],
            max_wait=minutes("max_wait_minutes"),
            notify_max_attempts=params["notify_max_attempts"],
            notify_retry=timedelta(seconds=params["notify_retry_seconds"]),
            notify_retry_max=timedelta(seconds=params["notify_retry_max_seconds"]),
            contact_retention=timedelta(days=params["contact_retention_days"]),
            default_hours=params["default_hours"],
            healthcare_gov_states={
                y: frozenset(s) for y, s in params["healthcare_gov_states"].items()
            },
            health_names=frozenset(n.casefold() for n in health["names"]),
            health_keywords=tuple(k.casefold() for k in health["keywords"]),
            ranking=ranking,
            rules=tuple(rules),
            directory=directory,
        )

    def is_table(self, table: Any, section: str, what: str) -> bool:
        """Report a missing (or not-a-table) section of [policy]."""
        if isinstance(table, dict):
            return True
        self.problem(f"missing table of {what}", section, self.where.line("policy"))
        return False

    # -- [policy] ---------------------------------------------------------
    def parameters(self, table: Any) -> dict[str, Any]:
        if not isinstance(table, dict):
            self.problem("missing [policy] table", "policy", None)
            return {}
        params: dict[str, Any] = {}
        line = lambda key: self.where.line("policy", key)  # noqa: E731
        optional = {key: default for key, (_, default) in _OPTIONAL_COUNTS.items()}
        minimums = {**_COUNTS, **{key: low for key, (low, _) in _OPTIONAL_COUNTS.items()}}
        for key, minimum in minimums.items():
            value = table.get(key, optional.get(key))
            if value is None:
                self.problem(
                    "required parameter missing", f"policy.{key}", self.where.line("policy")
                )
            elif not isinstance(value, int) or isinstance(value, bool) or value < minimum:
                self.problem(
                    f"must be a whole number >= {minimum}, got {value!r}",
                    f"policy.{key}",
                    line(key),
                )
            else:
                params[key] = value
        if params.get("notify_retry_max_seconds", 0) < params.get("notify_retry_seconds", 0):
            self.problem(
                "must not be shorter than notify_retry_seconds",
                "policy.notify_retry_max_seconds",
                line("notify_retry_max_seconds"),
            )
        if params.get("contact_deadline_minutes", 0) < params.get("contact_target_minutes", 0):
            self.problem(
                "must not be shorter than contact_target_minutes",
                "policy.contact_deadline_minutes",
                line("contact_deadline_minutes"),
            )
        params["default_hours"] = self.hours(table.get("default_hours"))
        params["healthcare_gov_states"] = self.state_lists(
            table.get("healthcare_gov_states"), params.get("plan_year")
        )
        params["health_lines_of_authority"] = self.health_lines(
            table.get("health_lines_of_authority")
        )
        known = set(minimums) | {
            "default_hours",
            "healthcare_gov_states",
            "health_lines_of_authority",
        }
        for key in sorted(set(table) - known):
            self.problem("unknown parameter", f"policy.{key}", line(key))
        return params

    def hours(self, table: Any) -> dict[str, tuple[Interval, ...]]:
        hours: dict[str, tuple[Interval, ...]] = {}
        if not self.is_table(table, "policy.default_hours", "default hours (A4)"):
            return hours
        for day, intervals in table.items():
            field = f"policy.default_hours.{day}"
            line = self.where.line("policy.default_hours", day)
            try:
                validate.weekday(day)
                hours[day] = tuple(
                    Interval(validate.minutes_of_day(start), validate.minutes_of_day(end))
                    for start, end in intervals
                )
            except InputError as exc:
                self.problem(exc.message, field, line)
            except (TypeError, ValueError):
                self.problem('expected a list of ["HH:MM", "HH:MM"] pairs', field, line)
        return {day: hours[day] for day in WEEKDAYS if day in hours}

    def state_lists(self, table: Any, plan_year: int | None) -> dict[int, list[str]]:
        lists: dict[int, list[str]] = {}
        section = "policy.healthcare_gov_states"
        if not self.is_table(table, section, "HealthCare.gov states per plan year (E5)"):
            return lists
        for year, states in table.items():
            line = self.where.line(section, year)
            if not year.isdigit():
                self.problem("keys are plan years, e.g. 2026", f"{section}.{year}", line)
                continue
            bad = (
                [s for s in states if not isinstance(s, str) or s not in US_STATES]
                if isinstance(states, list)
                else [states]
            )
            if bad:
                self.problem(
                    f"unknown state code(s): {', '.join(map(str, bad))}", f"{section}.{year}", line
                )
                continue
            lists[int(year)] = states
        if plan_year is not None and plan_year not in lists and isinstance(table, dict):
            self.problem(
                f"no state list for plan_year {plan_year}", section, self.where.line(section)
            )
        return lists

    def health_lines(self, table: Any) -> dict[str, list[str]]:
        section = "policy.health_lines_of_authority"
        result = {"names": [], "keywords": []}
        if not self.is_table(
            table, section, "names and keywords of health lines of authority (E6)"
        ):
            return result
        for key in result:
            value = table.get(key, [])
            if not isinstance(value, list) or not all(
                isinstance(v, str) and v.strip() for v in value
            ):
                self.problem(
                    "expected a list of non-empty strings",
                    f"{section}.{key}",
                    self.where.line(section, key),
                )
            else:
                result[key] = value
        if not result["names"] and not result["keywords"]:
            self.problem(
                "no names or keywords: no licence would count as health",
                section,
                self.where.line(section),
            )
        return result

    # -- [ranking] --------------------------------------------------------
    def ranking(self, table: Any) -> tuple[str, ...]:
        order = table.get("order", list(RANKING_KEYS)) if isinstance(table, dict) else None
        line = self.where.line("ranking", "order")
        if not isinstance(order, list) or not order:
            self.problem(
                f"expected a list drawn from {', '.join(RANKING_KEYS)}", "ranking.order", line
            )
            return RANKING_KEYS
        unknown = [k for k in order if k not in RANKING_KEYS]
        if unknown:
            self.problem(
                f"unknown ranking key(s) {unknown} (known: {', '.join(RANKING_KEYS)})",
                "ranking.order",
                line,
            )
        elif order[0] != "distance" or len(set(order)) != len(order):
            self.problem('"distance" must come first, and no key twice', "ranking.order", line)
        return tuple(dict.fromkeys([*order, "npn"]))  # npn always settles the last tie

    # -- [[rules]] --------------------------------------------------------
    def rules(self, entries: Any, params: dict[str, Any]) -> list[RuleProgram]:
        if not isinstance(entries, list) or not entries:
            self.problem("no [[rules]] entries: every agent would be eligible", "rules", None)
            return []
        constants = dict(params)
        seen: dict[str, int] = {}
        programs = []
        for index, entry in enumerate(entries):
            block_line = self.where.line("rules", index=index)
            label = f"rules[{index}]"
            if not isinstance(entry, dict):
                self.problem("expected a table", label, block_line)
                continue
            rule_id = entry.get("id")
            if isinstance(rule_id, str) and rule_id:
                label = f"rules.{rule_id}"
                if rule_id in seen:
                    self.problem(
                        f"duplicate rule id (first at line {seen[rule_id]})", label, block_line
                    )
                seen[rule_id] = block_line
            else:
                self.problem(
                    'every rule needs a non-empty string id, e.g. "E1"', f"{label}.id", block_line
                )
            for key in sorted(set(entry) - RULE_KEYS):
                self.problem(
                    "unknown key (expected id, description, seed, condition)",
                    f"{label}.{key}",
                    self.where.line("rules", key, index),
                )
            condition = entry.get("condition")
            cond_line = self.where.line("rules", "condition", index) or block_line
            if not isinstance(condition, str) or not condition.strip():
                self.problem(
                    "missing condition (a CEL expression)", f"{label}.condition", cond_line
                )
                continue
            offset = cond_line - 1 + (1 if self.where.value_starts_on_next_line(cond_line) else 0)
            try:
                node = parse(condition, line_offset=offset)
                programs.append(
                    Compiler(constants, cond_line).rule(
                        node,
                        id=str(rule_id),
                        description=str(entry.get("description", "")),
                        seed=str(entry.get("seed", "")),
                        condition=condition.strip(),
                    )
                )
            except InputError as exc:
                self.problem(exc.message, f"{label}.condition", exc.line or cond_line)
        return programs
