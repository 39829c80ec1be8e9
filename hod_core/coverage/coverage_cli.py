"""`hod coverage` on the command line.

    hod coverage --agents FILE.jsonl [--policy P.toml] [--week-of DATE]
                 [--languages en,es,...] [--json] [--report OUT.html]

Without `--json` it prints a summary line and the gaps, one line per state
and language; with it, the figures as one JSON object, the last line of
stdout. A bad line in the agents file stops it with `file:line: field: ...`.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date
from pathlib import Path

from hod_core import wire
from hod_core.coverage.counts import CoverageCounter
from hod_core.domain import validate
from hod_core.errors import InputError, excerpt
from hod_core.rules.policy import load_policy
from hod_core.wire.bulk import gc_paused


def register(commands) -> None:
    cov = commands.add_parser(
        "coverage", help="eligible agents available per state, language and hour of a week"
    )
    cov.add_argument("--agents", required=True, help="agents, one JSON object per line")
    cov.add_argument("--policy", help="rule file (TOML); default: the shipped policy")
    cov.add_argument(
        "--week-of",
        type=_day,
        metavar="DATE",
        help="a date (YYYY-MM-DD) in the week to count, Monday to Sunday; default: this week",
    )
    cov.add_argument(
        "--languages",
        type=_languages,
        default=["en", "es"],
        metavar="en,es,...",
        help="ISO 639-1 codes of the consumers' languages (default en,es)",
    )
    cov.add_argument("--json", action="store_true", help="the figures as one JSON line, last")
    cov.add_argument("--report", metavar="OUT.html", help="a self-contained HTML report")
    cov.set_defaults(run=run_coverage)


def _day(text: str) -> date:
    try:
        return validate.iso_date(text)
    except InputError as exc:
        raise argparse.ArgumentTypeError(exc.message) from None


def _languages(text: str) -> list[str]:
    codes = [code.strip() for code in text.split(",") if code.strip()]
    if not codes:
        raise argparse.ArgumentTypeError(f"expected codes such as en,es, got {excerpt(text)}")
    try:
        return [validate.language(code) for code in codes]
    except InputError as exc:
        raise argparse.ArgumentTypeError(exc.message) from None


def run_coverage(args) -> int:
    if args.report:
        from hod_core.reports.html_report import (
            require_plotting,  # before minutes of work, not after
        )

        require_plotting()
    policy = load_policy(args.policy)
    counter = CoverageCounter(policy, args.week_of or date.today(), args.languages)
    source = Path(args.agents).name
    with gc_paused():
        for line, agent in wire.read_agents(args.agents):
            try:
                counter.add(agent)
            except InputError as exc:
                raise exc.located(source=source, line=line) from None
    result = counter.result(agents_file=source)
    if args.report:
        from hod_core.reports.html_report import write_coverage_report

        write_coverage_report(result, Path(args.report))
    if args.json:
        sys.stdout.write(json.dumps(result, separators=(",", ":")) + "\n")
    else:
        print_summary(result)
    return 0


def print_summary(result: dict) -> None:
    inputs = result["inputs"]
    pairs = [(s, lang) for s, by in result["coverage"].items() for lang in by]
    print(
        f"{inputs['agents']} agents, week of {inputs['week_of']} (Mon-Sun, each state's local time),"
        f" {len(pairs) - len(result['gaps'])} of {len(pairs)} state-language pairs covered"
        f" every hour ({result['seconds']:.1f} s)"
    )
    for gap in result["gaps"]:
        print(gap["text"])
