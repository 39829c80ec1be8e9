"""Start-up: a Router on a SQLite store of N agents, from opening the file to its first match.

    pip install -e adapters/store_sqlite
    python benchmarks/startup.py                    # 100k synthetic agents
    python benchmarks/startup.py --agents 10000 --json

Synthetic agents (the fixed seed of the other benchmarks) are saved in a
SQLite file, one `hod_store_put_agent` each. Then each measurement runs in a
fresh process, as a server starts: modules imported first, then the clock
runs from opening the store to the answer of one match, with the router as
`hod serve` builds it (default rule file, `freeze_after_load=True`).

The validating path is measured beside it, in the same run: a store opened
with `validate_on_load=true` puts every stored agent through the validating
converter again. Rounds alternate the two;
the best round of each is reported (noise only slows a round down), with
the CPU time of that round. `benchmarks/match.py` (`in_child`) and
`benchmarks/lifecycle.py` (`measure`) report these figures too.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from printout import print_result  # benchmarks/printout.py, beside this file

TARGET_S = 3.0
ROUNDS = 2


def save_agents(path: Path, agents) -> float:
    """Save validated `Agent`s in a new store at `path`; the seconds it took."""
    from hod_store_sqlite import SqliteStore

    store = SqliteStore(path)
    started = time.perf_counter()
    for agent in agents:
        store.hod_store_put_agent(agent=agent, events=())
    store.close()
    return time.perf_counter() - started


def _child(path: str, validate: bool) -> None:
    """One start-up, in this fresh process; prints wall and CPU seconds as JSON."""
    from datetime import datetime

    from hod_core import wire
    from hod_core.domain.models import Consumer
    from hod_core.lifecycle.router import Router
    from hod_core.testing.doubles import FakeClock
    from hod_core.testing.synthetic import Synthesizer
    from hod_store_sqlite import SqliteStore

    clock = FakeClock(datetime.fromisoformat("2026-11-23T12:00:00-05:00"))
    consumer = wire.structure(Synthesizer(seed=2026).consumer(), Consumer)
    started, cpu = time.perf_counter(), time.process_time()
    store = SqliteStore(path, validate_on_load=validate)
    router = Router([store, clock], channels=(), delivery_threads=0, freeze_after_load=True)
    router.matcher.match(consumer, clock.hod_now(), limit=1)
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu
    print(json.dumps({"wall_s": wall, "cpu_s": cpu, "agents": len(router.matcher)}))


def startup(path: Path, *, validate: bool) -> dict:
    """One start-up in a fresh process: {"wall_s", "cpu_s", "agents"}."""
    args = [sys.executable, __file__, "--child", str(path)] + (["--validate"] if validate else [])
    done = subprocess.run(args, capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def measure(path: Path, rounds: int = ROUNDS) -> dict:
    """Start-up on the store at `path`, trusted against validating, best of `rounds`."""
    os.sync()  # the file just written, not flushing to disk while it is read back
    runs: dict[bool, list[dict]] = {False: [], True: []}
    for _ in range(rounds):
        for validate in (False, True):
            runs[validate].append(startup(path, validate=validate))
    new, old = (min(runs[v], key=lambda r: r["wall_s"]) for v in (False, True))
    return {
        "startup_s": round(new["wall_s"], 2),
        "startup_cpu_s": round(new["cpu_s"], 2),
        "startup_validating_s": round(old["wall_s"], 2),
        "startup_validating_cpu_s": round(old["cpu_s"], 2),
        "startup_speedup": round(old["wall_s"] / new["wall_s"], 2),
        "startup_target_s": TARGET_S,
        "startup_meets_target": new["wall_s"] <= TARGET_S,
    }


def in_child(agents: int, rounds: int = ROUNDS) -> dict:
    """This benchmark for `agents` synthetic agents, in a child process (its
    memory is not the caller's): the `startup_*` figures, or none when the
    SQLite adapter is not installed."""
    try:
        import hod_store_sqlite  # noqa: F401
    except ImportError:
        return {}
    args = [sys.executable, __file__, "--agents", str(agents), "--rounds", str(rounds), "--json"]
    done = subprocess.run(args, capture_output=True, text=True, check=True)
    row = json.loads(done.stdout.strip().splitlines()[-1])
    return {key: value for key, value in row.items() if key.startswith("startup")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agents", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=ROUNDS)
    parser.add_argument("--json", action="store_true", help="end with one JSON line")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--validate", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(args.child, args.validate)
        return
    try:
        import hod_store_sqlite  # noqa: F401 - checked before the long set-up
    except ImportError:
        sys.exit(
            "benchmarks/startup.py needs the SQLite store: pip install -e adapters/store_sqlite"
        )
    from hod_core import wire
    from hod_core.domain.models import Agent
    from hod_core.testing.synthetic import Synthesizer

    synth = Synthesizer(seed=2026)
    agents = [wire.structure(a, Agent) for a in synth.agents(args.agents)]
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "hod.sqlite3"
        result = {"agents": args.agents, "save_s": round(save_agents(path, agents), 2)}
        result.update(measure(path, args.rounds))
    print_result(result, args.json)


if __name__ == "__main__":
    main()
