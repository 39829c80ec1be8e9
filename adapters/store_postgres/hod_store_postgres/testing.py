"""pytest plugin: a PostgreSQL server for the conformance suite and the adapter's tests.

    pytest -p hod_core.testing.plugin -p hod_store_postgres.testing --hod-adapter store_postgres \\
        --pyargs hod_core.testing.conformance

The server is the one named by $HOD_TEST_POSTGRES_URL (a database where the
role may create schemas), or else a throwaway cluster on loopback started
for the run and removed after it (`cluster.ThrowawayCluster`). Each test
gets a fresh, empty schema in that database (the adapter's `schema`
setting: milliseconds, where a database per test costs a few tenths of a
second), dropped afterwards. Without PostgreSQL installed the tests are
skipped with a message saying so, except in CI (`CI` set), where that fails.
"""

from __future__ import annotations

import itertools
import os

import psycopg
import pytest
from psycopg import sql

from .cluster import ThrowawayCluster, find_bin_dir
from .store import close_all

URL_VARIABLE = "HOD_TEST_POSTGRES_URL"
_names = itertools.count(1)


class PostgresServer:
    """The tests' database (`url`), and the cluster if this run started one."""

    def __init__(self, url: str, cluster: ThrowawayCluster | None = None):
        self.url = url
        self.cluster = cluster

    def connect(self) -> psycopg.Connection:
        return psycopg.connect(self.url, autocommit=True)

    def new_schema(self) -> str:
        """A name for a schema nobody uses yet (the adapter creates it)."""
        return f"hod_test_{os.getpid()}_{next(_names)}"

    def drop_schema(self, name: str) -> None:
        close_all(self.url, name)
        with self.connect() as conn:
            conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(name)))


@pytest.fixture(scope="session")
def postgres_server():
    """The PostgreSQL server of this test run (see the module's docstring)."""
    named = os.environ.get(URL_VARIABLE)
    if named:
        yield PostgresServer(named)
        return
    if find_bin_dir() is None:
        message = (
            "PostgreSQL is not installed: no initdb under /usr/lib/postgresql/*/bin or on "
            f"the PATH (install Debian's postgresql package, or set {URL_VARIABLE})"
        )
        if os.environ.get("CI"):
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    # wal_recycle off: old WAL files are deleted, so a test can look for erased bytes (P2).
    with ThrowawayCluster(settings={"wal_recycle": "off"}) as cluster:
        yield PostgresServer(cluster.url(), cluster)


@pytest.fixture
def postgres_settings(postgres_server):
    """Settings of a store in a fresh schema of its own, dropped after the test."""
    schema = postgres_server.new_schema()
    yield {"url": postgres_server.url, "schema": schema}
    postgres_server.drop_schema(schema)


@pytest.fixture
def hod_far_end_settings(postgres_settings) -> dict[str, str]:
    return postgres_settings
