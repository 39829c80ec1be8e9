"""Every hod-core store hook on one PostgreSQL database, shared by many processes.

- **Commits** (accept, capacity, the compare-and-set): one call of a
  function in the database, see `commit.py`.
- **The sweep claims its work.** `hod_store_due` marks up to `limit` due
  referrals as this instance's for `claim_s` seconds in one short statement
  (`FOR UPDATE SKIP LOCKED`): processes sweeping at once take different
  referrals and never wait for each other. A commit clears the claim; a
  process that dies leaves claims that lapse after `claim_s`. The state
  change and its events are still one compare-and-set commit, so a claim is
  an economy, never what makes the sweep correct.
- **Agents reach every process.** Revisions come from one counter row,
  locked until commit, so they are in commit order and a reader that has
  seen revision n never later meets a smaller one. See `feed.py` for how
  other processes hear of a save.
- **Audit trail (L11)**: triggers refuse any UPDATE, DELETE or TRUNCATE of
  `events`. Events of one referral are in commit order (its row lock orders
  them); events of different referrals committed at the same moment by two
  processes may become visible in an order other than their `seq`.
- Contact data lives apart (`retention.py`); accounts and listings for the
  server in `accounts.py` and `listings.py`.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime

import orjson
import psycopg

from hod_core import (
    Agent,
    AgentOffer,
    Commit,
    Event,
    Offer,
    OfferStats,
    OfferStatus,
    Referral,
    StoredAgentDecoder,
    StoreError,
    hookimpl,
    unstructure,
)

from .accounts import PostgresAccounts
from .commit import commit, commit_params
from .database import Database, PostgresSettings
from .feed import CHANNEL, AgentFeed
from .listings import EVENT_COLUMNS, PostgresListings, event_of, referral_of
from .retention import PostgresRetention

AGENT_PAGE = 5000  # agents read per query when loading them all
PARSED_CACHE = 4096

_OFFER_COLUMNS = "referral_id, npn, status, offered_at, expires_at, answered_at"

# Every store open in this process, until closed: its pool holds connections
# and threads anyway, so a forgotten store is closed by `close_all`, not left
# to the garbage collector (which may run on one of the pool's own threads).
_OPEN: set[PostgresStore] = set()


def close_all(url: str | None = None, schema: str | None = None) -> None:
    """Close every store this process opened (on `url` and `schema`, when
    given): for a host's shutdown, and for tests that drop their schema."""
    for store in list(_OPEN):
        if url in (None, store.settings.url) and schema in (None, store.settings.schema):
            store.close()


def _event_row(e: Event) -> tuple:
    return (
        e.at,
        e.kind,
        e.referral_id,
        e.npn,
        e.actor,
        e.rule,
        orjson.dumps(dict(e.detail)).decode(),
    )


class PostgresStore(PostgresAccounts, PostgresListings, PostgresRetention):  # see their modules
    """The store hooks over one PostgreSQL database."""

    durable = True  # every instance on the same database and schema shares it

    def __init__(self, settings: PostgresSettings):
        self.settings = settings
        self.db = Database(settings)
        channel = CHANNEL.format(schema=settings.schema)
        self.feed = AgentFeed(settings.url, self.db.connect_kwargs, settings.agent_poll_s, channel)
        self.instance = secrets.token_hex(8)  # whose claim a due referral is
        # id -> the last version this instance wrote or read: a read of the same
        # version skips the body, and a commit over it needs no offers read back.
        self._latest: dict[str, Referral] = {}
        _OPEN.add(self)

    @classmethod
    def from_settings(cls, settings: Mapping[str, str]) -> PostgresStore:
        """The entry point's factory: settings as in `PostgresSettings`."""
        return cls(PostgresSettings.of(settings))

    def __repr__(self) -> str:
        return f"PostgresStore({self.db.where})"

    def close(self) -> None:
        """Close the pool's connections and stop the agent feed's thread (its
        connection closes within half a second). Closing again does nothing."""
        _OPEN.discard(self)
        self.feed.close()
        self.db.close()

    # -- backups: PostgreSQL's own tools -------------------------------------
    @hookimpl
    def hod_store_backup(self, path: str) -> str:
        raise StoreError(
            f"store_postgres: back up with pg_dump: pg_dump --format=custom "
            f"--schema={self.settings.schema} --file={path} DATABASE (docs/production.md)"
        )

    @hookimpl
    def hod_store_restore(self, path: str, force: bool) -> str:
        raise StoreError(
            f"store_postgres: restore with pg_restore: stop the servers, then pg_restore "
            f"--clean --dbname=DATABASE {path} (docs/production.md)"
        )

    # -- agents -------------------------------------------------------------
    @hookimpl
    def hod_store_put_agent(self, agent: Agent, events: Sequence[Event]) -> int:
        body = orjson.dumps(unstructure(agent)).decode()

        def save(conn: psycopg.Connection) -> int:
            (revision,) = conn.execute(
                "UPDATE hod_counters SET value = value + 1 WHERE name = 'agent_revision'"
                " RETURNING value"
            ).fetchone()
            conn.execute(
                "INSERT INTO agents (npn, revision, body) VALUES (%s, %s, %s::jsonb)"
                " ON CONFLICT (npn) DO UPDATE SET revision = excluded.revision, body = excluded.body",
                (agent.npn, revision, body),
            )
            self._append(conn, events)
            conn.execute("SELECT pg_notify(%s, %s)", (self.feed.channel, str(revision)))
            return revision

        revision = self.db.write(save)
        self.feed.heard(revision)
        return revision

    @hookimpl
    def hod_store_put_agents(self, agents: Sequence[Agent], events: Sequence[Event]) -> int:
        """Revisions reserved in one block, rows sent by COPY, one notification."""
        latest = {agent.npn: agent for agent in agents}
        if not latest:
            return 0

        def save(conn: psycopg.Connection) -> int:
            (last,) = conn.execute(
                "UPDATE hod_counters SET value = value + %s WHERE name = 'agent_revision'"
                " RETURNING value",
                (len(latest),),
            ).fetchone()
            conn.execute(
                "CREATE TEMP TABLE incoming (LIKE agents) ON COMMIT DROP;"
                " ALTER TABLE incoming ALTER body TYPE text"
            )
            first = last - len(latest) + 1
            with conn.cursor().copy("COPY incoming (npn, revision, body) FROM STDIN") as copy:
                for n, agent in enumerate(latest.values()):
                    body = orjson.dumps(unstructure(agent)).decode()
                    copy.write_row((agent.npn, first + n, body))
            conn.execute(
                "INSERT INTO agents (npn, revision, body)"
                " SELECT npn, revision, body::jsonb FROM incoming ORDER BY revision"
                " ON CONFLICT (npn) DO UPDATE SET revision = excluded.revision,"
                " body = excluded.body"
            )
            self._append(conn, events)
            conn.execute("SELECT pg_notify(%s, %s)", (self.feed.channel, str(last)))
            return last

        last = self.db.write(save)
        self.feed.heard(last)
        return last

    @hookimpl
    def hod_store_agents(self, after: int) -> Iterator[tuple[int, Agent]]:
        if not self.feed.worth_asking(after):
            return
        started = self.feed.asked_at()
        # Every row was written by this store from a validated Agent (put_agent,
        # put_agents): trusted, unless the settings ask to check them again.
        decode = StoredAgentDecoder(trusted=not self.settings.validate_on_load)
        while True:
            rows = self.db.read(
                lambda conn, after=after: conn.execute(
                    "SELECT revision, body::text FROM agents WHERE revision > %s"
                    " ORDER BY revision LIMIT %s",
                    (after, AGENT_PAGE),
                ).fetchall()
            )
            for revision, body in rows:
                yield revision, decode(body)
            if rows:
                after = rows[-1][0]
            if len(rows) < AGENT_PAGE:
                break
        self.feed.answered(started, after)

    # -- referrals ----------------------------------------------------------
    @hookimpl
    def hod_store_commit(
        self, referral: Referral, expected_version: int, events: Sequence[Event], max_pending: int
    ) -> Commit:
        known = self._latest.get(referral.id)
        if known is not None and known.version != expected_version:
            known = None
        params = commit_params(referral, expected_version, events, max_pending, known)
        answer = commit(self.db, params)
        if answer is Commit.WRITTEN:
            self._remember(referral)
        return answer

    def _remember(self, referral: Referral) -> None:
        if len(self._latest) >= PARSED_CACHE:
            self._latest.clear()
        self._latest[referral.id] = referral

    @hookimpl
    def hod_store_referral(self, referral_id: str) -> Referral | None:
        known = self._latest.get(referral_id)
        row = self.db.read(
            lambda conn: conn.execute(
                "SELECT r.version, CASE WHEN r.version = %s THEN NULL ELSE r.body END,"
                " CASE WHEN r.version = %s THEN NULL ELSE c.consumer END"
                " FROM referrals r LEFT JOIN referral_contacts c ON c.referral_id = r.id"
                " WHERE r.id = %s",
                (known and known.version, known and known.version, referral_id),
            ).fetchone()
        )
        if row is None:
            return None
        version, body, consumer = row
        if body is None and known is not None and known.version == version:
            return known
        referral = referral_of(body, consumer)
        self._remember(referral)
        return referral

    @hookimpl
    def hod_store_due(self, now: datetime, limit: int) -> list[str]:
        rows = self.db.read(
            lambda conn: conn.execute(
                "UPDATE referrals AS r SET claimed_by = %(me)s,"
                " claimed_until = clock_timestamp() + make_interval(secs => %(claim)s)"
                " FROM (SELECT id FROM referrals WHERE due_at <= %(now)s"
                "  AND (claimed_by IS NULL OR claimed_by = %(me)s"
                "       OR claimed_until < clock_timestamp())"
                "  ORDER BY due_at LIMIT %(limit)s FOR UPDATE SKIP LOCKED) AS due"
                " WHERE r.id = due.id RETURNING r.due_at, r.id",
                {"me": self.instance, "claim": self.settings.claim_s, "now": now, "limit": limit},
            ).fetchall()
        )
        return [rid for _, rid in sorted(rows)]

    @hookimpl
    def hod_store_waiting(self) -> list[str]:
        rows = self.db.read(
            lambda conn: conn.execute(
                "SELECT id FROM referrals WHERE status = 'waiting' ORDER BY created_at, id"
            ).fetchall()
        )
        return [rid for (rid,) in rows]

    @hookimpl
    def hod_store_offer_stats(self, npns: Sequence[str]) -> dict[str, OfferStats]:
        rows = self.db.read(
            lambda conn: conn.execute(
                "SELECT npn, pending, last_offered_at FROM agent_load WHERE npn = ANY(%s)",
                (list(npns),),
            ).fetchall()
        )
        return {npn: OfferStats(pending, last) for npn, pending, last in rows}

    @hookimpl
    def hod_store_agent_offers(
        self, npn: str, since: datetime | None, limit: int | None
    ) -> list[AgentOffer]:
        since_sql = "" if since is None else " AND offered_at >= %(since)s"
        # Delivered (L9): a notify.sent event of the offer, one seek into the
        # referral's few events; derived from the log, so nothing to keep in step.
        rows = self.db.read(
            lambda conn: conn.execute(
                f"SELECT {_OFFER_COLUMNS}, EXISTS (SELECT 1 FROM events e"
                " WHERE e.referral_id = offers.referral_id AND e.npn = offers.npn"
                " AND e.kind = 'notify.sent')"
                f" FROM offers WHERE npn = %(npn)s{since_sql}"
                " ORDER BY offered_at DESC LIMIT %(limit)s",
                {"npn": npn, "since": since, "limit": limit},
            ).fetchall()
        )
        return [_agent_offer(row) for row in rows]

    # -- events -------------------------------------------------------------
    @hookimpl
    def hod_store_append_events(self, events: Sequence[Event]) -> None:
        if events:
            self.db.write(lambda conn: self._append(conn, events))

    @staticmethod
    def _append(conn: psycopg.Connection, events: Sequence[Event]) -> None:
        if not events:
            return
        with conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO events (at, kind, referral_id, npn, actor, rule, detail)"
                " VALUES (%s, %s, %s, %s, %s, %s, %s::jsonb)",
                [_event_row(e) for e in events],
            )

    @hookimpl
    def hod_store_events(self, referral_id: str | None, after: int, limit: int) -> list[Event]:
        of_one = "" if referral_id is None else " AND referral_id = %(rid)s"
        rows = self.db.read(
            lambda conn: conn.execute(
                f"SELECT {EVENT_COLUMNS} FROM events WHERE seq > %(after)s{of_one}"
                " ORDER BY seq LIMIT %(limit)s",
                {"after": after, "rid": referral_id, "limit": limit},
            ).fetchall()
        )
        return [event_of(row) for row in rows]


def _agent_offer(row: tuple) -> AgentOffer:
    referral_id, npn, status, offered_at, expires_at, answered_at, *delivered = row
    offer = Offer(npn, offered_at, expires_at, OfferStatus(status), answered_at)
    return AgentOffer(referral_id, offer, bool(delivered and delivered[0]))
