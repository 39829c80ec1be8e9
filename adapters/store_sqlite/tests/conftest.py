"""A database file with agents around Houston, and workers on it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from hod_core.conformance import samples
from hod_core.router import Router
from hod_core.testing import FakeClock, Outbox
from hod_store_sqlite import SqliteStore

HOUSTON_ZIPS = ["77002", "77030", "77005", "77004", "77006", "77007", "77008", "77009"]
WORKER = Path(__file__).with_name("worker.py")


@pytest.fixture
def db_path(tmp_path) -> Path:
    return tmp_path / "hod.sqlite3"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(samples.START)


@pytest.fixture
def router(db_path, clock) -> Router:
    """The parent's router, with 40 agents saved: 5 per ZIP."""
    router = Router([SqliteStore(db_path), clock, Outbox()])
    for n in range(40):
        router.put_agent(samples.agent(str(1000 + n), HOUSTON_ZIPS[n % len(HOUSTON_ZIPS)]))
    return router


class Worker:
    def __init__(self, db_path: Path):
        self.process = subprocess.Popen(
            [sys.executable, str(WORKER), str(db_path)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            bufsize=1,
        )
        assert self.readline() == "ready"

    def send(self, *words) -> None:
        self.process.stdin.write(" ".join(map(str, words)) + "\n")
        self.process.stdin.flush()

    def readline(self) -> str:
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError(f"worker exited with {self.process.wait()}")
        return line.strip()

    def stop(self) -> None:
        self.process.kill()
        self.process.wait()


@pytest.fixture
def spawn(db_path):
    workers = []

    def start() -> Worker:
        workers.append(Worker(db_path))
        return workers[-1]

    yield start
    for worker in workers:
        worker.stop()
