"""Referrals per second through create -> offer -> accept, 100k agents loaded.

    pip install -e adapters/store_sqlite           # once: the SQLite store adapter
    python benchmarks/lifecycle.py                  # both stores, 100k agents
    python benchmarks/lifecycle.py --agents 10000 --referrals 2000 --json

One process pinned to one core. Synthetic agents (fixed seed) are saved in
the store, then a router starts on it (load_s: reading every agent back and
building the matcher's indexes). Each timed referral is one Get Contacted
request as JSON-shaped data (validated), matched, committed with its offer
and notified on a no-op notifier (on the channels' worker threads, as a
Router does by default; `--delivery-threads 0` sends inline), then accepted by the offered agent: two
commits, each with its events. The clock moves one second per referral, at
noon Eastern on a Monday of Open Enrollment, so most agents are in hours.
Requests nobody can take now (they wait) count as referrals too: the work
to find that out is the same.

Each store runs five timed rounds after an untimed warm-up. The rate
reported is the best round's, timeit's convention (noise on a shared machine
only ever slows a round down), with the median round's beside it
(`*_median`), and the CPU time per referral of the least costly round
(`*_cpu_us_per_referral`, all the process's threads: on a machine shared
with other work it moves far less than the rate; 1e6 / it is the rate one
idle core would give). The baseline, measured in the same run, is the in-memory
store: the ratio `sqlite_vs_memory` is what durability costs. Target: at least
3,000 referrals/s on SQLite. Then a router starts on the SQLite file, in a
fresh process, from opening it to its first match (`startup_s`, with the
validating path beside it: every stored agent validated again; see
benchmarks/startup.py).
The last line of --json is one JSON object.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

from printout import interpreter, print_result  # benchmarks/printout.py, beside this file

TARGET_SQLITE_PER_S = 3_000
ROUNDS = 5


class NoopNotifier:
    def hod_notify_email(self, notice):
        pass

    def hod_notify_text(self, notice):
        pass

    def hod_notify_app(self, notice):
        pass


def run(store, agents, consumers, warmup: int, delivery_threads: int) -> dict:
    from hod_core.lifecycle.router import Router
    from hod_core.testing.doubles import FakeClock

    started = time.perf_counter()
    for agent in agents:
        store.hod_store_put_agent(agent=agent, events=())
    save_s = time.perf_counter() - started
    os.sync()  # what was saved is not flushing to disk during the timed rounds
    clock = FakeClock(datetime.fromisoformat("2026-11-23T12:00:00-05:00"))
    started = time.perf_counter()
    router = Router(
        [store, clock, NoopNotifier()],
        delivery_threads=delivery_threads,
        freeze_after_load=True,  # a process that is mostly a router: see Router
    )
    router.matcher.warm()
    load_s = time.perf_counter() - started

    def one(consumer) -> bool:
        clock.advance(seconds=1)
        referral = router.request_contact(consumer)
        offer = referral.pending_offer
        if offer is not None:
            router.accept(referral.id, offer.npn)
        return offer is not None

    for consumer in consumers[:warmup]:
        one(consumer)
    timed = consumers[warmup:]
    size = len(timed) // ROUNDS
    rates, cpu_us, accepted = [], [], 0
    for start in range(0, size * ROUNDS, size):
        started, cpu = time.perf_counter(), time.process_time()
        accepted += sum(one(c) for c in timed[start : start + size])
        rates.append(size / (time.perf_counter() - started))
        cpu_us.append((time.process_time() - cpu) / size * 1e6)
    return {
        "referrals_per_s": round(max(rates)),
        "median_per_s": round(statistics.median(rates)),
        "cpu_us": round(min(cpu_us)),
        "accepted_share": round(accepted / (size * ROUNDS), 3),
        "save_s": round(save_s, 2),
        "load_s": round(load_s, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agents", type=int, default=100_000)
    parser.add_argument("--referrals", type=int, default=3_000)
    parser.add_argument("--warmup", type=int, default=300)
    parser.add_argument(
        "--delivery-threads",
        type=int,
        default=4,
        help="worker threads per channel (the Router's default, 4); 0: send in the caller",
    )
    parser.add_argument("--json", action="store_true", help="end with one JSON line")
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})  # one core

    try:
        from hod_store_sqlite import SqliteStore  # checked before the long set-up
    except ImportError:
        sys.exit(
            "benchmarks/lifecycle.py needs the SQLite store: pip install -e adapters/store_sqlite"
        )
    import startup  # benchmarks/startup.py, beside this file

    from hod_core import wire
    from hod_core.domain.models import Agent
    from hod_core.stores.memory.memory_store import MemoryStore
    from hod_core.testing.synthetic import Synthesizer

    synth = Synthesizer(seed=2026)
    agents = [wire.structure(a, Agent) for a in synth.agents(args.agents)]
    consumers = [synth.consumer() for _ in range(args.warmup + args.referrals)]

    memory = run(MemoryStore(), agents, consumers, args.warmup, args.delivery_threads)
    with tempfile.TemporaryDirectory() as folder:
        sqlite = run(
            SqliteStore(Path(folder) / "hod.sqlite3"),
            agents,
            consumers,
            args.warmup,
            args.delivery_threads,
        )
        started = startup.measure(Path(folder) / "hod.sqlite3")
    result = {
        "agents": args.agents,
        "referrals": args.referrals,
        "delivery_threads": args.delivery_threads,
        "memory_referrals_per_s": memory["referrals_per_s"],
        "sqlite_referrals_per_s": sqlite["referrals_per_s"],
        "memory_median_per_s": memory["median_per_s"],
        "sqlite_median_per_s": sqlite["median_per_s"],
        "sqlite_vs_memory": round(sqlite["referrals_per_s"] / memory["referrals_per_s"], 2),
        "memory_cpu_us_per_referral": memory["cpu_us"],
        "sqlite_cpu_us_per_referral": sqlite["cpu_us"],
        "sqlite_target_per_s": TARGET_SQLITE_PER_S,
        "sqlite_meets_target": sqlite["referrals_per_s"] >= TARGET_SQLITE_PER_S,
        "accepted_share": sqlite["accepted_share"],
        "memory_load_s": memory["load_s"],
        "sqlite_save_s": sqlite["save_s"],
        "sqlite_load_s": sqlite["load_s"],
        "max_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        **started,
        "python": interpreter(),
    }
    print_result(result, args.json)


if __name__ == "__main__":
    main()
