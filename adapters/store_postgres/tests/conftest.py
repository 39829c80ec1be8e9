"""Stores on a fresh schema of the test run's PostgreSQL (hod_store_postgres.testing),
a router with agents around Houston, and worker processes on the same schema."""

from __future__ import annotations

import pytest
from psycopg import sql

from hod_core import Router
from hod_core.testing import FakeClock, Outbox, Worker, samples
from hod_store_postgres import PostgresStore


@pytest.fixture
def open_store(postgres_settings):
    """Open a store on the test's schema (again: each call is another instance,
    as another process would have); every one is closed after the test."""
    opened: list[PostgresStore] = []

    def open_(**changes) -> PostgresStore:
        opened.append(PostgresStore.from_settings({**postgres_settings, **changes}))
        return opened[-1]

    yield open_
    for store in opened:
        store.close()


HOUSTON_ZIPS = ["77002", "77030", "77005", "77004", "77006", "77007", "77008", "77009"]


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(samples.START)


@pytest.fixture
def router(open_store, clock) -> Router:
    """The parent's router, with 40 agents saved: 5 per ZIP."""
    router = Router([open_store(), clock, Outbox()])
    for n in range(40):
        router.put_agent(samples.agent(str(1000 + n), HOUSTON_ZIPS[n % len(HOUSTON_ZIPS)]))
    return router


@pytest.fixture
def spawn(postgres_settings):
    workers = []

    def start() -> Worker:
        workers.append(Worker("store_postgres", postgres_settings))
        return workers[-1]

    yield start
    for worker in workers:
        worker.stop()


@pytest.fixture
def pending_rows(postgres_server, postgres_settings):
    """npn -> (agent_load.pending, Pending offers counted in `offers`): E12's
    counter against the offers themselves."""

    def read() -> dict[str, tuple[int, int]]:
        schema = postgres_settings["schema"]
        load, offers = sql.Identifier(schema, "agent_load"), sql.Identifier(schema, "offers")
        with postgres_server.connect() as conn:
            rows = conn.execute(
                sql.SQL(
                    "SELECT l.npn, l.pending,"
                    " (SELECT count(*) FROM {} o WHERE o.npn = l.npn AND o.status = 'pending')"
                    " FROM {} l"
                ).format(offers, load)
            ).fetchall()
        return {npn: (pending, counted) for npn, pending, counted in rows}

    return read
