"""Match latency at national scale, against a naive scan of the same rules.

    python benchmarks/match.py                 # 1k, 10k and 100k agents
    python benchmarks/match.py --agents 100000 --json

For each size, in a fresh process pinned to one core: synthetic agents (fixed
seed) on real ZIPs of HealthCare.gov states are written as JSONL by a child
process (the synthesizer adds nothing to rss_mb), parsed and validated
(parse_s), loaded into a Matcher with every bucket's index built (load_s),
both in one span with the cyclic GC paused, as `hod match` and a server
load; then consumers drawn the same way are matched at Open Enrollment
instants (p50_us, p99_us: the median of three timed rounds after an untimed
one), for the queue length asked (--limit) and again for a queue of 10
(p50_us_limit10, p99_us_limit10). The untimed round leaves the matcher's ring
searches kept for these consumers' ZIPs, as a running server's are for the
ZIPs it sees; p50_us_cold and p99_us_cold are one round with none kept. The
baseline, measured in the same run, is `Matcher.naive_match`: every rule on
every agent, then a sort. Both queue lengths must give the same queue as the
naive scan on every baseline query (same_queue). The last line of --json is
one JSON object.

Targets at 100k agents: a queue of 1 p50 <= 25 us, p99 <= 150 us; a queue
of 10 p50 <= 60 us, p99 <= 300 us; parse_s + load_s <= 2 s; peak RSS <= 200 MB;
speedup >= 100.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

from printout import interpreter  # benchmarks/printout.py, beside this file

SIZES = (1_000, 10_000, 100_000)
ROUNDS = 3


def parse_the_reference_way(path: Path) -> float:
    """parse_s of the reference reading (json + cattrs, `fast=False`), timed in a
    child process: like parse_s it keeps every agent, without adding to this RSS."""
    code = (
        "import sys, time; from hod_core import wire; from hod_core.domain.models import Agent; "
        "started = time.perf_counter(); wire.read_jsonl_all(sys.argv[1], Agent, fast=False); "
        "print(time.perf_counter() - started)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(path)], capture_output=True, text=True, check=True
    )
    return float(done.stdout)


def write_inputs(folder: Path, agents: int, queries: int) -> None:
    """agents.jsonl and consumers.jsonl (consumer, instant) from the fixed seed, in
    this process: run as a child, so the synthesizer adds nothing to the RSS measured."""
    from hod_core.testing.synthetic import Synthesizer

    synth = Synthesizer(seed=2026)
    synth.write_agents(folder / "agents.jsonl", agents)
    with (folder / "consumers.jsonl").open("w") as out:
        for _ in range(queries):
            consumer = synth.consumer()
            out.write(json.dumps([consumer, synth.instant().isoformat()]) + "\n")


def measure(agents: int, queries: int, baseline_queries: int, limit: int) -> dict:
    import startup  # benchmarks/startup.py, beside this file

    from hod_core import wire
    from hod_core.domain.models import Agent, Consumer
    from hod_core.matching.matcher import RING_CACHE_POINTS, Matcher
    from hod_core.rules.policy import load_policy
    from hod_core.wire.bulk import gc_paused

    policy = load_policy()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "agents.jsonl"
        subprocess.run(
            [sys.executable, __file__, "--write-inputs", folder, "--agents", str(agents)]
            + ["--queries", str(queries)],
            check=True,
        )
        # The 96 MB just written would otherwise be flushing to disk while it
        # is read back, on this core: a file is read long after it was written.
        os.sync()
        gc.collect()
        # As `hod match` and a router load: the cyclic GC paused across reading
        # and building the matcher, each timed.
        with gc_paused():
            started = time.perf_counter()
            parsed = [agent for _, agent in wire.read_jsonl(path, Agent)]
            parse_s = time.perf_counter() - started
            started = time.perf_counter()
            matcher = Matcher(policy, parsed)
            matcher.warm()
            load_s = time.perf_counter() - started
            del parsed
        parse_old_s = parse_the_reference_way(path)
        with (Path(folder) / "consumers.jsonl").open() as lines:
            workload = [
                (wire.structure(consumer, Consumer), datetime.fromisoformat(at))
                for consumer, at in map(json.loads, lines)
            ]
    gc.collect()
    gc.freeze()  # a long-lived server does this after loading: no rescans of the agents

    matcher.ring_cache_points = 0  # cold: every ring search from the grid
    matcher.forget_rings()
    p50_cold_us, p99_cold_us = latencies_us(matcher, workload, limit, rounds=1, warm=False)
    matcher.ring_cache_points = RING_CACHE_POINTS
    p50_us, p99_us = latencies_us(matcher, workload, limit)
    fast_us, naive_us, same = versus_naive(matcher, workload[:baseline_queries], limit)
    p50_us_10, p99_us_10 = latencies_us(matcher, workload, 10)
    same_10 = versus_naive(matcher, workload[:baseline_queries], 10)[2]
    return {
        "agents": agents,
        "limit": limit,
        "queries": queries,
        "p50_us": p50_us,
        "p99_us": p99_us,
        "p50_us_limit10": p50_us_10,
        "p99_us_limit10": p99_us_10,
        "p50_us_cold": p50_cold_us,
        "p99_us_cold": p99_cold_us,
        "naive_ms": round(statistics.median(naive_us) / 1000, 2),
        "speedup": round(statistics.median(naive_us) / statistics.median(fast_us), 1),
        "same_queue": same and same_10,
        "parse_s": round(parse_s, 2),
        "parse_old_s": round(parse_old_s, 2),
        "parse_speedup": round(parse_old_s / parse_s, 1),
        "load_s": round(load_s, 2),
        "rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        **startup.in_child(agents),  # a Router on SQLite, these agents: benchmarks/startup.py
        "python": interpreter(),
    }


def latencies_us(matcher, workload, limit: int, rounds: int = ROUNDS, warm: bool = True):
    """(p50, p99) in us: the median over `rounds` timed rounds, after an untimed one."""
    if warm:  # steady state, as a running server is
        for consumer, at in workload:
            matcher.match(consumer, at, limit=limit)
    figures = []
    for _ in range(rounds):  # the machine is shared: report the median round
        latencies = []
        for consumer, at in workload:
            started = time.perf_counter_ns()
            matcher.match(consumer, at, limit=limit)
            latencies.append(time.perf_counter_ns() - started)
        latencies.sort()
        figures.append((latencies[len(latencies) // 2], latencies[int(len(latencies) * 0.99)]))
    return tuple(round(statistics.median(f[i] for f in figures) / 1000, 1) for i in (0, 1))


def versus_naive(matcher, workload, limit: int):
    """Each consumer matched and scanned naively: (match us, naive us, same queues)."""
    fast_us, naive_us, same = [], [], True
    for consumer, at in workload:
        started = time.perf_counter_ns()
        fast = matcher.match(consumer, at, limit=limit)
        fast_us.append((time.perf_counter_ns() - started) / 1000)
        started = time.perf_counter_ns()
        naive = matcher.naive_match(consumer, at, limit=limit)
        naive_us.append((time.perf_counter_ns() - started) / 1000)
        same = same and fast.queue == naive.queue
    return fast_us, naive_us, same


# Issue 16's targets at 100k agents; parse_s + load_s is checked as their sum.
TARGETS = {
    "p50_us": 25,
    "p99_us": 150,
    "p50_us_limit10": 60,
    "p99_us_limit10": 300,
    "rss_mb": 200,
}
PARSE_AND_LOAD_S = 2


def report(row: dict) -> str:
    if row["agents"] < 100_000:  # the targets are set at 100k agents
        figures = ", ".join(
            f"{k}={row[k]}"
            for k in (*TARGETS, "load_s", "speedup", "naive_ms", "parse_s", "same_queue")
        )
        return f"{row['agents']:>7} agents, limit {row['limit']}: {figures}"
    verdicts = []
    for key, target in TARGETS.items():
        verdicts.append(f"{key}={row[key]} ({'ok' if row[key] <= target else 'OVER'} <= {target})")
    both = round(row["parse_s"] + row["load_s"], 2)
    verdicts.append(
        f"parse_s+load_s={both} ({'ok' if both <= PARSE_AND_LOAD_S else 'OVER'}"
        f" <= {PARSE_AND_LOAD_S}; load_s={row['load_s']})"
    )
    verdicts.append(
        f"speedup={row['speedup']}x ({'ok' if row['speedup'] >= 100 else 'UNDER'} >= 100)"
    )
    return (
        f"{row['agents']:>7} agents, limit {row['limit']}: "
        + ", ".join(verdicts)
        + f", naive_ms={row['naive_ms']}, parse_s={row['parse_s']}, same_queue={row['same_queue']}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--agents", type=int, help="one size only (default: 1k, 10k, 100k)")
    parser.add_argument("--queries", type=int, default=3000)
    parser.add_argument("--baseline-queries", type=int, default=20)
    parser.add_argument(
        "--limit", type=int, default=1, help="queue length asked for (the router asks for 1)"
    )
    parser.add_argument(
        "--json", action="store_true", help="print one JSON object as the last line"
    )
    parser.add_argument("--write-inputs", metavar="FOLDER", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.write_inputs:  # the child measure() runs to make its inputs
        write_inputs(Path(args.write_inputs), args.agents, args.queries)
        return 0
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})  # one core
    if args.agents:
        row = measure(args.agents, args.queries, args.baseline_queries, args.limit)
        print(report(row))
        if args.json:
            print(json.dumps(row))
        return 0
    rows = []
    for size in SIZES:  # each size in its own process, so peak RSS is that size's
        done = subprocess.run(
            [
                sys.executable,
                __file__,
                "--agents",
                str(size),
                "--json",
                "--queries",
                str(args.queries),
                "--baseline-queries",
                str(args.baseline_queries),
                "--limit",
                str(args.limit),
            ],
            capture_output=True,
            text=True,
            check=True,
        )
        row = json.loads(done.stdout.strip().splitlines()[-1])
        rows.append(row)
        print(report(row), flush=True)
    if args.json:
        print(json.dumps(rows[-1]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
