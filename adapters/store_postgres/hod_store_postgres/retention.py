"""Personal-data retention (P2) on PostgreSQL: a mix-in of `PostgresStore`.

PostgreSQL never overwrites a row in place: an UPDATE leaves the old version
in the table's file until VACUUM, and even then its bytes stay in the page's
free space until reused. So the consumer's contact data is kept apart, in
`referral_contacts`, written once when the referral is created and deleted
when the sweep erases it (`contacts_at` below); the referral's own row, which
every commit rewrites, never holds it. The bytes of erased contacts then
live only in that one small table (referrals still within their retention),
and `hod_store_scrub` rewrites it (`VACUUM FULL`, its old file deleted):
at most every `scrub_every_s` seconds across all processes (the database
remembers when), since the rewrite locks the table for its length, about a
second per 100 MB. It then closes the current write-ahead log file and asks
for a CHECKPOINT, so the WAL that held the erased rows can go; that needs
EXECUTE on pg_switch_wal and the pg_checkpoint role (or a superuser), and
the server's `wal_recycle = off`, which deletes old WAL files rather than
reusing them with their old bytes; without them the WAL is overwritten in
the course of the server's own checkpoints. Backups, archives and replicas are PostgreSQL's:
their retention is the operator's (docs/scale-out.md).
"""

from __future__ import annotations

import contextlib
import logging
from datetime import datetime

import orjson
import psycopg
from psycopg import errors

from hod_core import Consumer, Referral, hookimpl, unstructure

log = logging.getLogger(__name__)

SCRUB_LOCK = "hod_store_postgres:scrub:{schema}"  # advisory lock: one scrub at a time

# The schema step that moves contact data apart (see schema.MIGRATIONS).
RETENTION_SCHEMA = """
CREATE TABLE referral_contacts (
    referral_id text PRIMARY KEY REFERENCES referrals (id),
    consumer    jsonb NOT NULL           -- the request with name, phone, email (P1)
);
INSERT INTO referral_contacts
    SELECT id, body->'consumer' FROM referrals WHERE jsonb_typeof(body->'consumer') = 'object';
-- closed_at: set while a final referral still holds contact data (NULL otherwise).
ALTER TABLE referrals ADD COLUMN closed_at timestamptz;
CREATE INDEX referrals_erasable ON referrals (closed_at) WHERE closed_at IS NOT NULL;
UPDATE referrals r SET closed_at = coalesce(
    (SELECT max(at) FROM events e WHERE e.referral_id = r.id
        AND e.kind IN ('referral.status', 'referral.unmatched')),
    r.created_at)
    WHERE status IN ('completed', 'not_a_good_referral', 'unmatched')
      AND EXISTS (SELECT 1 FROM referral_contacts c WHERE c.referral_id = r.id);
UPDATE referrals SET body = body || jsonb_build_object(
    'consumer', NULL, 'language', body->'consumer'->'language',
    'closed_at', to_jsonb(closed_at));
INSERT INTO hod_counters VALUES ('unscrubbed', 0), ('scrubbed_at', 0);
"""


def consumer_json(consumer: Consumer) -> str:
    return orjson.dumps(unstructure(consumer)).decode()


def closed_column(referral: Referral) -> datetime | None:
    """The `closed_at` column: set while a final referral holds contact data."""
    if referral.final and referral.consumer is not None:
        return referral.closed_at or referral.created_at
    return None


class PostgresRetention:
    @hookimpl
    def hod_store_erasable(self, closed_before: datetime, limit: int) -> list[str]:
        rows = self.db.read(
            lambda conn: conn.execute(
                "SELECT id FROM referrals WHERE closed_at <= %s ORDER BY closed_at, id LIMIT %s",
                (closed_before, limit),
            ).fetchall()
        )
        return [rid for (rid,) in rows]

    @hookimpl
    def hod_store_scrub(self) -> None:
        self._latest.clear()  # parsed referrals kept in this process may hold contact data
        self.db.read(self._scrub)

    def _scrub(self, conn: psycopg.Connection) -> None:
        owed, since, now = conn.execute(
            "SELECT max(value) FILTER (WHERE name = 'unscrubbed'),"
            " max(value) FILTER (WHERE name = 'scrubbed_at'), extract(epoch FROM now())::bigint"
            " FROM hod_counters"
        ).fetchone()
        if not owed or now - since < self.settings.scrub_every_s:
            return
        key = SCRUB_LOCK.format(schema=self.settings.schema)
        (mine,) = conn.execute("SELECT pg_try_advisory_lock(hashtext(%s))", (key,)).fetchone()
        if not mine:
            return  # another process is scrubbing now
        try:
            conn.execute("SET lock_timeout = '2s'")  # a busy table: try at the next sweep
            conn.execute("VACUUM (FULL) referral_contacts")
            conn.execute(
                "UPDATE hod_counters SET value = CASE name WHEN 'unscrubbed' THEN value - %s"
                " ELSE %s END WHERE name IN ('unscrubbed', 'scrubbed_at')",
                (owed, now),
            )
            # The write-ahead log holding the erased rows: closed, then let go.
            for statement in ("SELECT pg_switch_wal()", "CHECKPOINT"):
                with contextlib.suppress(errors.InsufficientPrivilege):  # then: see the module
                    conn.execute(statement)
        except errors.LockNotAvailable:
            log.info("store_postgres: contacts table busy; scrubbing at a later sweep")
        finally:
            conn.execute("RESET lock_timeout")
            conn.execute("SELECT pg_advisory_unlock(hashtext(%s))", (key,))
