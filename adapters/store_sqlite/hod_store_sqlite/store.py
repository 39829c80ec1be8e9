"""Every hod-core store hook on one SQLite file (stdlib sqlite3).

- WAL journal: readers never wait for the writer, and a process killed
  mid-write leaves the last committed state (the WAL is rolled back on open).
- Every write is one `BEGIN IMMEDIATE` transaction: the state change, its
  offers and its events land together or not at all. IMMEDIATE takes the
  write lock before the version is read, so of two commits over one version,
  from two threads or two processes, the second sees the first's version
  and is refused.
- `synchronous=NORMAL` (the default here) survives a killed process; set
  `synchronous=FULL` to survive power loss too, at an fsync per commit.
- Checkpoints (WAL into the database, with their fsyncs) run on the sweep
  and on a background thread, not inside a referral's commit (see
  CHECKPOINT_EVERY).
- The schema carries a version (`PRAGMA user_version`); opening a file
  upgrades it step by step (schema.py) and refuses a file newer than this code.

Each thread gets its own connection: sqlite3 connections are not shared.
`close()` closes all of them and stops the checkpoint thread.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path

import cattrs
import orjson

from hod_core import (
    Agent,
    Commit,
    ConfigurationError,
    Event,
    Offer,
    OfferStatus,
    Referral,
    StoredAgentDecoder,
    hookimpl,
    structure,
    unstructure,
)

from . import event_refs
from .accounts import SqliteAccounts
from .backups import SqliteBackups
from .instants import instant
from .listings import EVENT_COLUMNS, SqliteListings, event_of_row
from .offers import SqliteOffers, pending_count, write_offers
from .opening import check_header, check_schema, make_private, opening_error
from .retention import SqliteRetention, closed_column
from .schema import MIGRATIONS, SCHEMA_VERSION, statements
from .sqlite_settings import SqliteSettings

log = logging.getLogger(__name__)

SYNCHRONOUS = ("OFF", "NORMAL", "FULL", "EXTRA")
KEPT_REFERRALS = 4096  # the latest versions kept (`_latest`), then all dropped
# SQLite's page cache per connection (its default is 2 MB). Not more: SQLite
# walks the cache's whole hash table when it trims it after a commit, which
# at 64 MB costs 6% of the lifecycle's CPU (perf) and at 8-16 MB nothing seen.
CACHE_MB = 16
# A checkpoint copies the WAL into the database and syncs both: about 30 ms
# at 100k agents, three quarters of it waiting for the disk. The sweep
# (`hod_store_due`) checkpoints, and so does a thread of this store every
# CHECKPOINT_EVERY commits, on its own connection: while it waits for the
# disk, commits go on (WAL checkpoints do not block writers). Inside a commit
# they would cost 70 us per referral. A commit checkpoints only past
# AUTOCHECKPOINT_PAGES (40 MB), should the thread fall behind. Never
# checkpointing would cost a third of the rate (the WAL index grows).
CHECKPOINT_EVERY = 400  # commits: about 4,000 WAL pages of the lifecycle's
AUTOCHECKPOINT_PAGES = 10_000


def _json(value) -> str:
    return orjson.dumps(unstructure(value)).decode()


# A referral body is written on every commit. This converter leaves datetimes
# to orjson, which writes them exactly as the wire format's isoformat does (a
# test holds the two byte for byte): a third of the cost of `_json`.
_BODY = cattrs.Converter()
_BODY.register_unstructure_hook(datetime, lambda at: at)
_UNSTRUCTURE_REFERRAL = _BODY.get_unstructure_hook(Referral)  # without a dispatch per call


_READ = "SELECT version, body FROM referrals WHERE id = ?"  # see `_known`


def _referral_json(referral: Referral) -> str:
    return orjson.dumps(_UNSTRUCTURE_REFERRAL(referral)).decode()


class SqliteStore(
    SqliteAccounts, SqliteBackups, SqliteListings, SqliteOffers, SqliteRetention
):  # see their modules
    """The store hooks over one SQLite file, shared safely by threads and processes."""

    durable = True  # another instance on the same file, in any process, sees every commit

    def __init__(
        self,
        path: str | Path,
        *,
        synchronous: str = "NORMAL",
        timeout_s: float = 30.0,
        validate_on_load: bool = False,
    ):
        if synchronous.upper() not in SYNCHRONOUS:
            raise ConfigurationError(
                f"store_sqlite: synchronous must be one of {', '.join(SYNCHRONOUS)}, "
                f"not {synchronous!r}"
            )
        self.path = Path(path)
        self.synchronous = synchronous.upper()
        self.timeout_s = timeout_s
        self.validate_on_load = validate_on_load  # see `StoredAgentDecoder`
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []  # every thread's, for `close`
        self._opening = threading.Lock()
        self._closed = False
        # This process's threads take turns to write here, in order, instead of in
        # SQLite's busy handler, which sleeps 1 to 100 ms between tries: with a
        # server's threads writing at once, those sleeps would be most of a request's time.
        self._writing = threading.RLock()
        # id -> the last version of the referral this instance wrote or read.
        # Every change is a commit of a new version, so one (id, version) is one
        # body for good: a read of that version needs no parsing, and a commit
        # over it no reading back of its offers. Keyed by id, not by the body
        # text, the bodies read are not kept (they would be about 3 MB of strings).
        self._latest: dict[str, Referral] = {}
        self._commits = 0
        self._unchecked = 0  # events appended since this store last looked (event_refs.py)
        self._checkpoint_due = threading.Event()
        self._checkpointer: threading.Thread | None = None
        self._migrate()

    @classmethod
    def from_settings(cls, settings: Mapping[str, str]) -> SqliteStore:
        """The entry point's factory, over `SqliteSettings` (`path`, or `data_dir`
        holding hod.sqlite3; `synchronous`, `timeout_s`, `validate_on_load`)."""
        config = SqliteSettings.of(settings)
        path = config.path or (
            Path(settings["data_dir"]) / "hod.sqlite3" if "data_dir" in settings else None
        )
        if path is None:
            raise ConfigurationError("store_sqlite needs a `path` setting (the database file)")
        return cls(
            path,
            synchronous=config.synchronous,
            timeout_s=config.timeout_s,
            validate_on_load=config.validate_on_load,
        )

    # -- connections and transactions ------------------------------------------
    @property
    def _db(self) -> sqlite3.Connection:
        db = getattr(self._local, "db", None)
        if db is None:
            # Not bound to its thread, so that `close` may close it from another.
            db = sqlite3.connect(
                self.path, timeout=self.timeout_s, isolation_level=None, check_same_thread=False
            )
            with self._opening:
                if self._closed:
                    db.close()
                    raise sqlite3.ProgrammingError(f"store_sqlite: {self.path} is closed")
                self._connections.append(db)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute(f"PRAGMA synchronous={self.synchronous}")
            db.execute("PRAGMA foreign_keys=ON")
            db.execute(f"PRAGMA cache_size=-{CACHE_MB * 1024}")
            db.execute(f"PRAGMA wal_autocheckpoint={AUTOCHECKPOINT_PAGES}")
            db.execute("PRAGMA secure_delete=ON")  # replaced bytes zeroed (P2, retention.py)
            self._local.db = db
        return db

    def _write(self) -> _Transaction:
        """`with self._write() as db:` one write transaction, holding the
        write lock from its first statement."""
        return _Transaction(self)

    def _committed(self) -> None:
        self._commits += 1
        if self._commits % CHECKPOINT_EVERY == 0:
            self._checkpoint_soon()

    def _checkpoint_soon(self) -> None:
        """Wake the checkpoint thread (see CHECKPOINT_EVERY), started at first need."""
        if self._closed:
            return
        if self._checkpointer is None:
            self._checkpointer = threading.Thread(
                target=self._checkpoints, name="hod-sqlite-checkpoint", daemon=True
            )
            self._checkpointer.start()
        self._checkpoint_due.set()

    def _checkpoints(self) -> None:
        while True:
            self._checkpoint_due.wait()
            self._checkpoint_due.clear()
            if self._closed:
                return
            try:
                self._checkpoint()
            except sqlite3.Error as exc:  # the next one, or a commit's, tries again
                log.warning("store_sqlite: %s: background checkpoint failed: %s", self.path, exc)

    def _migrate(self) -> None:
        """Upgrade the file to this schema; refuse, naming the path and the
        problem, a file this store cannot serve (see opening.py)."""
        make_private(self.path)
        check_header(self.path)
        try:
            with self._write() as db:
                version = db.execute("PRAGMA user_version").fetchone()[0]
                check_schema(db, self.path, version, SCHEMA_VERSION)
                while version < SCHEMA_VERSION:
                    for statement in statements(MIGRATIONS[version]):
                        db.execute(statement)
                    version += 1
                db.execute(f"PRAGMA user_version = {version}")  # also proves it writable
                (last,) = db.execute("SELECT coalesce(max(seq), 0) FROM events").fetchone()
                event_refs.index_past(db, last)  # what other stores left (event_refs.py)
        except sqlite3.Error as exc:
            self.close()
            raise opening_error(self.path, exc) from None

    def close(self) -> None:
        """Stop the checkpoint thread and close every thread's connection: the
        file is released. Closing again does nothing; using the store after
        raises `sqlite3.ProgrammingError`."""
        with self._opening:
            self._closed = True
            connections, self._connections = self._connections, []
        if self._checkpointer is not None:
            self._checkpoint_due.set()
            self._checkpointer.join()
            self._checkpointer = None
        for db in connections:
            db.close()

    # -- agents -------------------------------------------------------------
    @hookimpl
    def hod_store_put_agent(self, agent: Agent, events: Sequence[Event]) -> int:
        body = _json(agent)
        with self._write() as db:
            (revision,) = db.execute("SELECT coalesce(max(revision), 0) + 1 FROM agents").fetchone()
            db.execute(
                "INSERT OR REPLACE INTO agents (npn, revision, body) VALUES (?, ?, ?)",
                (agent.npn, revision, body),
            )
            self._append(db, events)
        return revision

    @hookimpl
    def hod_store_put_agents(self, agents: Sequence[Agent], events: Sequence[Event]) -> int:
        bodies = [(agent.npn, _json(agent)) for agent in agents]
        if not bodies:
            return 0
        with self._write() as db:
            (first,) = db.execute("SELECT coalesce(max(revision), 0) + 1 FROM agents").fetchone()
            db.executemany(
                "INSERT OR REPLACE INTO agents (npn, revision, body) VALUES (?, ?, ?)",
                [(npn, first + n, body) for n, (npn, body) in enumerate(bodies)],
            )
            self._append(db, events)
        return first + len(bodies) - 1

    @hookimpl
    def hod_store_agents(self, after: int) -> list[tuple[int, Agent]]:
        rows = self._db.execute(
            "SELECT revision, body FROM agents WHERE revision > ? ORDER BY revision", (after,)
        ).fetchall()
        if not rows:
            return []  # the usual answer: nothing new
        decode = StoredAgentDecoder(trusted=not self.validate_on_load)  # rows this store wrote
        return [(revision, decode(body)) for revision, body in rows]

    # -- referrals ----------------------------------------------------------
    @hookimpl
    def hod_store_commit(
        self, referral: Referral, expected_version: int, events: Sequence[Event], max_pending: int
    ) -> Commit:
        body = _referral_json(referral)
        due_at = instant(referral.due_at)
        closed_at = closed_column(referral)
        with self._write() as db:
            stored = self._stored_offers(db, referral.id, expected_version)
            # Offers are immutable records: the same object, or an equal one, is unchanged.
            changed = [o for o in referral.offers if _changed(stored.get(o.npn), o)]
            for offer in changed:
                newly_pending = offer.status is OfferStatus.PENDING and offer.npn not in stored
                if newly_pending and pending_count(db, offer.npn) >= max_pending:
                    # E12; nothing written yet, so nothing to undo. A wrong
                    # version is the truer answer: the router reads again.
                    current = db.execute(
                        "SELECT version FROM referrals WHERE id = ?", (referral.id,)
                    ).fetchone()
                    stale = (current[0] if current else 0) != expected_version
                    return Commit.STALE if stale else Commit.AT_CAPACITY
            # The version test and the write are one statement: the compare-and-set.
            if expected_version:
                written = db.execute(
                    "UPDATE referrals SET version = ?, status = ?, due_at = ?, closed_at = ?,"
                    " body = ? WHERE id = ? AND version = ?",
                    (
                        referral.version,
                        referral.status.value,
                        due_at,
                        closed_at,
                        body,
                        referral.id,
                        expected_version,
                    ),
                ).rowcount
            else:
                written = db.execute(
                    "INSERT OR IGNORE INTO referrals"
                    " (id, version, status, created_at, due_at, closed_at, body)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (
                        referral.id,
                        referral.version,
                        referral.status.value,
                        instant(referral.created_at),
                        due_at,
                        closed_at,
                        body,
                    ),
                ).rowcount
            if not written:
                return Commit.STALE  # another commit got there first; nothing written
            if changed:
                write_offers(db, referral.id, stored, changed)
            self._append(db, events)
        self._remember(referral)
        return Commit.WRITTEN

    def _stored_offers(self, db: sqlite3.Connection, referral_id: str, version: int) -> dict:
        """npn -> the offer as stored at `version` (none for a new referral).

        If the stored version is not `version` after all, the commit's UPDATE
        finds no row and writes nothing, so a cached answer is never wrong.
        """
        if not version:
            return {}
        known = self._latest.get(referral_id)
        if known is None or known.version != version:
            row = db.execute(_READ, (referral_id,)).fetchone()
            if row is None:
                return {}
            known = self._known(referral_id, *row)
        return {o.npn: o for o in known.offers}

    def _remember(self, referral: Referral) -> None:
        if len(self._latest) >= KEPT_REFERRALS:
            self._latest.clear()
        self._latest[referral.id] = referral

    @hookimpl
    def hod_store_referral(self, referral_id: str) -> Referral | None:
        row = self._db.execute(_READ, (referral_id,)).fetchone()
        return None if row is None else self._known(referral_id, *row)

    def _known(self, referral_id: str, version: int, body: str) -> Referral:
        """The referral at `version`, as kept when this instance last wrote or
        read that version, else parsed from `body`."""
        referral = self._latest.get(referral_id)
        if referral is None or referral.version != version:
            referral = structure(orjson.loads(body), Referral)
            self._remember(referral)
        return referral

    @hookimpl
    def hod_store_due(self, now: datetime, limit: int) -> list[str]:
        self._checkpoint()  # see AUTOCHECKPOINT_PAGES, and retention.py
        rows = self._db.execute(
            "SELECT id FROM referrals WHERE due_at IS NOT NULL AND due_at <= ?"
            " ORDER BY due_at LIMIT ?",
            (instant(now), limit),
        )
        return [rid for (rid,) in rows]

    @hookimpl
    def hod_store_waiting(self) -> list[str]:
        rows = self._db.execute(
            "SELECT id FROM referrals WHERE status = 'waiting' ORDER BY created_at, id"
        )
        return [rid for (rid,) in rows]

    # -- events -------------------------------------------------------------
    @hookimpl
    def hod_store_append_events(self, events: Sequence[Event]) -> None:
        with self._write() as db:
            self._append(db, events)

    def _append(self, db: sqlite3.Connection, events: Sequence[Event]) -> None:
        if events:
            db.executemany(
                "INSERT INTO events (at, kind, referral_id, npn, actor, rule, detail)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                [_event_row(e) for e in events],
            )
            self._unchecked += len(events)
            if self._unchecked >= event_refs.CHECK_EVERY:
                (last,) = db.execute("SELECT last_insert_rowid()").fetchone()
                event_refs.index_past(db, last)
                self._unchecked = 0

    @hookimpl
    def hod_store_events(self, referral_id: str | None, after: int, limit: int) -> list[Event]:
        columns = EVENT_COLUMNS
        if referral_id is None:
            rows = self._db.execute(
                f"SELECT {columns} FROM events WHERE seq > ? ORDER BY seq LIMIT ?", (after, limit)
            )
        else:
            rows = self._db.execute(event_refs.OF_REFERRAL, (referral_id, after, limit))
        return [event_of_row(row) for row in rows]


class _Transaction:
    """One `BEGIN IMMEDIATE` transaction of a store (see `SqliteStore._write`):
    this process's threads take turns (`_writing`), then SQLite's write lock.
    Committed at the end of the block, rolled back if it raises. A class, not
    a generator: it runs twice per referral."""

    __slots__ = ("_store", "_db")

    def __init__(self, store: SqliteStore):
        self._store = store
        self._db = store._db

    def __enter__(self) -> sqlite3.Connection:
        self._store._writing.acquire()
        try:
            self._db.execute("BEGIN IMMEDIATE")
        except BaseException:
            self._store._writing.release()
            raise
        return self._db

    def __exit__(self, kind, error, trace) -> bool:
        db = self._db
        try:
            if kind is not None:
                if db.in_transaction:  # SQLite rolls back itself on some errors (a full disk)
                    db.execute("ROLLBACK")
                return False
            db.execute("COMMIT")
            self._store._committed()
        finally:
            self._store._writing.release()
        return False


def _changed(stored: Offer | None, offer: Offer) -> bool:
    return stored is not offer and stored != offer


def _event_row(e: Event) -> tuple:
    detail = e.detail if type(e.detail) is dict else dict(e.detail)
    return (
        instant(e.at),
        e.kind,
        e.referral_id,
        e.npn,
        e.actor,
        e.rule,
        orjson.dumps(detail).decode(),
    )
