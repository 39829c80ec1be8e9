"""`hod agents import` into PostgreSQL is all or nothing, whatever stops it: a
real process on the test run's server, stopped by SIGINT, SIGTERM, SIGHUP or
SIGKILL at a point drawn at random within a stage, then the stored agents
counted: none, or every one.

A stage is recognised by what the process shows, not by waiting: the
progress line on its terminal (a pseudo-terminal here) and, for `writing`,
its connection seen running the bulk save (COPY, or the insert from the
copied rows) in `pg_stat_activity`. `HOD_TEST_SEED` repeats a run's draws.
"""

from __future__ import annotations

import os
import pty
import random
import select
import signal
import subprocess
import sys
import time

import psycopg
import pytest
from psycopg import sql

from hod_core.testing import Synthesizer

AGENTS = 20_000
SEED = int(os.environ.get("HOD_TEST_SEED") or random.randrange(1 << 30))
DEADLINE_S = 300


@pytest.fixture(scope="module")
def agents_file(tmp_path_factory):
    return Synthesizer(seed=27).write_agents(tmp_path_factory.mktemp("import") / "a.jsonl", AGENTS)


@pytest.fixture
def config(tmp_path, postgres_settings):
    path = tmp_path / "hod.toml"
    path.write_text(
        'store = "store_postgres"\nnotifiers = ["outbox"]\nfreeze_gc = false\n'
        f'delivery_threads = 0\n[store_settings]\nurl = "{postgres_settings["url"]}"\n'
        f'schema = "{postgres_settings["schema"]}"\n'
    )
    return ["--config", str(path), "--data-dir", str(tmp_path / "data")]


def run_import(file, config) -> tuple[subprocess.Popen, int]:
    terminal, stderr = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "hod_core.cli", "agents", "import", str(file), *config],
        stdout=subprocess.DEVNULL,
        stderr=stderr,
    )
    os.close(stderr)
    return proc, terminal


def shown_until(proc, terminal, reached) -> tuple[bool, str]:
    """Read the process's terminal until `reached(shown)`; (whether it was, shown)."""
    shown, deadline = "", time.monotonic() + DEADLINE_S
    while not reached(shown):
        if proc.poll() is not None or time.monotonic() > deadline:
            return False, shown
        if select.select([terminal], [], [], 0.01)[0]:
            try:
                shown += os.read(terminal, 65536).decode(errors="replace")
            except OSError:
                return False, shown
    return True, shown


def rest(proc, terminal, shown: str) -> tuple[int, str]:
    code = proc.wait(DEADLINE_S)
    while select.select([terminal], [], [], 0.2)[0]:
        try:
            chunk = os.read(terminal, 65536)
        except OSError:
            break
        if not chunk:
            break
        shown += chunk.decode(errors="replace")
    os.close(terminal)
    return code, shown


def writing(url: str, schema: str) -> bool:
    """Whether a connection is running the bulk save into this schema now."""
    with psycopg.connect(url, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT query FROM pg_stat_activity WHERE state = 'active'"
            " AND (query LIKE 'COPY incoming%' OR query LIKE 'INSERT INTO agents%SELECT%')"
            " AND pid <> pg_backend_pid()"
        ).fetchall()
    return bool(rows)


def stored(postgres_server, schema: str) -> int:
    with postgres_server.connect() as conn:
        exists = conn.execute("SELECT to_regclass(%s)", (f"{schema}.agents",)).fetchone()[0]
        if exists is None:
            return 0
        query = sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(schema, "agents"))
        return conn.execute(query).fetchone()[0]


CASES = [
    (signal.SIGINT, "checking"),
    (signal.SIGINT, "writing"),
    (signal.SIGTERM, "saving"),
    (signal.SIGTERM, "writing"),
    (signal.SIGHUP, "writing"),
    (signal.SIGKILL, "checking"),
    (signal.SIGKILL, "writing"),
]


@pytest.mark.parametrize(("signum", "stage"), CASES, ids=lambda v: getattr(v, "name", v))
def test_an_interrupted_import_saves_nothing_or_everything(
    agents_file, config, postgres_server, postgres_settings, signum, stage
):
    url, schema = postgres_settings["url"], postgres_settings["schema"]
    rng = random.Random(f"{SEED}-{signum}-{stage}")
    line = 1000 * rng.randrange(1, AGENTS // 1000)
    reached = {
        "checking": lambda shown: f"{line}/{AGENTS}" in shown,
        "saving": lambda shown: "saving" in shown,
        "writing": lambda shown: "saving" in shown and writing(url, schema),
    }[stage]
    proc, terminal = run_import(agents_file, config)
    at_stage, shown = shown_until(proc, terminal, reached)
    proc.send_signal(signum)
    code, shown = rest(proc, terminal, shown)
    count = stored(postgres_server, schema)
    why = f"seed {SEED}: {signum.name} at {stage} (line {line}), shown {shown!r}"
    assert count in (0, AGENTS), why
    if not at_stage:  # it committed before the test saw it writing: all of it, then
        assert stage == "writing" and count == AGENTS, why
        return
    if signum != signal.SIGKILL:
        assert code == 128 + signum, why
        said = f"all {AGENTS} agents were saved" if count else "nothing was saved"
        assert shown.replace("\r\n", "\n").endswith(f"\nhod: import interrupted: {said}\n"), why
    if stage == "checking":
        assert count == 0, why
