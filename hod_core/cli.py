"""`hod`: the command line (docs/reference/cli.md).

    hod match --agents FILE.jsonl --consumer FILE.json --at RFC3339
              [--policy FILE.toml] [--limit N] [--explain] [--why NPN]
              [--offered NPN,...] [--pending NPN[=N],...] [--last-offered NPN=RFC3339,...]
    hod rules check FILE.toml
    hod rules default            (print the shipped rule file, to copy and edit)
    hod --version

JSON goes to stdout. An error prints one line on stderr, `hod: ` and at
most ~200 characters, never a traceback, and the exit status says what
kind it was (`EXIT_CODES`, documented in docs/reference/cli.md). Each
subcommand is added by one function in `COMMANDS`.
"""

from __future__ import annotations

import argparse
import difflib
import json
import os
import sys
from collections.abc import Sequence
from datetime import datetime

from hod_core import __version__, wire
from hod_core.domain import validate
from hod_core.domain.models import Consumer
from hod_core.errors import (
    HodError,
    InputError,
    NotFound,
    PolicyError,
    StoreError,
    StoreUnavailable,
    excerpt,
    one_line,
)
from hod_core.matching.match_facts import OfferSnapshot
from hod_core.matching.matcher import Matcher
from hod_core.rules.policy import check_policy, default_policy_text, load_policy
from hod_core.wire.bulk import gc_paused

FAILURE = 1
USER_ERROR = 2
NOT_FOUND = 3
INTERRUPTED = 130  # 128 + SIGINT
CLOSED_PIPE = 141  # 128 + SIGPIPE, what a shell reports for `yes | head -1`
EXIT_CODES = (  # every status `hod` exits with; docs/reference/cli.md shows this table
    (0, "done"),
    (
        FAILURE,
        "failure: it could not be done, through no fault of the command line: the output "
        "cannot be written (a full disk), the store is damaged or unavailable, the port "
        "is taken",
    ),
    (
        USER_ERROR,
        "usage error: an unknown command or option, a bad file, field, value or setting, "
        "a missing data folder, a request refused (a login taken, a weak password); "
        "nothing is changed",
    ),
    (NOT_FOUND, "not found: no agent with that NPN, no referral with that id"),
    (
        INTERRUPTED,
        "interrupted (Ctrl-C); 128 + the signal's number for another signal (143: SIGTERM)",
    ),
    (CLOSED_PIPE, "the reader of the output went away (`hod ... | head -1`); nothing printed"),
)
MAX_LINE = 200  # an error line on stderr, "hod: " included


class _Parser(argparse.ArgumentParser):
    """One error line naming what is wrong, and this (sub)command's own --help."""

    def parse_known_args(self, args=None, namespace=None):
        self._given = list(sys.argv[1:] if args is None else args)
        namespace, extras = super().parse_known_args(args, namespace)
        if extras:  # the innermost (sub)command that got them names them
            options = [a for a in extras if a.startswith("-") and a != "-"]
            others = [a for a in extras if a not in options]
            self.error(self._unknown(options) if options else f"unexpected argument {others[0]}")
        return namespace, extras

    def error(self, message: str):  # one line, not argparse's usage block
        command = self.prog.removeprefix("hod").strip()  # "match", "rules check", or none
        unknown = [a for a in getattr(self, "_given", ()) if self._is_unknown_option(a)]
        if unknown and message.startswith("the following arguments are required"):
            message = self._unknown(unknown)  # `--agnets`: the typo is the news
        raise InputError(f"{message} (see {self.prog} --help)", source=command)

    def _is_unknown_option(self, arg: str) -> bool:
        name, known = arg.split("=", 1)[0], self._option_string_actions
        if not name.startswith("-") or name in ("-", "--", *known):
            return False
        abbreviated = name.startswith("--") and any(o.startswith(name) for o in known)
        return not abbreviated and not self._negative_number_matcher.match(arg)

    def _unknown(self, options: list[str]) -> str:
        name = options[0].split("=", 1)[0]
        close = difflib.get_close_matches(name, list(self._option_string_actions), n=1)
        more = f" (and {len(options) - 1} more)" if len(options) > 1 else ""
        hint = f"; did you mean {close[0]}?" if close else ""
        return f"unknown option {excerpt(name)[1:-1]}{more}{hint}"


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="hod", description="Help On Demand referral routing.")
    parser.add_argument("--version", action="version", version=f"hod {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    for add_command in COMMANDS:
        add_command(commands)
    return parser


def add_match(commands) -> None:
    match = commands.add_parser("match", help="the ordered queue of agents for one consumer")
    match.add_argument("--agents", required=True, help="agents, one JSON object per line")
    match.add_argument("--consumer", required=True, help="a Get Contacted request (JSON)")
    match.add_argument(
        "--at", required=True, help="the instant, RFC 3339 with offset (2026-11-23T15:00:00-06:00)"
    )
    match.add_argument("--policy", help="rule file (TOML); default: the shipped policy")
    match.add_argument("--limit", type=_positive, help="at most N agents in the queue")
    match.add_argument(
        "--explain", action="store_true", help="add the first failing rule per excluded agent"
    )
    match.add_argument(
        "--why", metavar="NPN", type=_npn, help="add every rule's verdict for one agent"
    )
    offers = match.add_argument_group(
        "offers so far (what the referral service knows; all optional)"
    )
    offers.add_argument(
        "--offered",
        metavar="NPN,...",
        type=_npns,
        default=[],
        help="agents already offered this referral (E11)",
    )
    offers.add_argument(
        "--pending",
        metavar="NPN[=N],...",
        type=_pending,
        default={},
        help="agents holding N Pending offers, 1 if N is left out (E12)",
    )
    offers.add_argument(
        "--last-offered",
        metavar="NPN=RFC3339,...",
        type=_last_offered,
        default={},
        help="when agents were last offered a referral (ties in the ranking)",
    )
    match.set_defaults(run=run_match)


def add_rules(commands) -> None:
    rules = commands.add_parser("rules", help="check or print a rule file")
    rule_commands = rules.add_subparsers(dest="rules_command", required=True, parser_class=_Parser)
    check = rule_commands.add_parser(
        "check", help="report every error in a rule file, with its line"
    )
    check.add_argument("file", help="the rule file (TOML)")
    check.set_defaults(run=run_rules_check)
    default = rule_commands.add_parser("default", help="print the shipped default rule file")
    default.set_defaults(run=lambda args: print(default_policy_text(), end="") or 0)


def add_server_commands(commands) -> None:
    from hod_core.server.commands.server_commands import (
        register,  # hod serve and the operator's tools (no web imports)
    )

    register(commands)


def add_simulate_commands(commands) -> None:
    from hod_core.simulate.simulate_cli import register  # hod simulate, hod export demand

    register(commands)


def add_coverage_command(commands) -> None:
    from hod_core.coverage.coverage_cli import register  # hod coverage

    register(commands)


COMMANDS = [add_match, add_rules, add_server_commands, add_simulate_commands, add_coverage_command]


def _npn(text: str) -> str:
    try:
        return validate.npn(text)
    except InputError as exc:
        raise argparse.ArgumentTypeError(exc.message) from None


def _npns(text: str) -> list[str]:
    return [_npn(n.strip()) for n in text.split(",") if n.strip()]


def _pairs(text: str) -> list[tuple[str, str | None]]:
    return [
        (npn.strip(), value.strip() if sep else None)
        for npn, sep, value in (item.partition("=") for item in text.split(","))
        if npn.strip()
    ]


def _pending(text: str) -> dict[str, int]:
    pending = {}
    for npn, count in _pairs(text):
        if count is not None and not (count.isascii() and count.isdigit() and len(count) <= 6):
            raise argparse.ArgumentTypeError(
                f"{excerpt(npn)}: the count must be a whole number, got {excerpt(count)}"
            )
        pending[_npn(npn)] = int(count) if count is not None else 1
    return pending


def _last_offered(text: str) -> dict[str, datetime]:
    last = {}
    for npn, when in _pairs(text):
        npn = _npn(npn)
        if when is None:
            raise argparse.ArgumentTypeError(
                f"{npn}: give NPN=RFC3339, e.g. {npn}=2026-11-23T09:00:00-06:00"
            )
        try:
            last[npn] = validate.rfc3339(when)
        except InputError as exc:
            raise argparse.ArgumentTypeError(f"{npn}: {exc.message}") from None
    return last


def _positive(text: str) -> int:
    if not (text.isascii() and text.isdigit() and len(text) <= 9) or int(text) < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number >= 1, got {excerpt(text)}")
    return int(text)


def load_agents(path: str, matcher: Matcher) -> None:
    """Add every agent of a JSONL file; an error names the file, line and field."""
    source = path.rsplit("/", 1)[-1]
    adding = [None]  # the line of the agent being added; None while reading (wire locates)

    def agents():
        for line, agent in wire.read_agents(path):
            adding[0] = line
            yield agent
            adding[0] = None

    with gc_paused():  # one bulk load: reading and the matcher's build
        try:
            matcher.add_many(agents())
        except InputError as exc:
            if adding[0] is None:
                raise
            raise exc.located(source=source, line=adding[0]) from None


def run_match(args) -> int:
    try:
        at = validate.rfc3339(args.at)
    except InputError as exc:
        raise exc.located(prefix="--at") from None
    policy = load_policy(args.policy)
    matcher = Matcher(policy)
    load_agents(args.agents, matcher)
    if args.why and args.why not in matcher:
        raise NotFound(f"--why: no agent with NPN {args.why!r} in {args.agents}")
    consumer = wire.read_json(args.consumer, Consumer)
    try:
        offers = OfferSnapshot(args.pending, args.last_offered)
        result = matcher.match(
            consumer,
            at,
            limit=args.limit,
            explain=args.explain,
            offered=args.offered,
            offers=offers,
        )
    except InputError as exc:
        raise exc.located(source=args.consumer.rsplit("/", 1)[-1]) from None
    output = {"queue": [{"npn": e.npn, "distance_km": e.distance_km} for e in result.queue]}
    if args.explain:
        output["excluded"] = dict(result.excluded)
    if args.why:
        output["why"] = matcher.why(args.why, consumer, at, offered=args.offered, offers=offers)
    json.dump(output, sys.stdout, indent=2)
    sys.stdout.write("\n")
    return 0


def run_rules_check(args) -> int:
    problems = check_policy(args.file)
    if problems:
        for problem in problems:
            _say(problem.render())
        return USER_ERROR
    policy = load_policy(args.file)
    ids = ", ".join(r.id for r in policy.rules)
    print(f"{args.file}: OK, plan year {policy.plan_year}, {len(policy.rules)} rules ({ids})")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run `hod argv...`; the exit status (`EXIT_CODES`)."""
    stdout = sys.stdout
    sys.stdout = _Output(stdout)
    try:
        code = _run(argv)
        sys.stdout.flush()  # a full disk shows here, not in Python's flush at exit
        return code
    except OutputError as exc:
        return _output_failed(exc.error, stdout)
    finally:
        sys.stdout = stdout


def _run(argv: Sequence[str] | None) -> int:
    try:
        args = build_parser().parse_args(argv)
        return args.run(args)
    except PolicyError as exc:
        first, more = exc.problems[0], len(exc.problems) - 1
        name = first.source if len(first.source) <= 60 else "FILE"
        hint = f" (and {more} more: run hod rules check {name})" if more else ""
        _say(first.render()[: MAX_LINE - len(hint) - 8] + hint)
        return USER_ERROR
    except InputError as exc:
        _say(exc.render())
        return USER_ERROR
    except NotFound as exc:
        _say(str(exc))
        return NOT_FOUND
    except (StoreError, StoreUnavailable) as exc:  # damaged, newer, unwritable, down
        _say(str(exc))
        return FAILURE
    except HodError as exc:  # a bad setting, a refused request
        _say(str(exc))
        return USER_ERROR
    except SystemExit as exc:  # --help and --version print, then argparse exits
        return exc.code if isinstance(exc.code, int) else 0 if exc.code is None else USER_ERROR
    except KeyboardInterrupt:
        return INTERRUPTED


class OutputError(Exception):
    """Standard output cannot be written: a full disk, a closed pipe (`error`)."""

    def __init__(self, error: OSError):
        super().__init__(str(error))
        self.error = error


class _Output:
    """`sys.stdout` while a command runs: an error writing it becomes `OutputError`,
    told apart from the errors of the files a command reads or writes."""

    def __init__(self, stream):
        self._stream = stream

    def write(self, text: str) -> int:
        try:
            return self._stream.write(text)
        except OSError as exc:
            raise OutputError(exc) from None

    def writelines(self, lines) -> None:
        for line in lines:
            self.write(line)

    def flush(self) -> None:
        try:
            self._stream.flush()
        except OSError as exc:
            raise OutputError(exc) from None

    def __getattr__(self, name: str):
        return getattr(self._stream, name)


def _output_failed(error: OSError, stream) -> int:
    """A closed pipe ends quietly, as `head` expects; anything else is one line."""
    if stream is sys.__stdout__:  # what is left in its buffer goes nowhere at exit
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, stream.fileno())
            os.close(devnull)
        except (OSError, ValueError):
            pass
    if isinstance(error, BrokenPipeError):
        return CLOSED_PIPE
    _say(f"cannot write the output: {error.strerror or error}")
    return FAILURE


def _say(text: str) -> None:
    """One error line on stderr: "hod: " and the text, MAX_LINE characters at most."""
    print(one_line(f"hod: {text}", MAX_LINE), file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
