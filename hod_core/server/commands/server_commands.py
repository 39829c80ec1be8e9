"""The server's commands: `hod serve` and the operator's tools.

    hod serve [--config FILE] [--data-dir DIR] [--host H] [--port P] [--public-url URL] [--demo]
    hod agents list [TEXT] [--state TX] [--suspended | --active] [--limit N]
    hod agents show NPN | suspend NPN | reinstate NPN
    hod referrals list [--status waiting|unmatched|...] [--limit N] | show ID
    hod why REFERRAL NPN
    hod deliveries                (failed notification attempts, newest first)

The operator commands open the same store as `hod serve` (same settings) and
print JSON; those that only read (list, show, why, deliveries) load no
notifier and never make a data folder. An error is one line; its exit status
is `hod_core.cli`'s (not found: 3). This module imports no web framework:
`hod` works without the `server` extra, and `hod serve` then says what to
install.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
from collections.abc import Callable

from hod_core.errors import HodError
from hod_core.server.commands import agent_commands, backup_commands
from hod_core.server.context import Hod
from hod_core.server.server_settings import load_settings
from hod_core.server.services import operations

USER_ERROR = 2
FAILURE = 1
INSTALL_HINT = (
    "hod serve needs the server extra: python3 -m pip install 'hod-core[server]' "
    "(from a clone: python3 -m pip install -e '.[server]')"
)


def add_settings_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", help="the server's TOML file (default: $HOD_CONFIG)")
    parser.add_argument("--data-dir", help="data folder (default: $HOD_DATA_DIR or ./hod-data)")


def register(commands) -> None:
    """Add the server's commands to `hod`'s sub-parsers."""
    serve = commands.add_parser("serve", help="the reference server (HTTP API)")
    add_settings_arguments(serve)
    serve.add_argument("--host", help="bind address (default 127.0.0.1)")
    serve.add_argument("--port", help="port (default 8000)")
    serve.add_argument("--public-url", help="the URL agents reach the server at (links, cookies)")
    serve.add_argument("--fake-clock", metavar="ISO8601", help=argparse.SUPPRESS)
    serve.add_argument(
        "--demo", action="store_true", help="demo data, accounts and an in-app outbox (./hod-demo)"
    )
    serve.set_defaults(run=run_serve)

    agents = commands.add_parser("agents", help="agents: list, show, suspend, reinstate, ...")
    agent_parsers = agents.add_subparsers(dest="agents_command", required=True)
    listing = agent_parsers.add_parser("list", help="search by NPN, name or email")
    listing.add_argument(
        "text",
        nargs="?",
        default="",
        help="part of an NPN, name or email (any case); all if left out",
    )
    listing.add_argument("--state", metavar="TX", help="only agents whose home state is this")
    status = listing.add_mutually_exclusive_group()
    status.add_argument(
        "--suspended",
        action="store_const",
        const=True,
        dest="suspended",
        help="only suspended agents",
    )
    status.add_argument(
        "--active", action="store_const", const=False, dest="suspended", help="only active agents"
    )
    listing.add_argument("--limit", type=int, default=50, help="at most N agents, by NPN")
    _reader(
        listing, lambda hod, a: operations.search_agents(hod, a.text, a.state, a.suspended, a.limit)
    )
    for name, job, opens in (
        ("show", lambda hod, a: operations.agent_detail(hod, a.npn), _reader),
        ("suspend", lambda hod, a: operations.suspend(hod, a.npn, "operator:cli"), _operator),
        ("reinstate", lambda hod, a: operations.reinstate(hod, a.npn, "operator:cli"), _operator),
    ):
        command = agent_parsers.add_parser(name, help=f"{name} one agent")
        command.add_argument("npn", help="the agent's NPN")
        opens(command, job)

    referrals = commands.add_parser("referrals", help="referrals and their audit trail")
    referral_commands = referrals.add_subparsers(dest="referrals_command", required=True)
    listing = referral_commands.add_parser("list", help="newest first")
    listing.add_argument("--status", help="waiting, unmatched, offered, accepted, ...")
    listing.add_argument("--before", help="the `next` of the previous page")
    listing.add_argument("--limit", type=int, default=50, help="at most N referrals a page")
    _reader(listing, lambda hod, a: operations.list_referrals(hod, a.status, a.before, a.limit))
    show = referral_commands.add_parser("show", help="one referral and its events (L11)")
    show.add_argument("referral_id", help="the referral's id")
    _reader(show, lambda hod, a: operations.referral_detail(hod, a.referral_id))

    why = commands.add_parser("why", help="why an agent would (not) get a referral now")
    why.add_argument("referral_id", help="the referral's id")
    why.add_argument("npn", help="the agent's NPN")
    _reader(why, lambda hod, a: operations.why(hod, a.referral_id, a.npn))

    deliveries = commands.add_parser("deliveries", help="failed notification attempts")
    deliveries.add_argument("--limit", type=int, default=50, help="at most N attempts")
    _reader(deliveries, lambda hod, a: operations.delivery_failures(hod, None, a.limit))

    agent_commands.add_commands(commands, agents=agent_parsers, operator=_operator)
    backup_commands.register(commands, add_settings_arguments)


def _operator(parser: argparse.ArgumentParser, job: Callable) -> None:
    """`parser` runs `job(hod, args)` on the store, as `hod serve` opens it."""
    add_settings_arguments(parser)
    parser.set_defaults(run=lambda args: _run_operator(args, job, read_only=False))


def _reader(parser: argparse.ArgumentParser, job: Callable) -> None:
    """`parser` runs `job(hod, args)`, which only reads: no notifier, no folder made."""
    add_settings_arguments(parser)
    parser.set_defaults(run=lambda args: _run_operator(args, job, read_only=True))


def open_hod(args, *, read_only: bool = False) -> Hod:
    """The store, router and accounts `hod serve` would use, for a command (no sweep).
    `read_only`: see `Hod`. Call `hod.router.close()` when done."""
    settings = load_settings(
        {"data_dir": args.data_dir}, config_file=args.config, require_secret=False
    )
    return Hod(settings, read_only=read_only)


def _run_operator(args, job: Callable, *, read_only: bool) -> int:
    """The job's result as JSON; an error goes up to `hod_core.cli.main`, which
    prints it in one line with its exit status."""
    hod = open_hod(args, read_only=read_only)
    try:
        result = job(hod, args)
    finally:
        hod.router.close()
    json.dump(result, sys.stdout, indent=2)
    sys.stdout.write("\n")
    return 0


def run_serve(args) -> int:
    if importlib.util.find_spec("fastapi") is None or importlib.util.find_spec("uvicorn") is None:
        print(f"hod: {INSTALL_HINT}", file=sys.stderr)
        return USER_ERROR
    from hod_core.server.commands import serve
    from hod_core.server.services import demo

    flags = {
        "data_dir": args.data_dir,
        "host": args.host,
        "port": args.port,
        "public_url": args.public_url,
        "fake_clock": args.fake_clock,
    }
    serve.configure_logging()
    sock = None
    try:
        settings = load_settings(flags, config_file=args.config, demo=args.demo)
        sock = serve.listen(settings)  # before anything is made, loaded or printed
        if args.demo:
            settings = demo.demo_settings(settings, data_dir_given=bool(args.data_dir))
        app = serve.build(settings, seed=demo.seed if args.demo else None)
        if args.demo:
            print(demo.banner(app.state.hod, app.state.seeded), flush=True)
    except HodError as exc:
        if sock is not None:
            sock.close()
        print(f"hod serve: {exc}", file=sys.stderr)
        return FAILURE if isinstance(exc, serve.CannotListen) else USER_ERROR
    serve.run(app, settings, sock)
    return 0
