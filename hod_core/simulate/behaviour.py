"""How simulated agents answer offers: accept, reject or let it expire, and when.

Each offered agent accepts with probability `accept`, rejects with `reject`,
or ignores the offer (`ignore`; it expires, L5). An agent who answers takes
a time drawn from a log-normal distribution set by its median and 90th
percentile in minutes (most answer within minutes, a few take long); an
answer that would come at or after the offer's expiry never comes: the offer
is missed, as it would be in production. `median_minutes == p90_minutes`
makes the time fixed.

The defaults are ours, not measured (no public figures exist): 60% accept,
15% reject, 25% ignore; a median of 4 minutes and a 90th percentile of 11.
A TOML file overrides them for all agents and per agent:

    [all]
    accept = 0.5
    reject = 0.2
    ignore = 0.3

    [agent."17294003"]      # this agent never answers
    accept = 0
    reject = 0
    ignore = 1

Draws: every (request, agent) pair has its own random stream, seeded from
the run's seed, the request's place in the demand and the NPN. A second
policy that offers a referral to other agents, or in another order, does not
shift anyone else's draws: the same agent offered the same request decides
the same way under both policies.
"""

from __future__ import annotations

import math
import random
import tomllib
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any

from attrs import asdict, evolve, frozen

from hod_core.domain import limits, validate
from hod_core.errors import InputError
from hod_core.rules.locate import Locator

Z90 = 1.2815515655446004  # the standard normal's 90th percentile
ACTIONS = ("accept", "reject", "ignore")
FIELDS = (*ACTIONS, "median_minutes", "p90_minutes")


@frozen
class Behaviour:
    accept: float = 0.60
    reject: float = 0.15
    ignore: float = 0.25
    median_minutes: float = 4.0
    p90_minutes: float = 11.0

    def problem(self) -> tuple[str, str] | None:
        """(field, what is wrong), or None when the behaviour is sound."""
        for name in ACTIONS:
            if not 0 <= getattr(self, name) <= 1:
                return name, "must be between 0 and 1"
        if abs(self.accept + self.reject + self.ignore - 1) > 1e-9:
            total = self.accept + self.reject + self.ignore
            return "ignore", f"accept + reject + ignore must be 1, got {total:g}"
        if not 0 < self.median_minutes <= 24 * 60:
            return "median_minutes", "must be more than 0 and at most 1440"
        if not self.median_minutes <= self.p90_minutes <= 24 * 60:
            return "p90_minutes", "must be at least median_minutes and at most 1440"
        return None

    @property
    def sigma(self) -> float:
        return math.log(self.p90_minutes / self.median_minutes) / Z90


@frozen
class Answer:
    """What one agent does with one offer: "accept", "reject" or "ignore", and
    after how long (None for ignore)."""

    action: str
    after: timedelta | None


@frozen
class Behaviours:
    """The behaviour of every agent: `all`, and `agents` overriding it by NPN."""

    all: Behaviour = Behaviour()
    agents: Mapping[str, Behaviour] = {}
    source: str | None = None

    def of(self, npn: str) -> Behaviour:
        return self.agents.get(npn, self.all)

    def answer(self, seed: int, request_index: int, npn: str) -> Answer:
        """The agent's answer to the offer of request number `request_index`:
        the same for the same seed, request and agent, whatever else happened."""
        b = self.of(npn)
        rng = random.Random(f"{seed}/{request_index}/{npn}")
        roll = rng.random()
        if roll >= b.accept + b.reject:
            return Answer("ignore", None)
        minutes = (
            b.median_minutes * math.exp(b.sigma * rng.gauss()) if b.sigma else b.median_minutes
        )
        return Answer("accept" if roll < b.accept else "reject", timedelta(minutes=minutes))

    def describe(self) -> dict[str, Any]:
        """For the figures' `inputs`."""
        return {"all": asdict(self.all), "agents_overridden": len(self.agents), "file": self.source}


def load_behaviour(path: str | Path) -> Behaviours:
    """A behaviour TOML file; a bad one is an InputError naming file:line and field."""
    path = Path(path)
    source = path.name
    text = limits.decode(
        limits.read_bytes(path, limits.MAX_RULE_FILE_BYTES, source=source), source=source
    )
    try:
        data = tomllib.loads(text)
        limits.check_structure(data, source=source, scalars=limits.TOML_SCALARS)
    except tomllib.TOMLDecodeError as exc:
        message, _, where = str(exc).partition(" (at line ")
        line = int(where.split(",")[0]) if where else None
        raise InputError(f"not valid TOML: {message}", source=source, line=line) from None
    where = Locator(text)

    def fail(message: str, field: str, table: str, key: str | None = None):
        raise InputError(message, field=field, source=source, line=where.line(table, key))

    for key in data:
        if key not in ("all", "agent"):
            fail('unknown table (expected [all] or [agent."NPN"])', key, "", key)
    everyone = _behaviour(Behaviour(), data.get("all", {}), "all", "all", fail)
    agents = data.get("agent", {})
    if not isinstance(agents, dict):
        fail("must be a table of agents by NPN", "agent", "", "agent")
    overrides = {}
    for npn, table in agents.items():
        header = f'agent."{npn}"' if f'agent."{npn}"' in text else f"agent.{npn}"
        try:
            npn = validate.npn(npn)
        except InputError as exc:
            fail(exc.message, f"agent.{npn[:20]}", header)
        overrides[npn] = _behaviour(everyone, table, f"agent.{npn}", header, fail)
    return Behaviours(everyone, overrides, source)


def _behaviour(base: Behaviour, table: Any, field: str, header: str, fail) -> Behaviour:
    if not isinstance(table, dict):
        fail("must be a table", field, "", field)
    changes = {}
    for key, value in table.items():
        if key not in FIELDS:
            fail(
                f"unknown key (expected one of {', '.join(FIELDS)})", f"{field}.{key}", header, key
            )
        if isinstance(value, bool) or not isinstance(value, int | float):
            fail("must be a number", f"{field}.{key}", header, key)
        changes[key] = float(value)
    given = set(changes) & set(ACTIONS)
    if given and given != set(ACTIONS):  # a split is given whole: no guessing the rest
        missing = sorted(set(ACTIONS) - given)[0]
        fail(
            "give accept, reject and ignore together (they add up to 1)",
            f"{field}.{missing}",
            header,
        )
    behaviour = evolve(base, **changes)
    problem = behaviour.problem()
    if problem:
        key, message = problem
        fail(message, f"{field}.{key}", header, key)
    return behaviour
