"""Bringing agents in (R1-R5): import MLMS/NIPR-shaped records, then
invite them to register (R1). The command line (`hod agents import`,
`hod agents invite`) and the operator's pages both call these.

`import_agents` checks every line before it saves any: a bad line is one
`InputError` naming file, line and field, and nothing is imported.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from attrs import evolve

from hod_core.domain.models import Agent
from hod_core.errors import InputError
from hod_core.matching.matcher import Matcher
from hod_core.wire import read_agents

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


def import_agents(hod, path: Path, progress: Callable[[int, int], None] | None = None) -> dict:
    """Every line checked (the wire format, then that the agent can be placed:
    a known ZIP with a time zone), then saved through the router. R5: an
    agent's `participation.terms_accepted` says whether their registration
    is complete, whatever the file says, so nobody gets a referral before
    accepting both terms of use. `progress(done, total)` after each save."""
    agents = _read_all(path, hod.router.policy)
    accounts = {a.npn: a for a in hod.accounts.agent_accounts()}
    hod.router.sync_agents()
    counts = {"imported": 0, "new": 0, "updated": 0, "registered": 0}
    for agent in agents:
        stored = hod.router.loaded_agent(agent.npn)
        account = accounts.get(agent.npn)
        hod.router.put_agent(_merged(agent, stored, account), actor="operator:import")
        counts["imported"] += 1
        counts["updated" if stored else "new"] += 1
        counts["registered"] += account is not None
        if progress:
            progress(counts["imported"], len(agents))
    return {"file": path.name, **counts}


def _read_all(path: Path, policy) -> list[Agent]:
    """Every agent of the file, or the first bad line's InputError (file:line: field)."""
    if not path.is_file():
        raise InputError("no such file", source=str(path))
    scratch = Matcher(policy)
    agents = []
    for line, agent in read_agents(path):  # the same NPN twice: an error naming both lines
        try:
            scratch.add(agent)  # a ZIP with no location or time zone is refused here
        except InputError as exc:
            raise exc.located(source=path.name, line=line) from None
        agents.append(agent)
    return agents


def _merged(agent: Agent, stored: Agent | None, account) -> Agent:
    changes = {}
    if stored is not None:
        owned = AGENT_OWNED if account is not None else ()
        changes = {name: getattr(stored, name) for name in (*owned, *KEPT_ALWAYS)}
    complete = account is not None and account.registration_complete
    participation = evolve(agent.participation, terms_accepted=complete)
    return evolve(agent, participation=participation, **changes)


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
