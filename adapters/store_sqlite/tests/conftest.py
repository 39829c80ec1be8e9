"""A database file with agents around Houston, and workers on it."""

from __future__ import annotations

from pathlib import Path

import pytest

from hod_core import Router
from hod_core.testing import FakeClock, Outbox, Worker, samples
from hod_store_sqlite import SqliteStore

HOUSTON_ZIPS = ["77002", "77030", "77005", "77004", "77006", "77007", "77008", "77009"]


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


@pytest.fixture
def spawn(db_path):
    workers = []

    def start() -> Worker:
        workers.append(Worker("store_sqlite", {"path": str(db_path)}))
        return workers[-1]

    yield start
    for worker in workers:
        worker.stop()
