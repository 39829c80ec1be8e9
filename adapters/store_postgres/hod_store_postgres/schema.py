"""The database's schema and its versioned migrations, run at start-up.

`hod_schema` holds one row: the schema version. `migrate` runs in one
transaction under an advisory lock, so of several processes starting at once
on an empty or older database exactly one upgrades it and the others wait,
then find it current. A database newer than this code is refused: an older
process must not write rows it does not understand. PostgreSQL's DDL is
transactional: a migration that fails leaves the previous version whole.
"""

from __future__ import annotations

import psycopg
from psycopg import sql

from hod_core import StoreError

from .commit import COMMIT_SCHEMA
from .retention import RETENTION_SCHEMA

SCHEMA_VERSION = 4

# Upgrades, by the version they start from. Version 0 is an empty database.
MIGRATIONS: dict[int, str] = {
    0: """
    CREATE TABLE hod_counters (              -- named counters, each a row lock
        name  text PRIMARY KEY,
        value bigint NOT NULL
    );
    INSERT INTO hod_counters VALUES ('agent_revision', 0);
    CREATE TABLE agents (
        npn      text PRIMARY KEY,
        revision bigint NOT NULL UNIQUE,     -- grows with every save, in commit order
        body     jsonb NOT NULL              -- the agent, JSON wire format
    );
    CREATE TABLE referrals (
        id            text PRIMARY KEY,
        version       integer NOT NULL,
        status        text NOT NULL,
        created_at    timestamptz NOT NULL,
        due_at        timestamptz,           -- when the sweep must next act; NULL: never
        claimed_by    text,                  -- the store instance sweeping it now
        claimed_until timestamptz,           -- ... until then (database clock)
        body          jsonb NOT NULL         -- the referral with its offers
    );
    CREATE INDEX referrals_due ON referrals (due_at) WHERE due_at IS NOT NULL;
    CREATE INDEX referrals_waiting ON referrals (created_at, id) WHERE status = 'waiting';
    CREATE TABLE offers (                    -- the referrals' offers again, by agent
        referral_id text NOT NULL REFERENCES referrals (id),
        npn         text NOT NULL,
        status      text NOT NULL,
        offered_at  timestamptz NOT NULL,
        expires_at  timestamptz NOT NULL,
        answered_at timestamptz,
        PRIMARY KEY (referral_id, npn)       -- E11: one turn per agent
    );
    CREATE INDEX offers_by_agent ON offers (npn, offered_at DESC);
    -- E12 and the tie-break, one row per agent ever offered anything. A commit
    -- that offers updates the row (locking it) under `pending < max`, so two
    -- processes offering one agent at once are decided one after the other.
    CREATE TABLE agent_load (
        npn             text PRIMARY KEY,
        pending         integer NOT NULL CHECK (pending >= 0),
        last_offered_at timestamptz
    );
    CREATE TABLE events (
        seq         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        at          timestamptz NOT NULL,
        kind        text NOT NULL,
        referral_id text,
        npn         text,
        actor       text NOT NULL,
        rule        text,
        detail      jsonb NOT NULL
    );
    CREATE INDEX events_by_referral ON events (referral_id, seq);
    CREATE FUNCTION hod_events_are_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN RAISE EXCEPTION 'the event log is append-only (L11)'; END $$;
    CREATE TRIGGER events_are_not_changed BEFORE UPDATE OR DELETE ON events
        FOR EACH ROW EXECUTE FUNCTION hod_events_are_append_only();
    CREATE TRIGGER events_are_not_truncated BEFORE TRUNCATE ON events
        FOR EACH STATEMENT EXECUTE FUNCTION hod_events_are_append_only();

    -- The reference server's accounts (accounts.py): tokens arrive hashed,
    -- passwords as argon2id hashes, so no column holds a secret.
    CREATE TABLE accounts (
        id                  text PRIMARY KEY,
        role                text NOT NULL,
        login               text NOT NULL UNIQUE,
        npn                 text UNIQUE,     -- agents only
        email               text,
        password_hash       text NOT NULL,
        created_at          timestamptz NOT NULL,
        terms_accepted      text[] NOT NULL, -- R5
        password_changed_at timestamptz,
        disabled            boolean NOT NULL
    );
    CREATE INDEX accounts_by_email ON accounts (email, created_at);
    CREATE TABLE invitations (               -- single-use links (R1) and reset links
        token_hash text PRIMARY KEY,
        kind       text NOT NULL,
        subject    text NOT NULL,            -- NPN (register) or account id (reset)
        sent_at    timestamptz NOT NULL,
        expires_at timestamptz NOT NULL,
        used_at    timestamptz
    );
    CREATE INDEX invitations_pending ON invitations (kind, subject) WHERE used_at IS NULL;
    CREATE TABLE sessions (
        token_hash text PRIMARY KEY,
        account_id text NOT NULL,
        kind       text NOT NULL,
        created_at timestamptz NOT NULL,
        expires_at timestamptz NOT NULL
    );
    CREATE INDEX sessions_by_account ON sessions (account_id);
    CREATE INDEX sessions_by_expiry ON sessions (expires_at);
    CREATE TABLE throttle (                  -- failed log-ins per key, in its window
        key      text PRIMARY KEY,
        count    integer NOT NULL,
        first_at timestamptz NOT NULL,
        last_at  timestamptz NOT NULL
    );
    """,
    # Operators' listings (listings.py): each page one index range.
    1: """
    CREATE INDEX referrals_by_created ON referrals (created_at, id);
    CREATE INDEX referrals_by_status ON referrals (status, created_at, id);
    CREATE INDEX events_by_kind ON events (kind, seq);
    """,
    2: RETENTION_SCHEMA,  # contact data apart, for personal-data retention (retention.py)
    3: COMMIT_SCHEMA,  # the commit as one call of a function (commit.py)
}


def migrate(conn: psycopg.Connection, schema: str, where: str, target: int = SCHEMA_VERSION) -> int:
    """Bring `schema` (the connection's search_path) to `target`; return the
    version it had. `where` names the database in messages (host, name and
    schema, never a password)."""
    with conn.transaction():
        lock = conn.execute("SELECT hashtext(%s)", (f"hod_store_postgres:{schema}",)).fetchone()
        conn.execute("SELECT pg_advisory_xact_lock(%s)", lock)
        if not conn.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", (schema,)).fetchone():
            conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
        conn.execute("CREATE TABLE IF NOT EXISTS hod_schema (version integer NOT NULL)")
        row = conn.execute("SELECT version FROM hod_schema").fetchone()
        if row is None:
            conn.execute("INSERT INTO hod_schema VALUES (0)")
        found = version = row[0] if row else 0
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"store_postgres: {where}: schema version {version} is newer than this "
                f"hod-store-postgres understands ({SCHEMA_VERSION}); upgrade the adapter"
            )
        while version < target:
            conn.execute(MIGRATIONS[version])
            version += 1
            conn.execute("UPDATE hod_schema SET version = %s", (version,))
    return found
