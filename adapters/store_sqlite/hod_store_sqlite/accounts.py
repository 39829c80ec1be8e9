"""The account store hooks (hod_core.extend.hookspecs, "accounts of the reference
server") on the SQLite file: a mix-in of `SqliteStore`, whose connections and
`BEGIN IMMEDIATE` transactions it uses. Each hook that reads then writes does
both in one IMMEDIATE transaction, so of two processes using one link, one
wins. Tokens arrive hashed and passwords as argon2id hashes: no column ever
holds a secret."""

from __future__ import annotations

from datetime import datetime

from hod_core import (
    CREATED,
    INVITATION_INVALID,
    LOGIN_TAKEN,
    NPN_TAKEN,
    Account,
    Invitation,
    Session,
    ThrottleState,
    hookimpl,
)

from .instants import instant, moment

# The schema step that adds these tables (see store.MIGRATIONS).
ACCOUNTS_SCHEMA = """
CREATE TABLE accounts (
    id                  TEXT PRIMARY KEY,
    role                TEXT NOT NULL,
    login               TEXT NOT NULL UNIQUE,
    npn                 TEXT UNIQUE,          -- agents only
    email               TEXT,
    password_hash       TEXT NOT NULL,        -- argon2id, never the password
    created_at          TEXT NOT NULL,
    terms_accepted      TEXT NOT NULL,        -- accepted terms ids, space-separated (R5)
    password_changed_at TEXT,
    disabled            INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX accounts_by_email ON accounts (email, created_at);
CREATE TABLE invitations (                -- single-use links (R1) and reset links
    token_hash TEXT PRIMARY KEY,          -- SHA-256 of the token in the link
    kind       TEXT NOT NULL,
    subject    TEXT NOT NULL,             -- NPN (register) or account id (reset)
    sent_at    TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    used_at    TEXT
) WITHOUT ROWID;
CREATE INDEX invitations_pending ON invitations (kind, subject) WHERE used_at IS NULL;
CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,          -- SHA-256 of the cookie or bearer token
    account_id TEXT NOT NULL,
    kind       TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX sessions_by_account ON sessions (account_id);
CREATE INDEX sessions_by_expiry ON sessions (expires_at);
CREATE TABLE throttle (                   -- failed log-ins per key, in its window
    key      TEXT PRIMARY KEY,
    count    INTEGER NOT NULL,
    first_at TEXT NOT NULL,
    last_at  TEXT NOT NULL
) WITHOUT ROWID;
"""

_ACCOUNT_COLUMNS = (
    "id, role, login, npn, email, password_hash, created_at,"
    " terms_accepted, password_changed_at, disabled"
)
_LINK_COLUMNS = "token_hash, kind, subject, sent_at, expires_at, used_at"
_SESSION_COLUMNS = "token_hash, account_id, kind, created_at, expires_at"
_FOUND_BY = {"id": "id", "login": "login", "npn": "npn", "email": "email"}


def _account_row(a: Account) -> tuple:
    return (
        a.id,
        a.role,
        a.login,
        a.npn,
        a.email,
        a.password_hash,
        instant(a.created_at),
        " ".join(sorted(a.terms_accepted)),
        instant(a.password_changed_at),
        int(a.disabled),
    )


def _account(row: tuple) -> Account:
    id_, role, login, npn, email, password_hash, created, terms, changed, disabled = row
    return Account(
        id=id_,
        role=role,
        login=login,
        password_hash=password_hash,
        created_at=moment(created),
        npn=npn,
        email=email,
        terms_accepted=frozenset(terms.split()),
        password_changed_at=moment(changed),
        disabled=bool(disabled),
    )


def _link(row: tuple) -> Invitation:
    token, kind, subject, sent, expires, used = row
    return Invitation(token, kind, subject, moment(sent), moment(expires), moment(used))


def _session(row: tuple) -> Session:
    token, account_id, kind, created, expires = row
    return Session(token, account_id, kind, moment(created), moment(expires))


class SqliteAccounts:
    """Accounts, links, sessions and throttle counters in four tables."""

    # -- accounts -----------------------------------------------------------
    @hookimpl
    def hod_store_create_account(
        self, account: Account, invitation_hash: str | None, now: datetime
    ) -> str:
        with self._write() as db:
            taken = db.execute(
                "SELECT 1 FROM accounts WHERE id = ? OR login = ?", (account.id, account.login)
            ).fetchone()
            if taken:
                return LOGIN_TAKEN
            if (
                account.npn is not None
                and db.execute("SELECT 1 FROM accounts WHERE npn = ?", (account.npn,)).fetchone()
            ):
                return NPN_TAKEN
            if invitation_hash is not None:
                used = db.execute(
                    "UPDATE invitations SET used_at = ? WHERE token_hash = ? AND kind = 'register'"
                    " AND subject = ? AND used_at IS NULL AND expires_at > ?",
                    (instant(now), invitation_hash, account.npn, instant(now)),
                ).rowcount
                if not used:
                    return INVITATION_INVALID
            db.execute(
                f"INSERT INTO accounts ({_ACCOUNT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                _account_row(account),
            )
        return CREATED

    @hookimpl
    def hod_store_put_account(self, account: Account) -> bool:
        row = _account_row(account)
        with self._write() as db:
            return bool(
                db.execute(
                    "UPDATE accounts SET email = ?, password_hash = ?, terms_accepted = ?,"
                    " password_changed_at = ?, disabled = ? WHERE id = ?",
                    (*row[4:6], *row[7:10], account.id),
                ).rowcount
            )

    @hookimpl
    def hod_store_account(self, by: str, key: str) -> Account | None:
        column = _FOUND_BY.get(by)
        if column is None:
            raise ValueError(f"accounts are found by id, login, npn or email, not {by!r}")
        row = self._db.execute(
            f"SELECT {_ACCOUNT_COLUMNS} FROM accounts WHERE {column} = ?"
            " ORDER BY created_at, id LIMIT 1",
            (key,),
        ).fetchone()
        return None if row is None else _account(row)

    @hookimpl
    def hod_store_accounts(self, role: str | None) -> list[Account]:
        rows = self._db.execute(
            f"SELECT {_ACCOUNT_COLUMNS} FROM accounts WHERE ? IS NULL OR role = ?"
            " ORDER BY created_at, id",
            (role, role),
        )
        return [_account(row) for row in rows]

    # -- single-use links ---------------------------------------------------------
    @hookimpl
    def hod_store_put_invitation(self, invitation: Invitation) -> None:
        i = invitation
        with self._write() as db:
            db.execute(
                "DELETE FROM invitations WHERE kind = ? AND subject = ? AND used_at IS NULL",
                (i.kind, i.subject),
            )
            db.execute(
                f"INSERT INTO invitations ({_LINK_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?)",
                (
                    i.token_hash,
                    i.kind,
                    i.subject,
                    instant(i.sent_at),
                    instant(i.expires_at),
                    instant(i.used_at),
                ),
            )

    @hookimpl
    def hod_store_invitation(self, token_hash: str) -> Invitation | None:
        row = self._db.execute(
            f"SELECT {_LINK_COLUMNS} FROM invitations WHERE token_hash = ?", (token_hash,)
        ).fetchone()
        return None if row is None else _link(row)

    @hookimpl
    def hod_store_use_invitation(
        self, token_hash: str, kind: str, now: datetime
    ) -> Invitation | None:
        with self._write() as db:
            row = db.execute(
                f"UPDATE invitations SET used_at = ? WHERE token_hash = ? AND kind = ?"
                f" AND used_at IS NULL AND expires_at > ? RETURNING {_LINK_COLUMNS}",
                (instant(now), token_hash, kind, instant(now)),
            ).fetchone()
        return None if row is None else _link(row)

    # -- sessions -----------------------------------------------------------
    @hookimpl
    def hod_store_put_session(self, session: Session) -> None:
        s = session
        with self._write() as db:
            db.execute(
                f"INSERT INTO sessions ({_SESSION_COLUMNS}) VALUES (?, ?, ?, ?, ?)",
                (s.token_hash, s.account_id, s.kind, instant(s.created_at), instant(s.expires_at)),
            )

    @hookimpl
    def hod_store_session(self, token_hash: str, now: datetime) -> Session | None:
        row = self._db.execute(
            f"SELECT {_SESSION_COLUMNS} FROM sessions WHERE token_hash = ? AND expires_at > ?",
            (token_hash, instant(now)),
        ).fetchone()
        return None if row is None else _session(row)

    @hookimpl
    def hod_store_delete_session(self, token_hash: str) -> None:
        with self._write() as db:
            db.execute("DELETE FROM sessions WHERE token_hash = ?", (token_hash,))

    @hookimpl
    def hod_store_delete_sessions(self, account_id: str | None, expired_by: datetime | None) -> int:
        with self._write() as db:
            return db.execute(
                "DELETE FROM sessions WHERE account_id = ? OR expires_at <= ?",
                (account_id, instant(expired_by)),  # NULL matches nothing
            ).rowcount

    @hookimpl
    def hod_store_purge(self, links_before: datetime, throttle_before: datetime) -> int:
        with self._write() as db:
            links = db.execute(
                "DELETE FROM invitations WHERE expires_at <= ?", (instant(links_before),)
            ).rowcount
            keys = db.execute(
                "DELETE FROM throttle WHERE first_at <= ?", (instant(throttle_before),)
            ).rowcount
        return links + keys

    # -- login throttling ---------------------------------------------------------
    @hookimpl
    def hod_store_throttle_hit(self, key: str, now: datetime, window_s: float) -> ThrottleState:
        with self._write() as db:
            state = self._throttle_row(db, key).hit(now, window_s)
            db.execute(
                "INSERT OR REPLACE INTO throttle (key, count, first_at, last_at)"
                " VALUES (?, ?, ?, ?)",
                (key, state.count, instant(state.first_at), instant(now)),
            )
        return state

    @hookimpl
    def hod_store_throttle(self, key: str, now: datetime, window_s: float) -> ThrottleState:
        return self._throttle_row(self._db, key).within(now, window_s)

    @staticmethod
    def _throttle_row(db, key: str) -> ThrottleState:
        row = db.execute(
            "SELECT count, first_at, last_at FROM throttle WHERE key = ?", (key,)
        ).fetchone()
        return (
            ThrottleState()
            if row is None
            else ThrottleState(row[0], moment(row[1]), moment(row[2]))
        )

    @hookimpl
    def hod_store_throttle_clear(self, key: str) -> None:
        with self._write() as db:
            db.execute("DELETE FROM throttle WHERE key = ?", (key,))
