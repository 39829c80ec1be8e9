"""The account store hooks (hod_core.extend.hookspecs, "accounts of the reference
server") on PostgreSQL: a mix-in of `PostgresStore`, whose `db` it uses.

Every hook that reads and then writes decides in the database: using a link
is one conditional UPDATE (`used_at IS NULL AND expires_at > now`), so of two
processes using one link one wins; a new account is an INSERT whose unique
constraints decide between two racing sign-ups; a throttle hit locks the
key's row for the length of its transaction. Tokens arrive hashed and
passwords as argon2id hashes: no column ever holds a secret.
"""

from __future__ import annotations

from datetime import datetime

import psycopg
from psycopg import errors

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

_ACCOUNT_COLUMNS = (
    "id, role, login, npn, email, password_hash, created_at,"
    " terms_accepted, password_changed_at, disabled"
)
_LINK_COLUMNS = "token_hash, kind, subject, sent_at, expires_at, used_at"
_SESSION_COLUMNS = "token_hash, account_id, kind, created_at, expires_at"
_FOUND_BY = {"id": "id", "login": "login", "npn": "npn", "email": "email"}


class _Outcome(Exception):
    """Leave the transaction, rolled back, with this answer."""

    def __init__(self, answer: str):
        self.answer = answer


def _account_row(a: Account) -> tuple:
    return (a.id, a.role, a.login, a.npn, a.email, a.password_hash, a.created_at,
            sorted(a.terms_accepted), a.password_changed_at, a.disabled)  # fmt: skip


def _account(row: tuple) -> Account:
    id_, role, login, npn, email, password_hash, created, terms, changed, disabled = row
    return Account(
        id=id_,
        role=role,
        login=login,
        password_hash=password_hash,
        created_at=created,
        npn=npn,
        email=email,
        terms_accepted=frozenset(terms),
        password_changed_at=changed,
        disabled=disabled,
    )


class PostgresAccounts:
    """Accounts, links, sessions and throttle counters in four tables."""

    def _one(self, sql: str, params) -> tuple | None:
        return self.db.read(lambda conn: conn.execute(sql, params).fetchone())

    # -- accounts -----------------------------------------------------------
    @hookimpl
    def hod_store_create_account(
        self, account: Account, invitation_hash: str | None, now: datetime
    ) -> str:
        def create(conn: psycopg.Connection) -> str:
            taken = conn.execute(
                "SELECT 1 FROM accounts WHERE id = %s OR login = %s", (account.id, account.login)
            ).fetchone()
            if taken:
                return LOGIN_TAKEN
            if (
                account.npn is not None
                and conn.execute("SELECT 1 FROM accounts WHERE npn = %s", (account.npn,)).fetchone()
            ):
                return NPN_TAKEN
            if invitation_hash is not None:
                used = conn.execute(
                    "UPDATE invitations SET used_at = %(now)s WHERE token_hash = %(hash)s"
                    " AND kind = 'register' AND subject = %(npn)s AND used_at IS NULL"
                    " AND expires_at > %(now)s",
                    {"now": now, "hash": invitation_hash, "npn": account.npn},
                ).rowcount
                if not used:
                    raise _Outcome(INVITATION_INVALID)
            try:
                with conn.transaction():  # a savepoint: a lost race undoes the link's use too
                    conn.execute(
                        f"INSERT INTO accounts ({_ACCOUNT_COLUMNS})"
                        " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                        _account_row(account),
                    )
            except errors.UniqueViolation as exc:  # a sign-up racing this one won
                taken_npn = exc.diag.constraint_name == "accounts_npn_key"
                raise _Outcome(NPN_TAKEN if taken_npn else LOGIN_TAKEN) from None
            return CREATED

        try:
            return self.db.write(create)
        except _Outcome as outcome:
            return outcome.answer

    @hookimpl
    def hod_store_put_account(self, account: Account) -> bool:
        row = _account_row(account)
        return bool(
            self.db.write(
                lambda conn: (
                    conn.execute(
                        "UPDATE accounts SET email = %s, password_hash = %s, terms_accepted = %s,"
                        " password_changed_at = %s, disabled = %s WHERE id = %s",
                        (*row[4:6], *row[7:10], account.id),
                    ).rowcount
                )
            )
        )

    @hookimpl
    def hod_store_account(self, by: str, key: str) -> Account | None:
        column = _FOUND_BY.get(by)
        if column is None:
            raise ValueError(f"accounts are found by id, login, npn or email, not {by!r}")
        row = self._one(
            f"SELECT {_ACCOUNT_COLUMNS} FROM accounts WHERE {column} = %s"
            " ORDER BY created_at, id LIMIT 1",
            (key,),
        )
        return None if row is None else _account(row)

    @hookimpl
    def hod_store_accounts(self, role: str | None) -> list[Account]:
        of_role = "" if role is None else " WHERE role = %s"
        rows = self.db.read(
            lambda conn: conn.execute(
                f"SELECT {_ACCOUNT_COLUMNS} FROM accounts{of_role} ORDER BY created_at, id",
                () if role is None else (role,),
            ).fetchall()
        )
        return [_account(row) for row in rows]

    # -- single-use links ---------------------------------------------------------
    @hookimpl
    def hod_store_put_invitation(self, invitation: Invitation) -> None:
        i = invitation

        def put(conn: psycopg.Connection) -> None:
            conn.execute(
                "DELETE FROM invitations WHERE kind = %s AND subject = %s AND used_at IS NULL",
                (i.kind, i.subject),
            )
            conn.execute(
                f"INSERT INTO invitations ({_LINK_COLUMNS}) VALUES (%s, %s, %s, %s, %s, %s)",
                (i.token_hash, i.kind, i.subject, i.sent_at, i.expires_at, i.used_at),
            )

        self.db.write(put)

    @hookimpl
    def hod_store_invitation(self, token_hash: str) -> Invitation | None:
        row = self._one(
            f"SELECT {_LINK_COLUMNS} FROM invitations WHERE token_hash = %s", (token_hash,)
        )
        return None if row is None else Invitation(*row)

    @hookimpl
    def hod_store_use_invitation(
        self, token_hash: str, kind: str, now: datetime
    ) -> Invitation | None:
        # A transaction, not a lone statement: a connection lost after it
        # committed must not be retried into "this link was used".
        row = self.db.write(
            lambda conn: conn.execute(
                f"UPDATE invitations SET used_at = %(now)s WHERE token_hash = %(hash)s"
                f" AND kind = %(kind)s AND used_at IS NULL AND expires_at > %(now)s"
                f" RETURNING {_LINK_COLUMNS}",
                {"now": now, "hash": token_hash, "kind": kind},
            ).fetchone()
        )
        return None if row is None else Invitation(*row)

    # -- sessions -----------------------------------------------------------
    @hookimpl
    def hod_store_put_session(self, session: Session) -> None:
        s = session
        self.db.write(
            lambda conn: conn.execute(
                f"INSERT INTO sessions ({_SESSION_COLUMNS}) VALUES (%s, %s, %s, %s, %s)",
                (s.token_hash, s.account_id, s.kind, s.created_at, s.expires_at),
            )
        )

    @hookimpl
    def hod_store_session(self, token_hash: str, now: datetime) -> Session | None:
        row = self._one(
            f"SELECT {_SESSION_COLUMNS} FROM sessions WHERE token_hash = %s AND expires_at > %s",
            (token_hash, now),
        )
        return None if row is None else Session(*row)

    @hookimpl
    def hod_store_delete_session(self, token_hash: str) -> None:
        self.db.write(
            lambda conn: conn.execute("DELETE FROM sessions WHERE token_hash = %s", (token_hash,))
        )

    @hookimpl
    def hod_store_delete_sessions(self, account_id: str | None, expired_by: datetime | None) -> int:
        return self.db.write(
            lambda conn: (
                conn.execute(
                    "DELETE FROM sessions WHERE account_id = %s OR expires_at <= %s",
                    (account_id, expired_by),  # NULL matches nothing
                ).rowcount
            )
        )

    @hookimpl
    def hod_store_purge(self, links_before: datetime, throttle_before: datetime) -> int:
        def purge(conn: psycopg.Connection) -> int:
            links = conn.execute(
                "DELETE FROM invitations WHERE expires_at <= %s", (links_before,)
            ).rowcount
            keys = conn.execute(
                "DELETE FROM throttle WHERE first_at <= %s", (throttle_before,)
            ).rowcount
            return links + keys

        return self.db.write(purge)

    # -- login throttling ---------------------------------------------------------
    @hookimpl
    def hod_store_throttle_hit(self, key: str, now: datetime, window_s: float) -> ThrottleState:
        def hit(conn: psycopg.Connection) -> ThrottleState:
            # The row exists and is locked before it is read: concurrent hits queue up.
            conn.execute(
                "INSERT INTO throttle (key, count, first_at, last_at) VALUES (%s, 0, %s, %s)"
                " ON CONFLICT (key) DO NOTHING",
                (key, now, now),
            )
            row = conn.execute(
                "SELECT count, first_at, last_at FROM throttle WHERE key = %s FOR UPDATE", (key,)
            ).fetchone()
            stored = ThrottleState(*row) if row[0] else ThrottleState()
            state = stored.hit(now, window_s)
            conn.execute(
                "UPDATE throttle SET count = %s, first_at = %s, last_at = %s WHERE key = %s",
                (state.count, state.first_at, now, key),
            )
            return state

        return self.db.write(hit)

    @hookimpl
    def hod_store_throttle(self, key: str, now: datetime, window_s: float) -> ThrottleState:
        row = self._one("SELECT count, first_at, last_at FROM throttle WHERE key = %s", (key,))
        stored = ThrottleState(*row) if row and row[0] else ThrottleState()
        return stored.within(now, window_s)

    @hookimpl
    def hod_store_throttle_clear(self, key: str) -> None:
        self.db.write(lambda conn: conn.execute("DELETE FROM throttle WHERE key = %s", (key,)))
