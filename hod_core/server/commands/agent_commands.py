"""The operator's account tools (R1-R5):

    hod agents import FILE.jsonl            MLMS/NIPR-shaped agent records, one per line
    hod agents invite NPN... | --all [--print-links]
    hod operators add LOGIN [--password-file FILE] [--email ADDRESS]

They open the same store as `hod serve` (same settings: --config, --data-dir)
and print JSON; the work is in `agent_import` (shared with the operator's
pages) and `accounts`. No web framework here.
"""

from __future__ import annotations

import getpass
import sys
from collections.abc import Callable
from pathlib import Path

from hod_core.errors import InputError
from hod_core.server.services.agent_import import import_agents, invite_agents

PROGRESS_EVERY = 1000


def add_commands(commands, *, agents, operator: Callable) -> None:
    """Add `agents import`, `agents invite` and `operators add` to `hod`;
    `operator(parser, job)` makes a parser run `job(hod, args)` on the store."""
    importing = agents.add_parser("import", help="import agent records (JSONL): all or nothing")
    importing.add_argument("file", help="agents, one JSON object per line in the agent wire format")
    operator(importing, lambda hod, a: import_agents(hod, Path(a.file), _progress_bar()))

    invite = agents.add_parser("invite", help="email registration links (R1)")
    invite.add_argument("npns", nargs="*", metavar="NPN", help="the agents to invite (or --all)")
    invite.add_argument("--all", action="store_true", help="every agent without an account")
    invite.add_argument(
        "--print-links", action="store_true", help="print the links (for an operator without email)"
    )
    operator(invite, lambda hod, a: invite_agents(hod, a.npns, a.all, a.print_links))

    operators = commands.add_parser("operators", help="operator accounts")
    operator_commands = operators.add_subparsers(dest="operators_command", required=True)
    add = operator_commands.add_parser("add", help="create an operator account")
    add.add_argument("login", help="the operator's login name")
    add.add_argument("--password-file", help="read the password from this file's first line")
    add.add_argument("--email", help="where password reset links go")
    operator(add, lambda hod, a: add_operator(hod, a.login, a.password_file, a.email))


def _progress_bar() -> Callable[[int, int], None] | None:
    """A one-line progress bar on stderr when it is a terminal; none otherwise."""
    if not sys.stderr.isatty():
        return None

    def show(done: int, total: int) -> None:
        if total < PROGRESS_EVERY or (done % PROGRESS_EVERY and done != total):
            return
        filled = 30 * done // total
        bar = "#" * filled + "." * (30 - filled)
        sys.stderr.write(f"\rimporting agents [{bar}] {done}/{total}")
        sys.stderr.write("\n" if done == total else "")
        sys.stderr.flush()

    return show


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
