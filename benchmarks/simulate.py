"""One simulated Open Enrollment day: 20,000 requests over 100k agents, timed.

    python benchmarks/simulate.py                    # 100k agents, 20,000 requests
    python benchmarks/simulate.py --agents 10000 --requests 5000 --json

One process pinned to one core. Synthetic agents (`hod_core.testing.synthetic`, fixed
seed) are written to a JSONL file, then the day runs as `hod simulate
--agents FILE --synthetic N` does, phase by phase: reading and validating
the agents file (parse_s), drawing the day (demand_s), loading the agents
into a store and a router (load_s), the simulated day itself, the real
Router on a fake clock (day_s), and the figures (figures_s). Target: the
whole under 60 s at 100k agents.

The baseline, in the same run, is the router's bare lifecycle over the same
agents and requests: each request at its own instant, accepted at once by
the offered agent (no sweeps, no re-offers, no waiting), as
`benchmarks/lifecycle.py` does on the in-memory store. `day_vs_lifecycle`
is what a whole simulated day costs over that floor: the re-offers after
rejects and misses, the sweeps, the waiting referrals matched again at each
sweep, the event queue. Wall times on a shared machine swing; `day_cpu_s`
(process time) is steadier. The last line of --json is one JSON object.
"""

from __future__ import annotations

import argparse
import os
import resource
import tempfile
import time
from pathlib import Path

from printout import print_result  # benchmarks/printout.py, beside this file

TARGET_S = 60.0


def timed(phases: dict, name: str, work):
    began, cpu = time.perf_counter(), time.process_time()
    value = work()
    phases[name] = round(time.perf_counter() - began, 2)
    phases[name.replace("_s", "_cpu_s")] = round(time.process_time() - cpu, 2)
    return value


def lifecycle(agents, demand, policy) -> dict:
    """The floor: each request created at its instant and accepted at once."""
    from hod_core.domain.models import Consumer
    from hod_core.lifecycle.router import Router
    from hod_core.simulate.engine import PLACEHOLDER
    from hod_core.stores.memory.memory_store import MemoryStore
    from hod_core.testing.doubles import FakeClock

    store, clock = MemoryStore(), FakeClock(demand[0].at)
    for agent in agents:
        store.hod_store_put_agent(agent=agent, events=())
    router = Router([store, clock], policy=policy, channels=(), delivery_threads=0)
    began, cpu = time.perf_counter(), time.process_time()
    for r in demand:
        clock.at = r.at
        consumer = Consumer(zip=r.zip, state=r.state, language=r.language, **PLACEHOLDER)
        referral = router.request_contact(consumer)
        if referral.pending_offer:
            router.accept(referral.id, referral.pending_offer.npn)
    return {
        "lifecycle_s": round(time.perf_counter() - began, 2),
        "lifecycle_cpu_s": round(time.process_time() - cpu, 2),
    }


def one_day(agents_file: Path, requests: int, seed: int) -> dict:
    from hod_core import wire
    from hod_core.rules.policy import load_policy
    from hod_core.simulate.behaviour import Behaviours
    from hod_core.simulate.demand import synthetic_day
    from hod_core.simulate.engine import Simulation
    from hod_core.simulate.figures import figures_of
    from hod_core.wire.bulk import gc_paused

    phases: dict[str, float] = {}
    policy = load_policy()

    def parse():
        with gc_paused():
            return [agent for _, agent in wire.read_agents(agents_file)]

    agents = timed(phases, "parse_s", parse)
    demand = timed(phases, "demand_s", lambda: synthetic_day(requests, seed, policy))
    simulation = timed(
        phases,
        "load_s",
        lambda: Simulation(policy, agents, demand, Behaviours(), seed, freeze_after_load=True),
    )
    run = timed(phases, "day_s", simulation.run)
    figures = timed(
        phases,
        "figures_s",
        lambda: figures_of(run.requests, run.referrals, run.suspensions, run.agents),
    )
    phases["total_s"] = round(sum(v for k, v in phases.items() if not k.endswith("cpu_s")), 2)
    simulation = run = None  # one router in memory at a time
    floor = lifecycle(agents, demand, policy)
    return {
        "agents": len(agents),
        **phases,
        **floor,
        "day_vs_lifecycle": round(phases["day_cpu_s"] / floor["lifecycle_cpu_s"], 2),
        "requests_per_s_of_day": round(requests / phases["day_s"]),
        "offers": figures["offers"],
        "share_accepted": figures["share_accepted"],
        "share_unmatched": figures["share_unmatched"],
        "time_to_accept_p50_min": figures["time_to_accept_minutes"]["p50"],
        "time_to_accept_p90_min": figures["time_to_accept_minutes"]["p90"],
        "missed_offers": figures["missed_offers"],
        "suspensions": figures["suspensions"],
        "offers_per_agent_gini": figures["offers_per_agent"]["gini"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agents", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", action="store_true", help="end with one JSON line")
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})  # one core

    from hod_core.testing.synthetic import Synthesizer

    with tempfile.TemporaryDirectory() as folder:
        agents_file = Synthesizer(seed=2026).write_agents(
            Path(folder) / "agents.jsonl", args.agents
        )
        day = one_day(agents_file, args.requests, args.seed)
    result = {
        "requests": args.requests,
        "seed": args.seed,
        **day,
        "target_s": TARGET_S,
        "meets_target": day["total_s"] < TARGET_S,
        "max_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }
    print_result(result, args.json)


if __name__ == "__main__":
    main()
