"""The SQLite file's schema, as the steps that build and upgrade it.

A file records the steps it has had (`PRAGMA user_version`); opening it runs
the ones it lacks, in order, inside the opening transaction (store.py). Each
step is plain SQL, so an old file and a new one end with the same schema.
"""

from __future__ import annotations

import sqlite3

from .accounts import ACCOUNTS_SCHEMA
from .event_refs import EVENT_REFS_SCHEMA
from .listings import (
    BY_STATUS_ONLY,
    BY_STATUS_SETTLED,
    EVENT_COLUMNS,
    LISTINGS_SCHEMA,
    RARE_KINDS_CHAIN,
    RARE_KINDS_INDEX,
    RARE_KINDS_SCHEMA,
)
from .offers import OFFERS_BY_PENDING
from .retention import RETENTION_SCHEMA

SCHEMA_VERSION = 11

APPEND_ONLY = """
    CREATE TRIGGER events_are_not_updated BEFORE UPDATE ON events
        BEGIN SELECT RAISE(ABORT, 'the event log is append-only (L11)'); END;
    CREATE TRIGGER events_are_not_deleted BEFORE DELETE ON events
        BEGIN SELECT RAISE(ABORT, 'the event log is append-only (L11)'); END;
"""


def _events_table(name: str, seq: str) -> str:
    """The event log's table; `seq`: its key's type and constraints."""
    return f"""
    CREATE TABLE {name} (
        seq         {seq},
        at          TEXT NOT NULL,
        kind        TEXT NOT NULL,
        referral_id TEXT,
        npn         TEXT,
        actor       TEXT NOT NULL,
        rule        TEXT,
        detail      TEXT NOT NULL
    );
    """


# Upgrades, by the version they start from. Version 0 is an empty file.
MIGRATIONS: dict[int, str] = {
    0: """
    CREATE TABLE agents (
        npn      TEXT PRIMARY KEY,
        revision INTEGER NOT NULL UNIQUE,  -- grows with every save, across processes
        body     TEXT NOT NULL             -- the agent, JSON wire format
    );
    CREATE TABLE referrals (
        id         TEXT PRIMARY KEY,
        version    INTEGER NOT NULL,
        status     TEXT NOT NULL,
        created_at TEXT NOT NULL,
        due_at     TEXT,                   -- when the sweep must next act; NULL: never
        body       TEXT NOT NULL           -- the referral with its offers, JSON
    ) WITHOUT ROWID;
    CREATE INDEX referrals_due ON referrals (due_at) WHERE due_at IS NOT NULL;
    CREATE INDEX referrals_waiting ON referrals (created_at) WHERE status = 'waiting';
    CREATE TABLE offers (                  -- the referrals' offers again, by agent
        referral_id TEXT NOT NULL REFERENCES referrals (id),
        npn         TEXT NOT NULL,
        status      TEXT NOT NULL,
        offered_at  TEXT NOT NULL,
        expires_at  TEXT NOT NULL,
        answered_at TEXT,
        -- An agent's history in time order: their last offer is one seek away
        -- (the tie-break), however many offers they have had.
        PRIMARY KEY (npn, offered_at, referral_id)
    ) WITHOUT ROWID;
    -- E12 counts Pending offers: an index of those alone stays small.
    CREATE INDEX offers_pending ON offers (npn) WHERE status = 'pending';
    """
    + _events_table("events", "INTEGER PRIMARY KEY AUTOINCREMENT")
    + """
    CREATE INDEX events_by_referral ON events (referral_id, seq);
    """
    + APPEND_ONLY,
    1: ACCOUNTS_SCHEMA,  # the reference server's accounts (accounts.py)
    2: LISTINGS_SCHEMA,  # the reference server's listings for operators (listings.py)
    3: RETENTION_SCHEMA,  # personal-data retention, P2 (retention.py)
    4: RARE_KINDS_SCHEMA,  # events indexed by kind only where kinds are rare (listings.py)
    # The event log without AUTOINCREMENT: its counter (sqlite_sequence) would
    # be one more WAL page in every commit. Events are never deleted (the
    # trigger), so a new seq, the largest plus one, grows in the order of appending.
    # The log is copied once, on opening an older file.
    5: _events_table("events_appended", "INTEGER PRIMARY KEY")
    + f"""
    INSERT INTO events_appended SELECT {EVENT_COLUMNS} FROM events ORDER BY seq;
    DROP TABLE events;
    ALTER TABLE events_appended RENAME TO events;
    DELETE FROM sqlite_sequence WHERE name = 'events';
    CREATE INDEX events_by_referral ON events (referral_id, seq);
    {RARE_KINDS_INDEX}
    {APPEND_ONLY}
    """,
    6: BY_STATUS_ONLY,  # referrals listed through one index (listings.py)
    7: RARE_KINDS_CHAIN,  # the rare kinds' index tested without a list (listings.py)
    8: OFFERS_BY_PENDING,  # offers keyed by agent and pending, no index beside (offers.py)
    9: BY_STATUS_SETTLED,  # only settled referrals by status; those in motion by due time (listings.py)
    10: EVENT_REFS_SCHEMA,  # the event log by referral, indexed in batches (event_refs.py)
}


def statements(script: str) -> list[str]:
    """Split a migration script into statements (a trigger body holds a `;`)."""
    statements, current = [], ""
    for line in script.splitlines(keepends=True):
        current += line
        if sqlite3.complete_statement(current):
            statements.append(current.strip())
            current = ""
    return [s for s in statements if s]
