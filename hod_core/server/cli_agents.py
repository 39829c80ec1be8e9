"""The operator's account tools (SPEC section 8):

    hod agents import FILE.jsonl            MLMS/NIPR-shaped agent records, one per line
    hod agents invite NPN... | --all [--print-links]
    hod operators add LOGIN [--password-file FILE] [--email ADDRESS]

They open the same store as `hod serve` (same settings: --config, --data-dir)
and print JSON. `import` checks every line before it saves any: a bad line
prints file, line and field and nothing is imported. No web framework here.
"""

from __future__ import annotations

import getpass
import sys
from pathlib import Path

from attrs import evolve

from ..errors import InputError
from ..matcher import Matcher
from ..models import Agent
from ..wire import read_jsonl
from .cli import _operator

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
PROGRESS_EVERY = 1000


def add_commands(commands, *, agents) -> None:
    """Add `agents import`, `agents invite` and `operators add` to `hod`."""
    importing = agents.add_parser("import", help="import agent records (JSONL): all or nothing")
    importing.add_argument("file", help="agents, one JSON object per line (SPEC section 7)")
    _operator(importing, lambda hod, a: import_agents(hod, Path(a.file)))

    invite = agents.add_parser("invite", help="email registration links (R1)")
    invite.add_argument("npns", nargs="*", metavar="NPN")
    invite.add_argument("--all", action="store_true", help="every agent without an account")
    invite.add_argument(
        "--print-links", action="store_true", help="print the links (for an operator without email)"
    )
    _operator(invite, lambda hod, a: invite_agents(hod, a.npns, a.all, a.print_links))

    operators = commands.add_parser("operators", help="operator accounts")
    operator_commands = operators.add_subparsers(dest="operators_command", required=True)
    add = operator_commands.add_parser("add", help="create an operator account")
    add.add_argument("login")
    add.add_argument("--password-file", help="read the password from this file's first line")
    add.add_argument("--email", help="where password reset links go")
    _operator(add, lambda hod, a: add_operator(hod, a.login, a.password_file, a.email))


# -- import ------------------------------------------------------------------------------
def import_agents(hod, path: Path) -> dict:
    """Every line checked (the wire format, then that the agent can be placed:
    a known ZIP with a time zone), then saved through the router. R5: an
    agent's `participation.terms_accepted` says whether their registration
    is complete, whatever the file says, so nobody gets a referral before
    accepting both terms of use."""
    agents = _read_all(path, hod.router.policy)
    accounts = {a.npn: a for a in hod.accounts.hook.hod_store_accounts(role="agent")}
    hod.router.sync_agents()
    roster = hod.router.matcher
    counts = {"imported": 0, "new": 0, "updated": 0, "registered": 0}
    progress = _Progress(len(agents), "importing agents")
    for agent in agents:
        stored = roster.agent(agent.npn) if agent.npn in roster else None
        account = accounts.get(agent.npn)
        hod.router.put_agent(_merged(agent, stored, account), actor="operator:import")
        counts["imported"] += 1
        counts["updated" if stored else "new"] += 1
        counts["registered"] += account is not None
        progress.step()
    progress.done()
    return {"file": path.name, **counts}


def _read_all(path: Path, policy) -> list[Agent]:
    """Every agent of the file, or the first bad line's InputError (file:line: field)."""
    if not path.is_file():
        raise InputError("no such file", source=str(path))
    scratch = Matcher(policy)
    seen: dict[str, int] = {}
    agents = []
    for line, agent in read_jsonl(path, Agent):
        if agent.npn in seen:
            raise InputError(
                f"NPN {agent.npn} is also on line {seen[agent.npn]}",
                field="npn",
                source=path.name,
                line=line,
            )
        try:
            scratch.add(agent)  # a ZIP with no location or time zone is refused here
        except InputError as exc:
            raise exc.located(source=path.name, line=line) from None
        seen[agent.npn] = line
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


class _Progress:
    """A one-line progress bar on stderr when it is a terminal; silent otherwise."""

    def __init__(self, total: int, label: str):
        self.total, self.label, self.n = total, label, 0
        self.shown = sys.stderr.isatty() and total >= PROGRESS_EVERY

    def step(self) -> None:
        self.n += 1
        if self.shown and (self.n % PROGRESS_EVERY == 0 or self.n == self.total):
            filled = 30 * self.n // self.total
            bar = "#" * filled + "." * (30 - filled)
            sys.stderr.write(f"\r{self.label} [{bar}] {self.n}/{self.total}")
            sys.stderr.flush()

    def done(self) -> None:
        if self.shown:
            sys.stderr.write("\n")


# -- invite ------------------------------------------------------------------------------
def invite_agents(hod, npns: list[str], everyone: bool, print_links: bool) -> dict:
    """R1: a fresh link to each agent (replacing a pending one), by email; none
    to an agent who already has an account."""
    if everyone == bool(npns):
        raise InputError("name the agents to invite (NPN...) or give --all, not both")
    if everyone:
        npns = hod.accounts.uninvited()
    hod.router.sync_agents()
    unknown = [npn for npn in npns if npn not in hod.router.matcher]
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


# -- operators ---------------------------------------------------------------------------
def add_operator(hod, login: str, password_file: str | None, email: str | None) -> dict:
    if password_file:
        try:
            text = Path(password_file).read_text("utf-8")
        except OSError as exc:
            raise InputError(f"cannot read it: {exc.strerror}", source=password_file) from None
        password = confirm = text.splitlines()[0] if text else ""
    else:
        password = getpass.getpass("password: ")
        confirm = getpass.getpass("password again: ")
    account = hod.accounts.create_operator(login, password, email, confirm=confirm)
    return {"id": account.id, "login": account.login, "role": account.role}
