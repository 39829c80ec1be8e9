"""Scale-out on PostgreSQL: lifecycle rates with 1, 2 and 4 router processes on one
database, SQLite's rate as the baseline, and PostGIS KNN against hod_core's matcher.

    pip install -e adapters/store_sqlite -e adapters/store_postgres    # once
    python benchmarks/scale.py                 # 100k agents, a throwaway PostgreSQL
    python benchmarks/scale.py --agents 10000 --referrals 300 --json
    python benchmarks/scale.py --postgres-url postgresql://user:pw@host/db   # your server

PostgreSQL (and PostGIS for the second part) must be installed: without
`--postgres-url`, a throwaway cluster starts on a free loopback port
(fsync on, PostgreSQL's defaults otherwise) and is removed afterwards.

1. **Lifecycle rate.** 100k synthetic agents (fixed seed) are saved in the
   store; then 1, 2 and 4 router processes, each with its own store
   connection pool and matcher, run Get Contacted -> offer -> accept
   (`--referrals` each, after a warm-up) at the same time, their clocks at
   noon Eastern on a Monday of Open Enrollment, one second apart per
   referral. The rate is all processes' referrals over the slowest one's
   time. SQLite's rate (one process, the embedded default) is the baseline,
   measured in the same run. `*_router_cpu_ms`: the routers' own CPU time
   per referral (the database's comes on top, on the same cores): with as
   many processes as cores, more processes cannot add throughput.
2. **The query a CRM team would write instead**: the same agents in a
   PostGIS table, nearest first by KNN (`geog <-> point` on a GiST index)
   with the same filters (participation and terms, suspension, display
   option, state licence with a health line, home-state-only, state
   preferences, language: GIN indexes), ties by NPN as the matcher breaks
   them, availability (A1-A4 at the query's instant) as a precomputed column,
   which favours the query. Both answer the same consumers; p50 of each,
   the ratio, and whether both give the same head of the queue: the same
   agent (`same_head`), or one within half a percent of its distance
   (`near_tie_head`: KNN orders on a sphere, the matcher on the ellipsoid);
   any other is printed.

The last line of --json is one JSON object.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

from lifecycle import NoopNotifier  # benchmarks/lifecycle.py, beside this file
from printout import print_result  # benchmarks/printout.py, beside this file

AT = "2026-11-23T12:00:00-05:00"
SCHEMA = "hod_bench"
PROCESS_COUNTS = (1, 2, 4)
SYNTH_SEED = 2026
# Two agents whose distances differ by less than this share are a tie for the
# check: PostGIS's KNN orders by distance on a sphere, the matcher by WGS84
# geodesic distance, and the two orders can swap agents this close.
NEAR_TIE = 0.005


# -- one router process ----------------------------------------------------------------
def worker(config: dict) -> None:
    """Open the store, load the agents, say ready; on `go`, run the referrals."""
    from hod_core.extend.plugins import load_adapter
    from hod_core.lifecycle.router import Router
    from hod_core.testing.doubles import FakeClock
    from hod_core.testing.synthetic import Synthesizer

    synth = Synthesizer(seed=SYNTH_SEED + 1 + config["index"])
    consumers = [synth.consumer() for _ in range(config["warmup"] + config["referrals"])]
    clock = FakeClock(datetime.fromisoformat(AT))
    started = time.perf_counter()
    store = load_adapter(config["store"], config["settings"])
    router = Router([store, clock, NoopNotifier()], delivery_threads=0, freeze_after_load=True)
    load_s = time.perf_counter() - started

    def one(consumer) -> bool:
        clock.advance(seconds=1)
        referral = router.request_contact(consumer)
        offer = referral.pending_offer
        if offer is not None:
            router.accept(referral.id, offer.npn)
        return offer is not None

    for consumer in consumers[: config["warmup"]]:
        one(consumer)
    print(json.dumps({"ready": True, "load_s": load_s}), flush=True)
    sys.stdin.readline()  # go
    started, cpu = time.perf_counter(), time.process_time()
    accepted = sum(one(c) for c in consumers[config["warmup"] :])
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    print(json.dumps({"count": config["referrals"], "elapsed": elapsed, "cpu": cpu,
                      "accepted": accepted}))  # fmt: skip


def run_processes(count: int, store: str, settings: dict, args) -> dict:
    """`count` router processes at once; their combined rate."""
    workers = []
    for index in range(count):
        config = {"index": index, "store": store, "settings": settings,
                  "referrals": args.referrals, "warmup": args.warmup}  # fmt: skip
        workers.append(
            subprocess.Popen(
                [sys.executable, __file__, "--worker", json.dumps(config)],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
            )
        )
    loads = [json.loads(w.stdout.readline())["load_s"] for w in workers]
    for w in workers:
        w.stdin.write("go\n")
        w.stdin.flush()
    results = [json.loads(w.stdout.readline()) for w in workers]
    for w in workers:
        w.wait()
    total = sum(r["count"] for r in results)
    return {
        "rate": round(total / max(r["elapsed"] for r in results)),
        "accepted_share": round(sum(r["accepted"] for r in results) / total, 3),
        # the routers' own CPU per referral; the database's comes on top, on the same cores
        "router_cpu_ms": round(sum(r["cpu"] for r in results) / total * 1000, 2),
        "load_s": round(max(loads), 2),
    }


# -- PostGIS against the matcher ----------------------------------------------------------
POSTGIS_TABLE = """
CREATE EXTENSION IF NOT EXISTS postgis;
DROP TABLE IF EXISTS crm_agents;
CREATE TABLE crm_agents (
    npn             bigint PRIMARY KEY,
    geog            geography(Point, 4326) NOT NULL,
    eligible        boolean NOT NULL,   -- E1-E4: participation, terms, not suspended, option
    available       boolean NOT NULL,   -- E10 at the query's instant (A1-A4)
    health_states   text[] NOT NULL,    -- E6: active health licences, not expired
    display_option  integer NOT NULL,
    home_state      text NOT NULL,
    state_prefs     text[],             -- E8: NULL = never narrowed
    languages       text[] NOT NULL     -- E9
);
"""
POSTGIS_INDEXES = """
CREATE INDEX crm_agents_geog ON crm_agents USING gist (geog);
CREATE INDEX crm_agents_states ON crm_agents USING gin (health_states);
CREATE INDEX crm_agents_languages ON crm_agents USING gin (languages);
ANALYZE crm_agents;
"""
KNN = """
SELECT npn, ST_Distance(geog, %(point)s::geography) FROM crm_agents
WHERE eligible AND available
  AND health_states @> ARRAY[%(state)s]::text[]
  AND languages @> ARRAY[%(language)s]::text[]
  AND (display_option <> 3 OR home_state = %(state)s)
  AND (display_option = 3 OR state_prefs IS NULL OR state_prefs @> ARRAY[%(state)s]::text[])
ORDER BY geog <-> %(point)s::geography, npn
LIMIT 1
"""


def crm_rows(matcher, at: datetime):
    """Each agent as the CRM table holds it, its facts as the matcher placed them."""
    from hod_core.matching.availability import LocalClock

    for record in matcher.records():
        clock = LocalClock.of(at, record.zone)
        states = [s for s, until in record.health_licenses.items()
                  if until is None or until >= clock.date]  # fmt: skip
        prefs = record.state_preferences
        yield (
            int(record.npn),
            f"SRID=4326;POINT({record.lon} {record.lat})",
            record.static_failure is None,
            record.plan.available(clock),
            states,
            record.display_option,
            record.home_state,
            None if prefs is None else sorted(prefs),
            list(record.languages),
        )


def knn_vs_matcher(conn, agents, consumers, at: datetime) -> dict:
    from hod_core import wire
    from hod_core.domain.models import Consumer
    from hod_core.geo import zips
    from hod_core.matching.match_facts import ConsumerFacts
    from hod_core.matching.matcher import Matcher

    matcher = Matcher(agents=agents)
    conn.execute(POSTGIS_TABLE)
    with conn.cursor().copy("COPY crm_agents FROM STDIN") as copy:
        for row in crm_rows(matcher, at):
            copy.write_row(row)
    conn.execute(POSTGIS_INDEXES)
    matcher_us, knn_us, same, tie, asked = [], [], 0, 0, 0
    for data in consumers:
        consumer = wire.structure(data, Consumer)
        place = zips.locate(consumer.zip)
        facts = ConsumerFacts.of(consumer)
        params = {"point": f"SRID=4326;POINT({place.lon} {place.lat})",
                  "state": facts.state, "language": consumer.language}  # fmt: skip
        started = time.perf_counter()
        queue = matcher.match(consumer, at, limit=1).queue
        matcher_us.append((time.perf_counter() - started) * 1e6)
        started = time.perf_counter()
        row = conn.execute(KNN, params).fetchone()
        knn_us.append((time.perf_counter() - started) * 1e6)
        asked += 1
        ours = queue[0] if queue else None
        if ours is None or row is None:
            same += (ours is None) == (row is None)
        elif ours.npn == str(row[0]):
            same += 1
        elif abs(ours.distance_km * 1000 - row[1]) <= NEAR_TIE * row[1]:
            tie += 1  # KNN orders on the sphere, the matcher on the ellipsoid
        else:
            print(f"different head: {consumer.zip} ours {ours} postgis {row}", file=sys.stderr)
    return {
        "postgis_p50_us": round(statistics.median(knn_us)),
        "matcher_p50_us": round(statistics.median(matcher_us)),
        "same_head": same,
        "near_tie_head": tie,
        "consumers_compared": asked,
    }


# -- the run -----------------------------------------------------------------------------
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agents", type=int, default=100_000)
    parser.add_argument("--referrals", type=int, default=1_000, help="per process, timed")
    parser.add_argument("--warmup", type=int, default=100, help="per process, untimed")
    parser.add_argument("--consumers", type=int, default=1_000, help="for PostGIS vs matcher")
    parser.add_argument("--postgres-url", help="an existing server (default: a throwaway one)")
    parser.add_argument("--skip-lifecycle", action="store_true", help="only PostGIS vs matcher")
    parser.add_argument("--json", action="store_true", help="end with one JSON line")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        return worker(json.loads(args.worker))
    try:
        from hod_store_postgres import PostgresStore
        from hod_store_postgres.cluster import ThrowawayCluster
        from hod_store_sqlite import SqliteStore
    except ImportError:
        sys.exit("benchmarks/scale.py needs both store adapters: pip install -e "
                 "adapters/store_sqlite -e adapters/store_postgres")  # fmt: skip
    import psycopg

    from hod_core import wire
    from hod_core.domain.models import Agent
    from hod_core.testing.synthetic import Synthesizer

    synth = Synthesizer(seed=SYNTH_SEED)
    agents = [wire.structure(synth.agent(str(10_000_000 + i)), Agent) for i in range(args.agents)]
    consumers = [synth.consumer() for _ in range(args.consumers)]
    cluster = None
    if args.postgres_url is None:
        cluster = ThrowawayCluster(durable=True, settings={"shared_buffers": "'256MB'"}).start()
    url = args.postgres_url or cluster.url()
    try:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")
        pg_settings = {"url": url, "schema": SCHEMA}
        started = time.perf_counter()
        store = PostgresStore.from_settings(pg_settings)
        store.hod_store_put_agents(agents=agents, events=())
        store.close()
        pg_save_s = time.perf_counter() - started
        with psycopg.connect(url, autocommit=True) as conn:
            # A database at rest, as in service: the bulk load's first VACUUM
            # (hint bits, visibility map) and its checkpoint are not the routers' cost.
            conn.execute(f"VACUUM (ANALYZE) {SCHEMA}.agents")
            with contextlib.suppress(psycopg.errors.InsufficientPrivilege):
                conn.execute("CHECKPOINT")
        result = {"agents": args.agents, "referrals_per_process": args.referrals,
                  "cores": len(os.sched_getaffinity(0)), "pg_save_s": round(pg_save_s, 2)}  # fmt: skip
        for count in () if args.skip_lifecycle else (0, *PROCESS_COUNTS):
            if count:
                measured = run_processes(count, "store_postgres", pg_settings, args)
                result[f"pg_rate_{count}"] = measured["rate"]
                result[f"pg_load_s_{count}"] = measured["load_s"]
                result[f"pg_accepted_share_{count}"] = measured["accepted_share"]
                result[f"pg_router_cpu_ms_{count}"] = measured["router_cpu_ms"]
                continue
            with tempfile.TemporaryDirectory() as folder:
                path = Path(folder) / "hod.sqlite3"
                sqlite = SqliteStore(path)
                for agent in agents:
                    sqlite.hod_store_put_agent(agent=agent, events=())
                sqlite.close()
                baseline = run_processes(1, "store_sqlite", {"path": str(path)}, args)
            result["sqlite_rate"] = baseline["rate"]
            result["sqlite_load_s"] = baseline["load_s"]
            result["sqlite_router_cpu_ms"] = baseline["router_cpu_ms"]
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(f"SET search_path = {SCHEMA}, public")
            result.update(knn_vs_matcher(conn, agents, consumers, datetime.fromisoformat(AT)))
        result["matcher_vs_postgis"] = round(result["postgis_p50_us"] / result["matcher_p50_us"], 1)
    finally:
        if cluster is not None:
            cluster.destroy()
    print_result(result, args.json)


if __name__ == "__main__":
    main()
