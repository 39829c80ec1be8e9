"""`hod agents import` is all or nothing, whatever stops it: a real process on a
real SQLite file, stopped by SIGINT, SIGTERM, SIGHUP or SIGKILL at a point
drawn at random within each stage (starting, checking lines, saving, writing
the transaction), then the stored agents counted: none, or every one.

A stage is recognised by what the process shows, not by waiting: the
progress line on its terminal (a pseudo-terminal here) and, while the one
transaction is written, the SQLite write-ahead log growing past the store's
page cache. `HOD_TEST_SEED` repeats a run's draws (each failure names its seed).
"""

from __future__ import annotations

import os
import pty
import random
import select
import signal
import sqlite3
import subprocess
import sys
import time

import pytest

from hod_core.testing.synthetic import Synthesizer

AGENTS = 20_000  # bodies beyond the store's page cache: the transaction spills to the WAL
SEED = int(os.environ.get("HOD_TEST_SEED") or random.randrange(1 << 30))
DEADLINE_S = 300  # a process that never reaches a stage fails the test, never hangs it


@pytest.fixture(scope="module")
def agents_file(tmp_path_factory):
    return Synthesizer(seed=27).write_agents(tmp_path_factory.mktemp("import") / "a.jsonl", AGENTS)


@pytest.fixture
def folder(tmp_path):
    config = tmp_path / "hod.toml"
    config.write_text('notifiers = ["outbox"]\nfreeze_gc = false\ndelivery_threads = 0\n')
    return tmp_path / "data", ["--config", str(config), "--data-dir", str(tmp_path / "data")]


class Import:
    """`hod agents import` as a process, its stderr on a pseudo-terminal."""

    def __init__(self, file, folder_args):
        self.terminal, stderr = pty.openpty()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "hod_core.cli", "agents", "import", str(file), *folder_args],
            stdout=subprocess.PIPE,
            stderr=stderr,
        )
        os.close(stderr)
        self.shown = ""

    def read(self, timeout: float) -> bool:
        """Add what the process showed within `timeout` seconds; False at its end."""
        ready, _, _ = select.select([self.terminal], [], [], timeout)
        if not ready:
            return True
        try:
            chunk = os.read(self.terminal, 65536)
        except OSError:  # the process ended and closed its side
            return False
        self.shown += chunk.decode(errors="replace")
        return bool(chunk)

    def until(self, reached) -> bool:
        """Read until `reached()` holds (True) or the process ends (False)."""
        deadline = time.monotonic() + DEADLINE_S
        while not reached():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                return False
            self.read(0.01)
        return True

    def finish(self) -> int:
        self.proc.stdout.read()
        code = self.proc.wait(DEADLINE_S)
        while self.read(0.2):
            pass
        os.close(self.terminal)
        self.proc.stdout.close()
        return code


def stored(data_dir) -> int:
    path = data_dir / "hod.sqlite3"
    if not path.exists():
        return 0
    with sqlite3.connect(path) as db:
        tables = {name for (name,) in db.execute("SELECT name FROM sqlite_master")}
        return db.execute("SELECT count(*) FROM agents").fetchone()[0] if "agents" in tables else 0


def wal_bytes(data_dir) -> int:
    try:
        return (data_dir / "hod.sqlite3-wal").stat().st_size
    except FileNotFoundError:
        return 0


STAGES = ("starting", "checking", "saving", "writing")
CASES = [(signal.SIGINT, stage) for stage in STAGES] + [  # fmt: skip
    (signal.SIGTERM, "checking"),
    (signal.SIGTERM, "writing"),
    (signal.SIGHUP, "checking"),
    (signal.SIGHUP, "saving"),
    (signal.SIGKILL, "checking"),
    (signal.SIGKILL, "saving"),
    (signal.SIGKILL, "writing"),
]


@pytest.mark.parametrize(("signum", "stage"), CASES, ids=lambda v: getattr(v, "name", v))
def test_an_interrupted_import_saves_nothing_or_everything(agents_file, folder, signum, stage):
    data_dir, folder_args = folder
    rng = random.Random(f"{SEED}-{signum}-{stage}")
    run = Import(agents_file, folder_args)
    line = 1000 * rng.randrange(1, AGENTS // 1000)
    wal_past = rng.randrange(1, 8) << 20  # past 1 to 7 MB, below the transaction's size
    reached = {
        "starting": lambda: True,
        "checking": lambda: f"{line}/{AGENTS}" in run.shown,
        "saving": lambda: "saving" in run.shown,
        "writing": lambda: "saving" in run.shown and wal_bytes(data_dir) > wal_past,
    }[stage]
    at_stage = run.until(reached)
    run.proc.send_signal(signum)
    code = run.finish()
    count = stored(data_dir)
    why = (
        f"seed {SEED}: {signum.name} at {stage} (line {line}, WAL {wal_past}), shown {run.shown!r}"
    )
    assert count in (0, AGENTS), why
    if not at_stage:  # it committed before the WAL grew that far: all of it, then
        assert stage == "writing" and count == AGENTS, why
        return
    if stage != "starting" and signum != signal.SIGKILL:
        assert code == 128 + signum, why
        said = "all 20000 agents were saved" if count else "nothing was saved"
        # The progress line is ended first: the message is a line of its own, the last.
        assert run.shown.replace("\r\n", "\n").endswith(f"\nhod: import interrupted: {said}\n"), why
    if stage in ("starting", "checking"):
        assert count == 0, why


def test_an_import_after_an_interrupted_one_saves_everything(agents_file, folder):
    data_dir, folder_args = folder
    run = Import(agents_file, folder_args)
    run.until(lambda: "saving" in run.shown and wal_bytes(data_dir) > 1 << 20)
    run.proc.send_signal(signal.SIGKILL)
    run.finish()
    again = Import(agents_file, folder_args)
    assert again.finish() == 0, again.shown
    assert stored(data_dir) == AGENTS
    assert "saving 20000 agents in one transaction done" in again.shown


def test_a_bad_last_line_changes_nothing_stored(agents_file, folder, tmp_path):
    """Every line is checked before any is saved: agents imported before stay
    exactly as they were, and no new one is stored, when only the last line is bad."""
    data_dir, folder_args = folder
    first = tmp_path / "first.jsonl"
    lines = agents_file.read_text().splitlines()
    first.write_text("\n".join(lines[:3]) + "\n")
    assert Import(first, folder_args).finish() == 0
    with sqlite3.connect(data_dir / "hod.sqlite3") as db:
        before = db.execute("SELECT npn, revision, body FROM agents ORDER BY npn").fetchall()
    changed = [line.replace('"first_name": "', '"first_name": "Re') for line in lines[:50]]
    bad = tmp_path / "bad.jsonl"
    bad.write_text("\n".join([*changed, lines[50].replace('"zip": "', '"zip": "X')]) + "\n")
    run = Import(bad, folder_args)
    assert run.finish() == 2
    assert run.shown.strip().startswith("hod: bad.jsonl:51: zip: "), run.shown
    with sqlite3.connect(data_dir / "hod.sqlite3") as db:
        after = db.execute("SELECT npn, revision, body FROM agents ORDER BY npn").fetchall()
    assert after == before and len(before) == 3
