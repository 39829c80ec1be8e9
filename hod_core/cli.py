"""`hod`: the command line (SPEC section 8).

    hod match --agents FILE.jsonl --consumer FILE.json --at ISO8601
              [--policy FILE.toml] [--limit N] [--explain] [--why NPN]
    hod rules check FILE.toml
    hod rules default            (print the shipped rule file, to copy and edit)

JSON goes to stdout. A user error (bad file, field, flag) prints one line
on stderr and exits 2; never a traceback.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

from . import validate, wire
from .bulk import gc_paused
from .errors import InputError, PolicyError
from .matcher import Matcher
from .models import Agent, Consumer
from .rules.policy import check_policy, default_policy_text, load_policy

USER_ERROR = 2


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # one line, not argparse's usage block
        raise InputError(f"{message} (see {self.prog} --help)", source=self.prog)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="hod", description="Help On Demand referral routing.")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    match = commands.add_parser("match", help="the ordered queue of agents for one consumer")
    match.add_argument("--agents", required=True, help="agents, one JSON object per line")
    match.add_argument("--consumer", required=True, help="a Get Contacted request (JSON)")
    match.add_argument("--at", required=True, help="the instant, ISO 8601 with offset")
    match.add_argument("--policy", help="rule file (TOML); default: the shipped policy")
    match.add_argument("--limit", type=_positive, help="at most N agents in the queue")
    match.add_argument(
        "--explain", action="store_true", help="add the first failing rule per excluded agent"
    )
    match.add_argument("--why", metavar="NPN", help="add every rule's verdict for one agent")
    match.set_defaults(run=run_match)

    rules = commands.add_parser("rules", help="check or print a rule file")
    rule_commands = rules.add_subparsers(dest="rules_command", required=True, parser_class=_Parser)
    check = rule_commands.add_parser(
        "check", help="report every error in a rule file, with its line"
    )
    check.add_argument("file")
    check.set_defaults(run=run_rules_check)
    default = rule_commands.add_parser("default", help="print the shipped default rule file")
    default.set_defaults(run=lambda args: print(default_policy_text(), end="") or 0)
    return parser


def _positive(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number >= 1, got {text!r}")
    return int(text)


def load_agents(path: str, matcher: Matcher) -> None:
    """Add every agent of a JSONL file; an error names the file, line and field."""
    first_line: dict[str, int] = {}
    source = path.rsplit("/", 1)[-1]
    with gc_paused():
        for line, agent in wire.read_jsonl_all(path, Agent):
            if agent.npn in first_line:
                raise InputError(
                    f"duplicate NPN {agent.npn} (first on line {first_line[agent.npn]})",
                    field="npn",
                    source=source,
                    line=line,
                )
            first_line[agent.npn] = line
            try:
                matcher.add(agent)
            except InputError as exc:
                raise exc.located(source=source, line=line) from None


def run_match(args) -> int:
    try:
        at = validate.instant(args.at)
    except InputError as exc:
        raise exc.located(prefix="--at") from None
    policy = load_policy(args.policy)
    matcher = Matcher(policy)
    load_agents(args.agents, matcher)
    consumer = wire.read_json(args.consumer, Consumer)
    try:
        result = matcher.match(consumer, at, limit=args.limit, explain=args.explain)
    except InputError as exc:
        raise exc.located(source=args.consumer.rsplit("/", 1)[-1]) from None
    output = {"queue": [{"npn": e.npn, "distance_km": e.distance_km} for e in result.queue]}
    if args.explain:
        output["excluded"] = dict(result.excluded)
    if args.why:
        output["why"] = matcher.why(args.why, consumer, at)
    json.dump(output, sys.stdout, indent=2)
    sys.stdout.write("\n")
    return 0


def run_rules_check(args) -> int:
    problems = check_policy(args.file)
    if problems:
        for problem in problems:
            print(problem.render(), file=sys.stderr)
        return USER_ERROR
    policy = load_policy(args.file)
    ids = ", ".join(r.id for r in policy.rules)
    print(f"{args.file}: OK, plan year {policy.plan_year}, {len(policy.rules)} rules ({ids})")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
        return args.run(args)
    except PolicyError as exc:
        first, more = exc.problems[0], len(exc.problems) - 1
        hint = f" (and {more} more: run hod rules check {first.source})" if more else ""
        print(f"hod: {first.render()}{hint}", file=sys.stderr)
        return USER_ERROR
    except InputError as exc:
        print(f"hod: {exc.render()}", file=sys.stderr)
        return USER_ERROR
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
