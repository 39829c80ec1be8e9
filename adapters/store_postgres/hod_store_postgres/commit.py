"""`hod_store_commit` as one call of a function in the database: one round trip.

Written as statements from Python, a commit would be seven round trips to
the server; as `hod_commit` (created by the schema step below) it is one, so
a commit costs a network round trip and a WAL flush whatever the offer. The function
decides everything the contract asks, in the database:

1. **Capacity (E12).** For each changed offer, in NPN order, the agent's
   `agent_load` row is locked (`FOR UPDATE`, created first if the agent was
   never offered anything); an offer newly Pending to an agent holding
   `max_pending` already refuses the commit, writing nothing. Agents before
   the referral, and in NPN order: every commit takes its locks in that
   order, so two commits never deadlock.
2. **The compare-and-set.** `UPDATE referrals ... WHERE version = expected`
   (or an INSERT that does nothing when the id exists). A commit that waited
   for another's row lock re-checks the row as that one left it.
3. The writes: counters, offers, contact data (retention.py), events in order.

`written_by` holds a random token per commit. When the connection drops
during the call, the store cannot know whether it ran; it reads the token
back: its own means written, anything else is answered as stale, so the
router reads the referral again and decides again: a retry that cannot
write twice.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import datetime

import cattrs
import orjson
import psycopg

from hod_core import Commit, Event, Referral

from .retention import closed_column, consumer_json

# A body is written on every commit. This converter leaves datetimes to orjson,
# which writes them as the wire format's isoformat does.
_BODY = cattrs.Converter()
_BODY.register_unstructure_hook(datetime, lambda at: at)

COMMIT_SCHEMA = """
ALTER TABLE referrals ADD COLUMN written_by text;
CREATE FUNCTION hod_commit(
    p_id text, p_expected integer, p_version integer, p_status text,
    p_created_at timestamptz, p_due_at timestamptz, p_closed_at timestamptz, p_body jsonb,
    p_consumer jsonb, p_consumer_known boolean, p_offers jsonb, p_events jsonb,
    p_max_pending integer, p_token text
) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    o record;
    changes jsonb;
    held integer;
BEGIN
    -- The offers that differ from the stored ones, with each agent's change in
    -- Pending count, in NPN order.
    SELECT coalesce(jsonb_agg(to_jsonb(c) ORDER BY c.npn), '[]') INTO changes FROM (
        SELECT x.*, (x.status = 'pending')::integer
                    - (coalesce(s.status, '') = 'pending')::integer AS delta,
               s.npn IS NULL AS new
        FROM jsonb_to_recordset(p_offers) AS x(npn text, status text,
            offered_at timestamptz, expires_at timestamptz, answered_at timestamptz)
        LEFT JOIN offers s ON s.referral_id = p_id AND s.npn = x.npn
        WHERE s.npn IS NULL OR s.status <> x.status OR s.expires_at <> x.expires_at
            OR s.answered_at IS DISTINCT FROM x.answered_at) c;
    -- 1. E12: the changed agents' rows, locked in NPN order before the referral's.
    FOR o IN SELECT * FROM jsonb_to_recordset(changes) AS c(npn text, delta integer) LOOP
        INSERT INTO agent_load (npn, pending) VALUES (o.npn, 0) ON CONFLICT (npn) DO NOTHING;
        SELECT pending INTO held FROM agent_load WHERE npn = o.npn FOR UPDATE;
        IF o.delta > 0 AND held >= p_max_pending THEN
            IF (SELECT version FROM referrals WHERE id = p_id)
                    IS DISTINCT FROM nullif(p_expected, 0) THEN
                RETURN 'stale';  -- both tests failed: the router reads again
            END IF;
            RETURN 'at_capacity';
        END IF;
    END LOOP;
    -- 2. The compare-and-set.
    IF p_expected = 0 THEN
        INSERT INTO referrals (id, version, status, created_at, due_at, closed_at, body, written_by)
            VALUES (p_id, p_version, p_status, p_created_at, p_due_at, p_closed_at, p_body, p_token)
            ON CONFLICT (id) DO NOTHING;
    ELSE
        UPDATE referrals SET version = p_version, status = p_status, due_at = p_due_at,
                closed_at = p_closed_at, body = p_body, written_by = p_token,
                claimed_by = NULL, claimed_until = NULL
            WHERE id = p_id AND version = p_expected;
    END IF;
    IF NOT FOUND THEN
        RETURN 'stale';
    END IF;
    -- 3. The writes.
    FOR o IN SELECT * FROM jsonb_to_recordset(changes) AS c(npn text, status text,
            offered_at timestamptz, expires_at timestamptz, answered_at timestamptz,
            delta integer, new boolean) LOOP
        UPDATE agent_load SET pending = pending + o.delta,
                last_offered_at = CASE WHEN o.new
                    THEN greatest(last_offered_at, o.offered_at) ELSE last_offered_at END
            WHERE npn = o.npn;
        INSERT INTO offers (referral_id, npn, status, offered_at, expires_at, answered_at)
            VALUES (p_id, o.npn, o.status, o.offered_at, o.expires_at, o.answered_at)
            ON CONFLICT (referral_id, npn) DO UPDATE SET status = excluded.status,
                expires_at = excluded.expires_at, answered_at = excluded.answered_at;
    END LOOP;
    IF NOT p_consumer_known THEN  -- retention.py: written once, deleted when erased
        IF p_consumer IS NULL THEN
            DELETE FROM referral_contacts WHERE referral_id = p_id;
            IF FOUND THEN
                UPDATE hod_counters SET value = value + 1 WHERE name = 'unscrubbed';
            END IF;
        ELSE
            INSERT INTO referral_contacts VALUES (p_id, p_consumer)
                ON CONFLICT (referral_id) DO UPDATE SET consumer = excluded.consumer;
        END IF;
    END IF;
    INSERT INTO events (at, kind, referral_id, npn, actor, rule, detail)
        SELECT (e->>'at')::timestamptz, e->>'kind', e->>'referral_id', e->>'npn',
               e->>'actor', e->>'rule', e->'detail'
        FROM jsonb_array_elements(p_events) WITH ORDINALITY AS x(e, n) ORDER BY n;
    RETURN 'written';
END $$;
"""

_CALL = (
    "SELECT hod_commit(%(id)s, %(expected)s, %(version)s, %(status)s, %(created_at)s,"
    " %(due_at)s, %(closed_at)s, %(body)s::jsonb, %(consumer)s::jsonb, %(consumer_known)s,"
    " %(offers)s::jsonb, %(events)s::jsonb, %(max_pending)s, %(token)s)"
)


def commit_params(
    referral: Referral,
    expected: int,
    events: Sequence[Event],
    max_pending: int,
    known: Referral | None,
) -> dict:
    """The call's arguments. `known`: the referral as stored at `expected`, when
    this process knows it: its consumer unchanged means no contact-data write."""
    body = _BODY.unstructure(referral)
    offers = body["offers"]
    body["consumer"] = None  # kept apart: retention.py
    consumer_known = (known.consumer == referral.consumer) if known is not None else False
    consumer = None if referral.consumer is None else consumer_json(referral.consumer)
    return {
        "id": referral.id,
        "expected": expected,
        "version": referral.version,
        "status": referral.status.value,
        "created_at": referral.created_at,
        "due_at": referral.due_at,
        "closed_at": closed_column(referral),
        "body": orjson.dumps(body).decode(),
        "consumer": consumer,
        "consumer_known": consumer_known,
        "offers": orjson.dumps(offers).decode(),
        "events": orjson.dumps([_event(e) for e in events]).decode(),
        "max_pending": max_pending,
        "token": secrets.token_hex(8),
    }


def _event(e: Event) -> dict:
    return {"at": e.at, "kind": e.kind, "referral_id": e.referral_id, "npn": e.npn,
            "actor": e.actor, "rule": e.rule, "detail": dict(e.detail)}  # fmt: skip


def commit(db, params: dict) -> Commit:
    """Call `hod_commit`; after a dropped connection, find out what happened."""
    try:
        answer = db.once(lambda conn: conn.execute(_CALL, params).fetchone()[0])
    except psycopg.OperationalError:
        row = db.read(
            lambda conn: conn.execute(
                "SELECT written_by FROM referrals WHERE id = %s", (params["id"],)
            ).fetchone()
        )
        answer = "written" if row and row[0] == params["token"] else "stale"
    return Commit(answer)
