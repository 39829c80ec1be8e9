"""Stores on a fresh schema of the test run's PostgreSQL (hod_store_postgres.testing)."""

from __future__ import annotations

import pytest

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
