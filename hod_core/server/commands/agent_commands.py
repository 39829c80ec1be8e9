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
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hod_core.errors import InputError
from hod_core.server.services.agent_import import invite_agents, plan_import

PROGRESS_EVERY = 1000


def add_commands(commands, *, agents, operator: Callable) -> None:
    """Add `agents import`, `agents invite` and `operators add` to `hod`;
    `operator(parser, job)` makes a parser run `job(hod, args)` on the store."""
    importing = agents.add_parser(
        "import",
        help="import agent records (JSONL): every line checked, then all saved in one "
        "transaction; a bad line or an interruption saves nothing",
        description="Import agent records: every line is checked first (a bad one is named "
        "file:line: field, and nothing is saved), then all the agents are saved in one "
        "store transaction. Stopped at any point (Ctrl-C, SIGTERM, SIGHUP, or killed), "
        "it leaves the store as it was and, unless killed, says so in one line and exits "
        "with 128 + the signal's number (130 for Ctrl-C).",
    )
    importing.add_argument("file", help="agents, one JSON object per line in the agent wire format")
    operator(importing, lambda hod, a: run_import(hod, Path(a.file)))

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


def run_import(hod, path: Path) -> dict:
    """`hod agents import`: the file checked, then saved in one transaction.
    SIGINT, SIGTERM and SIGHUP stop it at any point: the progress line ends,
    one line says what the store holds (nothing, or all of the file if the
    signal came as it committed) and the command exits with 128 + the
    signal's number (130 for Ctrl-C)."""
    line = ProgressLine.on(sys.stderr)
    plan = saving = None
    with Interrupts() as interrupts:
        try:
            plan = plan_import(hod, path, line.show)
            saving = plan
            result = plan.save()
        except Interrupted:
            line.end()
            if saving is not None and saving.is_saved():
                what = f"all {len(saving.agents)} agents were saved"
            else:
                what = "nothing was saved"
            print(f"hod: import interrupted: {what}", file=sys.stderr)
            raise SystemExit(128 + interrupts.signum) from None
        finally:
            line.end()
    return result


class Interrupted(BaseException):
    """A stop signal, raised in the main thread; a BaseException like
    KeyboardInterrupt, so no `except Exception` swallows it."""


class Interrupts:
    """`with Interrupts() as caught:` SIGINT, SIGTERM and SIGHUP raise
    `Interrupted` once (`caught.signum` says which); later ones, while the
    command says what happened, are ignored. The previous handlers come
    back at the end of the block."""

    SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)

    def __init__(self):
        self.signum: int | None = None
        self._previous: dict[int, Any] = {}

    def __enter__(self) -> Interrupts:
        for signum in self.SIGNALS:
            self._previous[signum] = signal.signal(signum, self._caught)
        return self

    def __exit__(self, *exc) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)

    def _caught(self, signum: int, frame) -> None:
        if self.signum is None:
            self.signum = signum
            raise Interrupted(signum)


class ProgressLine:
    """One progress line on stderr when it is a terminal (nothing otherwise),
    redrawn every PROGRESS_EVERY lines; `end()` finishes it with a newline."""

    def __init__(self, stream):
        self._stream = stream
        self._open = False

    @classmethod
    def on(cls, stream) -> ProgressLine:
        line = cls(stream)
        if not stream.isatty():
            line.show = lambda stage, done, total: None
        return line

    def show(self, stage: str, done: int, total: int) -> None:
        if stage == "saving":
            text = f"saving {total} agents in one transaction" + (" done" if done else "...")
        elif done % PROGRESS_EVERY == 0 and total >= PROGRESS_EVERY:
            filled = 30 * min(done, total) // total
            bar = "#" * filled + "." * (30 - filled)
            text = f"checking agents [{bar}] {done}/{total}"
        else:
            return
        self._stream.write(f"\r\x1b[K{text}")
        self._stream.flush()
        self._open = True

    def end(self) -> None:
        if self._open:
            self._open = False
            self._stream.write("\n")
            self._stream.flush()


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
