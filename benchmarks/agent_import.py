"""`hod agents import` at 100,000 agents: one transaction against one per agent,
on SQLite and on PostgreSQL, in the same run.

    pip install -e adapters/store_sqlite -e adapters/store_postgres    # once
    python benchmarks/agent_import.py                  # 100k agents, both stores
    python benchmarks/agent_import.py --agents 20000 --stores sqlite --json
    python benchmarks/agent_import.py --postgres-url postgresql://user:pw@host/db

Both paths import the same file of synthetic agents (fixed seed) into an
empty store through the server's import service (what `hod agents import`
runs): every line read and checked, merged with what is stored, then saved.

- `bulk`: `import_agents`, all agents in one transaction (`Router.put_agents`,
  the store's `hod_store_put_agents`: SQLite's executemany, PostgreSQL's COPY).
- `one_per_tx`: the same checked agents saved one `Router.put_agent` (one
  transaction, one commit) each: how the import saved them before.
  `--one-per-tx-agents N` times the first N only (reading and checking the
  whole file all the same) and scales the saving up to all the agents
  (printed as `*_one_per_tx_scaled_from`); on PostgreSQL, whose commits each
  wait for the disk, the default is the first 10,000.

SQLite runs on a file in a temporary folder (the store's defaults: WAL,
synchronous=NORMAL). PostgreSQL, without `--postgres-url`, is a throwaway
cluster on a free loopback port (fsync on, as benchmarks/scale.py starts it).
`*_s` are wall seconds, `*_cpu_s` this process's CPU seconds (the database
server's come on top for PostgreSQL). The last line of --json is one JSON object.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from printout import interpreter, print_result  # benchmarks/printout.py, beside this file

SYNTH_SEED = 2026
SCHEMA = "hod_import_bench"
SECRET = "b" * 40
TARGET_S = 5.0  # 100k agents, the whole import, on each store


def open_hod(folder: Path, store: str, store_settings: dict):
    from hod_core.server.context import Hod
    from hod_core.server.server_settings import ServerSettings

    settings = ServerSettings(
        data_dir=folder,
        secret_key=SECRET,
        store=store,
        store_settings=store_settings,
        notifiers=("outbox",),
        delivery_threads=0,
        freeze_gc=False,
    )
    return Hod(settings)


def timed(work) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    work()
    return time.perf_counter() - wall, time.process_time() - cpu


def bulk(file: Path, folder: Path, store: str, store_settings: dict) -> dict:
    from hod_core.server.services.agent_import import import_agents

    hod = open_hod(folder, store, store_settings)
    try:
        wall, cpu = timed(lambda: import_agents(hod, file))
        stored = len(hod.router.agents())
    finally:
        hod.router.close()
    return {"s": round(wall, 2), "cpu_s": round(cpu, 2), "stored": stored}


def one_per_tx(file: Path, folder: Path, store: str, store_settings: dict, most: int) -> dict:
    from hod_core.server.services.agent_import import plan_import

    hod = open_hod(folder, store, store_settings)
    try:
        plans = []
        plan_s, plan_cpu = timed(lambda: plans.append(plan_import(hod, file)))

        def save() -> None:
            for agent in plans[0].agents[:most]:
                hod.router.put_agent(agent, actor="operator:import")

        save_s, save_cpu = timed(save)
        stored = len(hod.router.agents())
    finally:
        hod.router.close()
    return {"plan_s": plan_s, "save_s": save_s, "cpu_s": plan_cpu + save_cpu, "stored": stored}


def compare(name: str, file: Path, count: int, most: int, settings_of) -> dict:
    """Both paths on a fresh store each: `settings_of(folder, run)` gives the store's."""
    result = {}
    with tempfile.TemporaryDirectory() as folder:
        fast = bulk(file, Path(folder) / "bulk", *settings_of(Path(folder), "bulk"))
        old = one_per_tx(
            file, Path(folder) / "old", *settings_of(Path(folder), "old"), min(most, count)
        )
    assert fast["stored"] == count, fast
    assert old["stored"] == min(most, count), old
    old_s = old["plan_s"] + old["save_s"] * count / min(most, count)
    result[f"{name}_bulk_s"] = fast["s"]
    result[f"{name}_bulk_cpu_s"] = fast["cpu_s"]
    result[f"{name}_one_per_tx_s"] = round(old_s, 2)
    result[f"{name}_one_per_tx_cpu_s"] = round(old["cpu_s"], 2)  # unscaled
    if most < count:
        result[f"{name}_one_per_tx_scaled_from"] = most
    result[f"{name}_ratio"] = round(old_s / fast["s"], 1)
    if count == 100_000:
        result[f"{name}_bulk_within_{TARGET_S:g}s"] = fast["s"] <= TARGET_S
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agents", type=int, default=100_000)
    parser.add_argument("--stores", default="sqlite,postgres", help="sqlite, postgres or both")
    parser.add_argument(
        "--one-per-tx-agents", type=int, help="time the old path on the first N (default: all)"
    )
    parser.add_argument(
        "--pg-one-per-tx-agents",
        type=int,
        default=10_000,
        help="the same on PostgreSQL (default 10,000: a commit each is minutes at 100k)",
    )
    parser.add_argument("--postgres-url", help="an existing server (default: a throwaway one)")
    parser.add_argument("--json", action="store_true", help="end with one JSON line")
    args = parser.parse_args()
    stores = args.stores.split(",")
    most = args.one_per_tx_agents or args.agents

    from hod_core.testing.synthetic import Synthesizer

    result = {"agents": args.agents, "python": interpreter()}
    with tempfile.TemporaryDirectory() as folder:
        file = Synthesizer(seed=SYNTH_SEED).write_agents(Path(folder) / "agents.jsonl", args.agents)
        if "sqlite" in stores:
            result.update(compare("sqlite", file, args.agents, most, sqlite_settings))
        if "postgres" in stores:
            result.update(postgres(file, args, min(most, args.pg_one_per_tx_agents)))
    print_result(result, args.json)


def sqlite_settings(folder: Path, run: str) -> tuple[str, dict]:
    return "store_sqlite", {"path": str(folder / f"{run}.sqlite3")}


def postgres(file: Path, args, most: int) -> dict:
    try:
        import psycopg

        from hod_store_postgres.cluster import ThrowawayCluster
    except ImportError:
        sys.exit("--stores postgres needs the adapter: pip install -e adapters/store_postgres")
    cluster = None
    if args.postgres_url is None:
        cluster = ThrowawayCluster(durable=True, settings={"shared_buffers": "'256MB'"}).start()
    url = args.postgres_url or cluster.url()
    try:

        def settings_of(_folder: Path, run: str) -> tuple[str, dict]:
            schema = f"{SCHEMA}_{run}"
            with psycopg.connect(url, autocommit=True) as conn:
                conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
            return "store_postgres", {"url": url, "schema": schema}

        return compare("pg", file, args.agents, most, settings_of)
    finally:
        if cluster is not None:
            cluster.destroy()


if __name__ == "__main__":
    main()
