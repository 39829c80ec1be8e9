"""`hod coverage` at national scale, against a brute-force count in the same run.

    python benchmarks/coverage.py                      # 100k agents, en and es
    python benchmarks/coverage.py --agents 10000 --languages en,es,vi --json

Synthetic agents (fixed seed) on real ZIPs of HealthCare.gov states are
written as JSONL and read back through the wire format (parse_s, the same
reader as `hod coverage`). The count (count_s, and its CPU time count_cpu_s,
steadier on a shared machine) is the median of three rounds over every
state, language and hour of the week of Monday 23 November 2026.
The baseline is `naive_coverage` (every rule on every agent at every hour,
through the matcher's naive scan) on a sample of the agents, extrapolated
to all of them by agents; the fast count on the same sample must give the
same numbers (same_counts). `cli_s` is `hod coverage` as a process, start to
end: Python starting, reading, counting and printing. The last line of
--json is one JSON object.
"""

from __future__ import annotations

import argparse
import gc
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

WEEK = date(2026, 11, 23)
ROUNDS = 3


def measure(agents: int, languages: list[str], sample: int) -> dict:
    from hod_core import wire
    from hod_core.coverage.counts import count_coverage
    from hod_core.coverage.naive import naive_coverage
    from hod_core.rules.policy import load_policy
    from hod_core.testing.synthetic import Synthesizer

    synth = Synthesizer(seed=2026)
    policy = load_policy()
    with tempfile.TemporaryDirectory() as folder:
        path = synth.write_agents(Path(folder) / "agents.jsonl", agents)
        gc.collect()
        started = time.perf_counter()
        parsed = [agent for _, agent in wire.read_agents(path)]
        parse_s = time.perf_counter() - started

        rounds, cpu = [], []
        for _ in range(ROUNDS):  # the machine is shared: report the median round
            gc.collect()
            started, started_cpu = time.perf_counter(), time.process_time()
            figures = count_coverage(parsed, policy, WEEK, languages)
            rounds.append(time.perf_counter() - started)
            cpu.append(time.process_time() - started_cpu)
        count_s, count_cpu_s = statistics.median(rounds), statistics.median(cpu)

        picked = parsed[:: max(1, len(parsed) // sample)][:sample]
        started, started_cpu = time.perf_counter(), time.process_time()
        naive = naive_coverage(picked, policy, WEEK, languages)
        naive_s, naive_cpu_s = time.perf_counter() - started, time.process_time() - started_cpu
        fast = count_coverage(picked, policy, WEEK, languages)["coverage"]
        same = all(fast[s][lang]["counts"] == naive[s][lang] for s in naive for lang in naive[s])

        command = [sys.executable, "-m", "hod_core.cli", "coverage", "--agents", str(path)]
        command += ["--week-of", WEEK.isoformat(), "--languages", ",".join(languages), "--json"]
        started = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True)
        cli_s = time.perf_counter() - started

    naive_estimate_s = naive_s * agents / len(picked)
    naive_estimate_cpu_s = naive_cpu_s * agents / len(picked)
    pairs = sum(len(by) for by in figures["coverage"].values())
    return {
        "agents": agents,
        "languages": languages,
        "state_language_pairs": pairs,
        "hours": 168,
        "parse_s": round(parse_s, 2),
        "count_s": round(count_s, 2),
        "count_cpu_s": round(count_cpu_s, 2),
        "count_us_per_agent": round(count_s / agents * 1e6, 1),
        "naive_sample_agents": len(picked),
        "naive_sample_s": round(naive_s, 2),
        "naive_estimate_s": round(naive_estimate_s, 1),
        "naive_estimate_cpu_s": round(naive_estimate_cpu_s, 1),
        "speedup": round(naive_estimate_s / count_s),
        "speedup_cpu": round(naive_estimate_cpu_s / count_cpu_s),
        "same_counts": same,
        "cli_s": round(cli_s, 2),
        "gaps": len(figures["gaps"]),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agents", type=int, default=100_000)
    parser.add_argument("--languages", default="en,es")
    parser.add_argument("--sample", type=int, default=100, help="agents in the naive baseline")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    result = measure(args.agents, args.languages.split(","), args.sample)
    if args.json:
        print(json.dumps(result))
    else:
        for key, value in result.items():
            print(f"{key:22} {value}")
    return 0 if result["same_counts"] else 1


if __name__ == "__main__":
    sys.exit(main())
