"""The account store hooks (hookspecs, "accounts of the reference server") in
memory: a mix-in of `MemoryStore`, so `hod serve --store store_memory` and the
tests have accounts with no database. One lock makes each hook atomic, as a
database transaction would."""

from __future__ import annotations

import threading
from datetime import datetime

from attrs import evolve

from hod_core.domain.account_records import (
    CREATED,
    INVITATION_INVALID,
    LOGIN_TAKEN,
    NPN_TAKEN,
    Account,
    Invitation,
    Session,
    ThrottleState,
)
from hod_core.extend.hookspecs import hookimpl

_CLEAR = ThrottleState()


class _Tables:
    def __init__(self):
        self.lock = threading.Lock()
        self.accounts: dict[str, Account] = {}  # id -> account
        self.invitations: dict[str, Invitation] = {}  # token hash -> link
        self.sessions: dict[str, Session] = {}  # token hash -> session
        self.throttle: dict[str, ThrottleState] = {}


class MemoryAccounts:
    """Accounts, links, sessions and throttle counters in dicts under one lock."""

    @property
    def _tables(self) -> _Tables:
        tables = self.__dict__.get("_account_tables")
        if tables is None:  # setdefault: two threads arriving first share one
            tables = self.__dict__.setdefault("_account_tables", _Tables())
        return tables

    # -- accounts -----------------------------------------------------------
    @hookimpl
    def hod_store_create_account(
        self, account: Account, invitation_hash: str | None, now: datetime
    ) -> str:
        t = self._tables
        with t.lock:
            if account.id in t.accounts or _find(t, "login", account.login):
                return LOGIN_TAKEN
            if account.npn is not None and _find(t, "npn", account.npn):
                return NPN_TAKEN
            if invitation_hash is not None:
                link = t.invitations.get(invitation_hash)
                if (
                    link is None
                    or link.kind != "register"
                    or link.subject != account.npn
                    or not link.usable(now)
                ):
                    return INVITATION_INVALID
                t.invitations[invitation_hash] = evolve(link, used_at=now)
            t.accounts[account.id] = account
            return CREATED

    @hookimpl
    def hod_store_put_account(self, account: Account) -> bool:
        t = self._tables
        with t.lock:
            old = t.accounts.get(account.id)
            if old is None:
                return False
            t.accounts[account.id] = evolve(account, login=old.login, npn=old.npn, role=old.role)
            return True

    @hookimpl
    def hod_store_account(self, by: str, key: str) -> Account | None:
        t = self._tables
        with t.lock:
            return _find(t, by, key)

    @hookimpl
    def hod_store_accounts(self, role: str | None) -> list[Account]:
        t = self._tables
        with t.lock:
            found = [a for a in t.accounts.values() if role is None or a.role == role]
        return sorted(found, key=lambda a: (a.created_at, a.id))

    # -- single-use links ---------------------------------------------------------
    @hookimpl
    def hod_store_put_invitation(self, invitation: Invitation) -> None:
        t = self._tables
        with t.lock:
            for key, link in list(t.invitations.items()):
                same = (link.kind, link.subject) == (invitation.kind, invitation.subject)
                if same and link.used_at is None:
                    del t.invitations[key]
            t.invitations[invitation.token_hash] = invitation

    @hookimpl
    def hod_store_invitation(self, token_hash: str) -> Invitation | None:
        t = self._tables
        with t.lock:
            return t.invitations.get(token_hash)

    @hookimpl
    def hod_store_use_invitation(
        self, token_hash: str, kind: str, now: datetime
    ) -> Invitation | None:
        t = self._tables
        with t.lock:
            link = t.invitations.get(token_hash)
            if link is None or link.kind != kind or not link.usable(now):
                return None
            used = t.invitations[token_hash] = evolve(link, used_at=now)
            return used

    # -- sessions -----------------------------------------------------------
    @hookimpl
    def hod_store_put_session(self, session: Session) -> None:
        t = self._tables
        with t.lock:
            t.sessions[session.token_hash] = session

    @hookimpl
    def hod_store_session(self, token_hash: str, now: datetime) -> Session | None:
        t = self._tables
        with t.lock:
            session = t.sessions.get(token_hash)
        return session if session is not None and session.live(now) else None

    @hookimpl
    def hod_store_delete_session(self, token_hash: str) -> None:
        t = self._tables
        with t.lock:
            t.sessions.pop(token_hash, None)

    @hookimpl
    def hod_store_delete_sessions(self, account_id: str | None, expired_by: datetime | None) -> int:
        t = self._tables
        with t.lock:
            doomed = [
                key
                for key, s in t.sessions.items()
                if (account_id is not None and s.account_id == account_id)
                or (expired_by is not None and s.expires_at <= expired_by)
            ]
            for key in doomed:
                del t.sessions[key]
        return len(doomed)

    @hookimpl
    def hod_store_purge(self, links_before: datetime, throttle_before: datetime) -> int:
        t = self._tables
        with t.lock:
            links = [k for k, link in t.invitations.items() if link.expires_at <= links_before]
            keys = [k for k, state in t.throttle.items() if state.first_at <= throttle_before]
            for key in links:
                del t.invitations[key]
            for key in keys:
                del t.throttle[key]
        return len(links) + len(keys)

    # -- login throttling ---------------------------------------------------------
    @hookimpl
    def hod_store_throttle_hit(self, key: str, now: datetime, window_s: float) -> ThrottleState:
        t = self._tables
        with t.lock:
            state = t.throttle[key] = t.throttle.get(key, _CLEAR).hit(now, window_s)
            return state

    @hookimpl
    def hod_store_throttle(self, key: str, now: datetime, window_s: float) -> ThrottleState:
        t = self._tables
        with t.lock:
            return t.throttle.get(key, _CLEAR).within(now, window_s)

    @hookimpl
    def hod_store_throttle_clear(self, key: str) -> None:
        t = self._tables
        with t.lock:
            t.throttle.pop(key, None)


def _find(t: _Tables, by: str, key: str) -> Account | None:
    if by == "id":
        return t.accounts.get(key)
    if by not in ("login", "npn", "email"):
        raise ValueError(f"accounts are found by id, login, npn or email, not {by!r}")
    found = [a for a in t.accounts.values() if getattr(a, by) == key]
    return min(found, key=lambda a: (a.created_at, a.id), default=None)
