"""Bringing agents in (R1-R5): import MLMS/NIPR-shaped records, then
invite them to register (R1). The command line (`hod agents import`,
`hod agents invite`) and the operator's pages both call these.

`import_agents` checks every line before it saves any: a bad line is one
`InputError` naming file, line and field, and nothing is imported. Then it
saves every agent in one store transaction: an import interrupted at any
point (Ctrl-C, a signal, the process killed) leaves the store as it was, or
holds all of the file.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from attrs import define, fields

from hod_core.domain.models import Agent
from hod_core.errors import InputError
from hod_core.matching.agent_records import agent_zone
from hod_core.wire import read_agents
from hod_core.wire.bulk import gc_paused

# What an agent sets in their own Profile and Availability Settings (seeds
# 001-002): a re-import keeps these for an agent who has registered, and
# takes the rest (name, email, licences, participation...) from the file.
AGENT_OWNED = (
    "phone",
    "contact_method",
    "zip",
    "languages",
    "state_preferences",
    "display_option",
    "timezone",
    "availability",
)
# What an operator or the router decided (L9) is never undone by an import.
KEPT_ALWAYS = ("suspended", "reinstated_at")
# progress(stage, done, total): stage "checking" (lines read) or "saving" (agents).
Progress = Callable[[str, int, int], None]


def import_agents(hod, path: Path, progress: Progress | None = None) -> dict:
    """Import a file: `plan_import`, then `ImportPlan.save`."""
    return plan_import(hod, path, progress).save()


def plan_import(hod, path: Path, progress: Progress | None = None) -> ImportPlan:
    """Every line of the file checked (the wire format, then that the agent can
    be placed: a known ZIP with a time zone) and merged with what is stored;
    nothing saved. A bad line raises one `InputError` naming file, line and
    field. R5: an agent's `participation.terms_accepted` says whether their
    registration is complete, whatever the file says, so nobody gets a
    referral before accepting both terms of use. `progress("checking", done,
    total)` as lines are checked."""
    with gc_paused():  # a bulk load: see hod_core.wire.bulk
        agents = _read_all(path, progress)
    accounts = {a.npn: a for a in hod.accounts.agent_accounts()}
    hod.router.sync_agents()
    counts = {"imported": len(agents), "new": 0, "updated": 0, "registered": 0}
    merged = []
    for agent in agents:
        stored = hod.router.loaded_agent(agent.npn)
        account = accounts.get(agent.npn)
        merged.append(_merged(agent, stored, account))
        counts["updated" if stored else "new"] += 1
        counts["registered"] += account is not None
    return ImportPlan(hod, path.name, merged, counts, progress)


@define
class ImportPlan:
    """The checked agents of one file, saved by `save` in one store transaction."""

    hod: Any
    file: str
    agents: list[Agent]
    counts: dict[str, int]
    progress: Progress | None = None

    def save(self) -> dict:
        """All the agents in one transaction (`Router.put_agents`): whatever
        interrupts it (an exception, a signal, the process killed), the store
        keeps all of them or none. Returns what was imported."""
        if self.progress:
            self.progress("saving", 0, len(self.agents))
        self.hod.router.put_agents(self.agents, actor="operator:import")
        if self.progress:
            self.progress("saving", len(self.agents), len(self.agents))
        return {"file": self.file, **self.counts}

    def is_saved(self) -> bool:
        """Whether the store holds every agent as `save` writes it: after an
        interruption inside `save`, which may come just after the store
        committed, this says which of all or none happened."""
        self.hod.router.sync_agents()
        loaded = self.hod.router.loaded_agent
        return bool(self.agents) and all(loaded(a.npn) == a for a in self.agents)


def _read_all(path: Path, progress: Progress | None) -> list[Agent]:
    """Every agent of the file, or the first bad line's InputError (file:line: field)."""
    if not path.is_file():
        raise InputError("no such file", source=str(path))
    total = _line_count(path) if progress else 0
    agents = []
    for line, agent in read_agents(path):  # the same NPN twice: an error naming both lines
        try:
            agent_zone(agent)  # what the matcher refuses: a ZIP with no location or time zone
        except InputError as exc:
            raise exc.located(source=path.name, line=line) from None
        agents.append(agent)
        if progress:
            progress("checking", line, total)
    return agents


def _line_count(path: Path) -> int:
    with path.open("rb") as lines:
        return sum(chunk.count(b"\n") for chunk in iter(lambda: lines.read(1 << 20), b""))


def _merged(agent: Agent, stored: Agent | None, account) -> Agent:
    changes = {}
    if stored is not None:
        owned = AGENT_OWNED if account is not None else ()
        changes = {name: getattr(stored, name) for name in (*owned, *KEPT_ALWAYS)}
    complete = account is not None and account.registration_complete
    if complete != agent.participation.terms_accepted:
        changes["participation"] = _evolved(agent.participation, terms_accepted=complete)
    changed = {k: v for k, v in changes.items() if getattr(agent, k) != v}
    return _evolved(agent, **changed) if changed else agent


def _evolved(value, **changes):
    """`attrs.evolve` without running the fields' converters again: every value
    here was checked when read from the file or the store, and checking 100k
    agents again would cost a second (the fields have no checks across them)."""
    kind = type(value)
    names = _FIELD_NAMES.get(kind) or _FIELD_NAMES.setdefault(kind, [f.name for f in fields(kind)])
    new = object.__new__(kind)
    put = object.__setattr__  # past frozen's __setattr__, as attrs' own __init__ does
    for name in names:
        put(new, name, changes[name] if name in changes else getattr(value, name))
    return new


_FIELD_NAMES: dict[type, list[str]] = {}


def invite_agents(hod, npns: list[str], everyone: bool, print_links: bool) -> dict:
    """R1: a fresh link to each agent (replacing a pending one), by email; none
    to an agent who already has an account."""
    if everyone == bool(npns):
        raise InputError("name the agents to invite (NPN...) or give --all, not both")
    if everyone:
        npns = hod.accounts.uninvited()
    hod.router.sync_agents()
    unknown = [npn for npn in npns if not hod.router.knows_agent(npn)]
    if unknown:
        raise InputError(f"no agent with NPN {', '.join(unknown)}: import them first")
    invited, skipped = [], []
    for npn in dict.fromkeys(npns):
        outcome = hod.accounts.invite(npn)
        if outcome.link is None:
            skipped.append({"npn": npn, "why": "has an account already (R1): logs in with it"})
            continue
        entry = {"npn": npn, "expires_at": outcome.expires_at.isoformat()}
        if print_links:
            entry["link"] = outcome.link
        invited.append(entry)
    hod.router.drain()
    return {"invited": invited, "skipped": skipped}
