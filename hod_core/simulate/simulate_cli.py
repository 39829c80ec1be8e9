"""`hod simulate` and `hod export demand`.

    hod simulate --agents FILE.jsonl (--demand FILE.jsonl | --synthetic N)
                 [--policy P.toml] [--compare P2.toml] [--behaviour B.toml]
                 [--seed S] [--day DATE] [--json] [--report OUT.html] [--progress]
    hod export demand --out FILE.jsonl [--store NAME] [--setting KEY=VALUE ...]

`--json` prints the figures as one JSON object, the last line of stdout;
without it a short summary is printed. A progress bar goes to stderr when it
is a terminal, or with `--progress`.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date
from pathlib import Path
from typing import Any

from hod_core import wire
from hod_core.errors import ConfigurationError, InputError, excerpt
from hod_core.extend.plugins import load_adapter
from hod_core.geo import zips
from hod_core.rules.policy import Policy, load_policy
from hod_core.simulate.behaviour import Behaviours, load_behaviour
from hod_core.simulate.demand import default_day, export_demand, read_demand, synthetic_day
from hod_core.simulate.engine import Simulation
from hod_core.simulate.figures import compare, figures_of
from hod_core.wire.bulk import gc_paused

SUMMARY = (  # (label, figure path, unit) for the summary without --json
    ("requests", ("requests",), ""),
    ("accepted", ("share_accepted",), "share"),
    ("unmatched", ("share_unmatched",), "share"),
    ("request to accept, p50", ("time_to_accept_minutes", "p50"), "min"),
    ("request to accept, p90", ("time_to_accept_minutes", "p90"), "min"),
    ("request to accept, p99", ("time_to_accept_minutes", "p99"), "min"),
    ("offer answered after, mean", ("offer_wait_minutes", "mean"), "min"),
    ("offers per referral", ("offers_per_referral",), ""),
    ("missed offers", ("missed_offers",), ""),
    ("suspensions (L9)", ("suspensions",), ""),
    ("offers per agent, Gini", ("offers_per_agent", "gini"), ""),
)


def register(commands) -> None:
    sim = commands.add_parser("simulate", help="a day of demand through the router, per policy")
    sim.add_argument(
        "--agents", required=True, metavar="FILE.jsonl", help="agents, one JSON object per line"
    )
    demand = sim.add_mutually_exclusive_group(required=True)
    demand.add_argument(
        "--demand", metavar="FILE.jsonl", help="requests (JSONL: at, zip, state, language)"
    )
    demand.add_argument(
        "--synthetic", type=_count, metavar="N", help="N requests over one Open Enrollment day"
    )
    sim.add_argument(
        "--policy", metavar="P.toml", help="rule file (TOML); default: the shipped policy"
    )
    sim.add_argument("--compare", metavar="P2.toml", help="a second rule file, on the same draws")
    sim.add_argument(
        "--behaviour", metavar="B.toml", help="agent behaviour (TOML); default: the documented one"
    )
    sim.add_argument(
        "--seed", type=_count0, default=1, metavar="S", help="the random draws (default 1)"
    )
    sim.add_argument(
        "--day",
        type=_day,
        metavar="DATE",
        help=f"the synthetic day (default {default_day().isoformat()})",
    )
    sim.add_argument("--json", action="store_true", help="the figures as one JSON line, last")
    sim.add_argument("--report", metavar="OUT.html", help="a self-contained HTML report")
    sim.add_argument("--progress", action="store_true", help="a progress bar even when piped")
    sim.set_defaults(run=run_simulate)

    export = commands.add_parser("export", help="export data from a store")
    what = export.add_subparsers(dest="export_command", required=True, parser_class=type(export))
    dem = what.add_parser("demand", help="a store's referrals as a demand file (no contact data)")
    dem.add_argument("--out", required=True, help="the demand file to write (JSONL)")
    dem.add_argument("--store", default="store_sqlite", help="store adapter (default store_sqlite)")
    dem.add_argument(
        "--setting", action="append", default=[], metavar="KEY=VALUE", help="adapter setting"
    )
    dem.set_defaults(run=run_export_demand)


def _count(text: str) -> int:
    if not (text.isascii() and text.isdigit() and len(text) <= 7) or int(text) < 1:
        raise argparse.ArgumentTypeError(
            f"must be a whole number from 1 to 9999999, got {excerpt(text)}"
        )
    return int(text)


def _count0(text: str) -> int:
    if not (text.isascii() and text.isdigit() and len(text) <= 18):
        raise argparse.ArgumentTypeError(f"must be a whole number >= 0, got {excerpt(text)}")
    return int(text)


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {excerpt(text)}") from None


class Progress:
    """A one-line progress bar on stderr: `label [#####     ] 40% 8000/20000`."""

    def __init__(self, label: str, enabled: bool):
        self.label, self.enabled, self._last = label, enabled, -1

    def __call__(self, done: int, total: int) -> None:
        if not self.enabled or not total:
            return
        percent = done * 100 // total
        if percent == self._last:
            return
        self._last = percent
        bar = "#" * (percent // 4)
        end = "\n" if done >= total else ""
        print(f"\r{self.label} [{bar:<25}] {percent:3d}% {done}/{total}", end=end, file=sys.stderr)


def run_simulate(args) -> int:
    if args.report:  # before the run, not after it: a missing plotting library says so at once
        from hod_core.reports.html_report import require_plotting

        require_plotting()
    policies = [load_policy(args.policy)]
    if args.compare:
        policies.append(load_policy(args.compare))
    behaviours = load_behaviour(args.behaviour) if args.behaviour else Behaviours()
    source = Path(args.agents).name
    with gc_paused():
        agents = [_placed(agent, line, source) for line, agent in wire.read_agents(args.agents)]
    if not agents:
        raise InputError("no agents in the file", source=source)
    if args.demand:
        if args.day:
            raise InputError("--day goes with --synthetic: a demand file has its own instants")
        requests = read_demand(args.demand)
        demand = {"source": "file", "file": Path(args.demand).name, "requests": len(requests)}
    else:
        day = args.day or default_day()
        requests = synthetic_day(args.synthetic, args.seed, policies[0], day)
        demand = {"source": "synthetic", "requests": len(requests), "day": day.isoformat()}
    show = args.progress or sys.stderr.isatty()
    runs = []
    for number, policy in enumerate(policies, start=1):
        label = f"policy {number}/{len(policies)}"
        simulation = Simulation(
            policy,
            agents,
            requests,
            behaviours,
            args.seed,
            progress=Progress(label, show),
            freeze_after_load=True,  # a process that only simulates (see Router)
        )
        run = simulation.run()
        del simulation  # one router's 100k agents at a time
        runs.append(_run_result(policy, run))
    result = {
        "kind": "hod.simulation",
        "version": 1,
        "inputs": {
            "agents_file": source,
            "agents": len(agents),
            "demand": demand,
            "seed": args.seed,
            "behaviour": behaviours.describe(),
        },
        "runs": runs,
        "comparison": None,
    }
    if len(runs) == 2:
        result["comparison"] = {
            "base": runs[0]["policy"],
            "other": runs[1]["policy"],
            "differences": compare(runs[0]["figures"], runs[1]["figures"]),
        }
    if args.report:
        from hod_core.reports.html_report import (
            write_simulation_report,  # the HTML report's own module
        )

        write_simulation_report(result, Path(args.report))
    if args.json:
        sys.stdout.write(json.dumps(result, separators=(",", ":")) + "\n")
    else:
        print_summary(result)
    return 0


def _placed(agent, line: int, source: str):
    """The agent, if the router can place it (a located ZIP, a time zone);
    else the InputError the router would raise, with the file and line."""
    try:
        place = zips.locate(agent.zip)
    except InputError as exc:
        raise exc.located(source=source, line=line) from None
    if agent.timezone is None and place.zone is None:
        raise InputError(
            f"no timezone given and ZIP {agent.zip} has none in the shipped data",
            field="timezone",
            source=source,
            line=line,
        )
    return agent


def _run_result(policy: Policy, run) -> dict[str, Any]:
    return {
        "policy": Path(policy.source).name if "(built in)" not in policy.source else policy.source,
        "parameters": {
            "offer_window_minutes": _minutes(policy.offer_window),
            "max_pending_offers_per_agent": policy.max_pending_offers_per_agent,
            "max_wait_minutes": _minutes(policy.max_wait),
            "suspension_consecutive_missed": policy.suspension_consecutive_missed,
        },
        "figures": figures_of(run.requests, run.referrals, run.suspensions, run.agents),
    }


def _minutes(delta) -> int | float:
    value = delta.total_seconds() / 60
    return int(value) if value.is_integer() else value


def print_summary(result: dict[str, Any]) -> None:
    runs = result["runs"]
    names = [r["policy"] for r in runs] + (["difference"] if len(runs) == 2 else [])
    columns = [r["figures"] for r in runs]
    if result["comparison"]:
        columns.append(result["comparison"]["differences"])
    print(f"{'':30}" + "".join(f"{n[:24]:>26}" for n in names))
    for label, path, unit in SUMMARY:
        cells = []
        for figures in columns:
            value: Any = figures
            for key in path:
                value = value.get(key) if isinstance(value, dict) else None
            cells.append(_cell(value, unit))
        print(f"{label:30}" + "".join(f"{c:>26}" for c in cells))


def _cell(value: Any, unit: str) -> str:
    if value is None:
        return "-"
    if unit == "share":
        return f"{value * 100 + 0.0:.1f}%".replace("-0.0%", "0.0%")
    if unit == "min":
        return f"{value:.1f} min".replace("-0.0 min", "0.0 min")
    return f"{value:g}" if isinstance(value, float) else str(value)


def run_export_demand(args) -> int:
    settings = {}
    for item in args.setting:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise InputError(f"expected KEY=VALUE, got {excerpt(item)}", field="--setting")
        settings[key] = value
    try:
        store = load_adapter(args.store, settings)
    except ConfigurationError as exc:  # no such adapter, a bad setting: the user's to fix
        raise InputError(str(exc), field="--store") from None
    try:
        if not callable(getattr(store, "hod_store_referrals", None)):
            raise InputError(
                f"{args.store} does not list referrals (it has no hod_store_referrals hook)",
                field="--store",
            )
        written, skipped = export_demand(store, args.out)
    finally:
        close = getattr(store, "close", None)
        if close is not None:
            close()
    note = f" ({skipped} skipped: their ZIP was erased, P2)" if skipped else ""
    plural = "" if written == 1 else "s"
    print(f"{args.out}: {written} request{plural} written{note}", file=sys.stderr)
    return 0
