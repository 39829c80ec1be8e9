"""Settings, the connection pool, and transactions that survive a dropped connection.

Every hook runs through `Database.read` (one statement or a few, autocommit)
or `Database.write` (one transaction). When the database restarts or fails
over, the pool's connections break; a hook that meets a broken one has the
pool check its idle connections and tries again on a fresh one, for up to
`timeout_s`, so a restart costs only the calls the database was down for.
A write is retried only when the failure came before COMMIT was sent, so
nothing is ever written twice; a connection lost during COMMIT leaves the
outcome unknown and says so (`StoreUnavailable`), rather than guessing.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import TypeVar

import attrs
import orjson
import psycopg
import psycopg_pool
from psycopg.conninfo import conninfo_to_dict
from psycopg.types.json import set_json_loads

import hod_core
from hod_core import ConfigurationError, StoreError, adapter_config, secret

from .schema import migrate

log = logging.getLogger(__name__)
T = TypeVar("T")
ENV_PREFIX = "HOD_POSTGRES_"
# The pool retries a failed connection with a doubling delay; after a long
# outage that delay would outlast the outage itself. Giving up after this
# long lets the next request start a fresh attempt at once, so service
# resumes within seconds of the database's return.
RECONNECT_GIVE_UP_S = 0.5
ACQUIRE_S = 0.5  # a wait for a free connection, asked again until `timeout_s`


class StoreUnavailable(hod_core.StoreUnavailable):
    """The database could not be reached, or a commit's outcome is unknown.
    A server answers 503: the request may be tried again."""


@attrs.frozen
class PostgresSettings:
    """Settings of `store_postgres` (environment: HOD_POSTGRES_<NAME>)."""

    url: str = secret()
    """The database: `postgresql://user:password@host:port/database` (a libpq URI or
    key=value string)."""
    schema: str = "public"
    """The tables' schema, a lower-case SQL name: several deployments may share one database."""
    pool_min: int = 2
    """Connections kept open per process."""
    pool_max: int = 10
    """At most this many connections per process."""
    timeout_s: float = 10.0
    """Seconds to wait for a free connection, or to connect."""
    claim_s: float = 3.0
    """Seconds a sweep's claim on due referrals keeps other processes' sweeps off them."""
    agent_poll_s: float = 2.0
    """Seconds between backstop polls for agents saved by other processes."""
    scrub_every_s: float = 3600.0
    """Erased contact data is rewritten out of the tables at most this often, in seconds (P2)."""
    application_name: str = "hod-core"
    """The name this store's connections show in `pg_stat_activity`."""
    validate_on_load: bool = False
    """True: every stored agent goes through the validating converter again when read
    (a row edited by hand, stricter checks after an upgrade); see StoredAgentDecoder."""

    def __attrs_post_init__(self):
        for name in ("pool_max", "timeout_s", "claim_s", "agent_poll_s"):
            if getattr(self, name) <= 0:
                raise ConfigurationError(f"store_postgres: {name} must be positive")
        for name in ("pool_min", "scrub_every_s"):
            if getattr(self, name) < 0:
                raise ConfigurationError(f"store_postgres: {name} must be positive")
        if not re.fullmatch(r"[a-z_][a-z0-9_]{0,39}", self.schema):
            raise ConfigurationError(
                "store_postgres: schema must be a lower-case SQL name (letters, digits, _)"
            )
        if self.pool_min > self.pool_max:
            raise ConfigurationError("store_postgres: pool_min is larger than pool_max")

    @classmethod
    def of(cls, settings: Mapping[str, str]) -> PostgresSettings:
        return adapter_config(cls, settings, env_prefix=ENV_PREFIX)

    def where(self) -> str:
        """The database's host, port and name for messages: never the password."""
        try:
            parts = conninfo_to_dict(self.url)
        except psycopg.ProgrammingError:
            raise ConfigurationError("store_postgres: url is not a PostgreSQL URL") from None
        host = parts.get("host") or parts.get("hostaddr") or "localhost"
        database = parts.get("dbname") or "(default)"
        return f"{host}:{parts.get('port') or 5432}/{database} schema {self.schema}"


def _configure(conn: psycopg.Connection) -> None:
    set_json_loads(orjson.loads, conn)  # jsonb columns come back parsed by orjson
    conn.execute("SET TIME ZONE 'UTC'")  # instants come back in UTC


class Database:
    """A pool of autocommit connections to one database, migrated on open."""

    def __init__(self, settings: PostgresSettings):
        self.settings = settings
        self.where = settings.where()
        options = conninfo_to_dict(settings.url).get("options") or ""
        self.connect_kwargs = {
            "connect_timeout": max(1, round(settings.timeout_s)),
            "application_name": settings.application_name,
            # every statement names its tables unqualified: the schema is the path
            "options": f"{options} -c search_path={settings.schema}".strip(),
        }
        try:
            with psycopg.connect(settings.url, autocommit=True, **self.connect_kwargs) as conn:
                found = migrate(conn, settings.schema, self.where)
        except psycopg.Error as exc:
            raise StoreError(
                f"store_postgres: cannot open {self.where}: {_first_line(exc)}"
            ) from None
        if found:
            log.info("store_postgres: %s at schema version %d", self.where, found)
        self.pool = psycopg_pool.ConnectionPool(
            settings.url,
            kwargs={"autocommit": True, **self.connect_kwargs},
            min_size=settings.pool_min,
            max_size=settings.pool_max,
            timeout=settings.timeout_s,
            configure=_configure,
            name="hod-store",
            reconnect_timeout=RECONNECT_GIVE_UP_S,
            open=True,
        )

    def read(self, work: Callable[[psycopg.Connection], T]) -> T:
        """`work` on a connection outside any transaction (each statement its own)."""
        return self._run(work, transaction=False)

    def once(self, work: Callable[[psycopg.Connection], T]) -> T:
        """`work` as `read` does it, but never twice: a dropped connection's
        `psycopg.OperationalError` reaches the caller, who finds out what happened."""
        with self._connection(time.monotonic() + self.settings.timeout_s) as conn:
            return work(conn)

    def write(self, work: Callable[[psycopg.Connection], T]) -> T:
        """`work` in one transaction: all of it is committed, or none of it."""
        return self._run(work, transaction=True)

    def _run(self, work: Callable[[psycopg.Connection], T], *, transaction: bool) -> T:
        """Until `timeout_s` has passed: a call that meets a dropped connection
        before it could commit anything is tried again on a fresh one."""
        deadline = time.monotonic() + self.settings.timeout_s
        while True:
            committing = False
            try:
                with self._connection(deadline) as conn:
                    if not transaction:
                        return work(conn)
                    with conn.transaction():
                        result = work(conn)
                        committing = True  # the block's end sends COMMIT
                    return result
            except psycopg.OperationalError as exc:
                if committing:
                    raise StoreUnavailable(
                        f"store_postgres: the connection to {self.where} was lost while "
                        "committing; the change may or may not be stored"
                    ) from exc
                if time.monotonic() >= deadline:
                    raise StoreUnavailable(
                        f"store_postgres: {self.where} is unavailable: {_first_line(exc)}"
                    ) from exc
                self.pool.check()  # drop every broken idle connection, then again

    @contextmanager
    def _connection(self, deadline: float) -> Iterator[psycopg.Connection]:
        """A connection from the pool, asked for in short waits until `deadline`:
        each ask lets the pool start a new attempt to connect, so a database
        back from a restart is found within ACQUIRE_S, not after a long backoff."""
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise self._no_connection()
            try:
                conn = self.pool.getconn(timeout=min(ACQUIRE_S, left))
                break
            except psycopg_pool.PoolTimeout:
                continue
        try:
            yield conn
        finally:
            self.pool.putconn(conn)

    def _no_connection(self) -> StoreUnavailable:
        return StoreUnavailable(
            f"store_postgres: no connection to {self.where} within {self.settings.timeout_s:g} s"
        )

    def close(self) -> None:
        self.pool.close()


def _first_line(exc: Exception) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
