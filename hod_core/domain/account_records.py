"""Accounts of the reference server: agents and operators, invitations, sessions,
login throttling (R1-R5).

Plain records, no web dependencies: the store hooks of `hookspecs` keep them,
so every store adapter (and so several server processes on one database)
shares them. Secrets are never kept in the clear: a password only as its
argon2id hash (made by `hod_core.server.accounts.passwords`), a token (invitation,
reset link, session) only as `token_hash(token)`; the token itself exists
in the link or cookie its owner holds.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from attrs import field, frozen

ROLES = ("agent", "operator")

# R5: seed 001 asks for two: the Help On Demand Terms of Use (ticked on the
# sign-up page) and the Agent and Broker Terms of Use (shown after the first
# log-in). Registration is complete only with both; until then no referral
# is offered (E2 reads the agent's `participation.terms_accepted`).
TERMS = ("hod_terms_of_use", "agent_broker_terms_of_use")

# What an invitation link is for.
INVITATION_KINDS = ("register", "reset")  # R1 sign-up; a forgotten password's link

SESSION_KINDS = ("cookie", "bearer")  # the pages; the mobile app and scripts

TOKEN_BYTES = 32


def new_token() -> str:
    """An unguessable token for a link or a session (256 random bits)."""
    return secrets.token_urlsafe(TOKEN_BYTES)


def token_hash(token: str) -> str:
    """How a token is stored: SHA-256 of a 256-bit random token cannot be
    reversed or guessed, so a slow hash (as passwords need) buys nothing."""
    return hashlib.sha256(token.encode()).hexdigest()


def new_account_id() -> str:
    return "acc_" + secrets.token_hex(8)


def _role(value: str) -> str:
    if value not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}, not {value!r}")
    return value


def _kind(choices: tuple[str, ...]):
    def check(value: str) -> str:
        if value not in choices:
            raise ValueError(f"kind must be one of {', '.join(choices)}, not {value!r}")
        return value

    return check


@frozen
class Account:
    """Who may log in: an agent (tied to its imported agent record by NPN) or an operator.

    `login` is the user name chosen at sign-up (seed 001's "Username"),
    lower-cased; `email` is where password resets go (an agent's comes from
    the imported record, R2). `terms_accepted` holds the ids of `TERMS`
    accepted so far (R5). A session made before `password_changed_at` is not
    valid (a reset logs out everywhere).
    """

    id: str
    role: str = field(converter=_role)
    login: str
    password_hash: str
    created_at: datetime
    npn: str | None = None  # agents only, unique
    email: str | None = None
    terms_accepted: frozenset[str] = field(default=frozenset(), converter=frozenset)
    password_changed_at: datetime | None = None
    disabled: bool = False

    @property
    def registration_complete(self) -> bool:
        """R5: an operator is complete at creation; an agent with both terms accepted."""
        return self.role == "operator" or set(TERMS) <= self.terms_accepted

    @property
    def terms_missing(self) -> tuple[str, ...]:
        return (
            ()
            if self.role == "operator"
            else tuple(t for t in TERMS if t not in self.terms_accepted)
        )


@frozen
class Invitation:
    """A single-use link (R1): to register (`subject` is the agent's NPN) or to
    reset a password (`subject` is the account id). Stored by `token_hash`."""

    token_hash: str
    kind: str = field(converter=_kind(INVITATION_KINDS))
    subject: str
    sent_at: datetime
    expires_at: datetime
    used_at: datetime | None = None

    def usable(self, now: datetime) -> bool:
        return self.used_at is None and now < self.expires_at


@frozen
class Session:
    """One log-in: a cookie for the pages or a bearer token for the app.

    The CSRF token of a cookie session is derived from the session token
    (`hod_core.server.accounts.auth`), so nothing more is stored for it.
    """

    token_hash: str
    account_id: str
    kind: str = field(converter=_kind(SESSION_KINDS))
    created_at: datetime
    expires_at: datetime

    def live(self, now: datetime) -> bool:
        return now < self.expires_at


@frozen
class ThrottleState:
    """Failed attempts counted under one key in the current window: `count`
    failures, the first at `first_at` (the window's start) and the last at
    `last_at`. A clear key reads as count 0."""

    count: int = 0
    first_at: datetime | None = None
    last_at: datetime | None = None

    def within(self, now: datetime, window_s: float) -> ThrottleState:
        """This state as it counts at `now`: clear once its window has passed."""
        if self.first_at is None or now - self.first_at >= timedelta(seconds=window_s):
            return ThrottleState()
        return self

    def hit(self, now: datetime, window_s: float) -> ThrottleState:
        """The state after one more failure at `now` (a new window if the last one passed)."""
        current = self.within(now, window_s)
        return ThrottleState(current.count + 1, current.first_at or now, now)


# The answers of `hod_store_create_account`.
CREATED = "created"
LOGIN_TAKEN = "login_taken"
NPN_TAKEN = "npn_taken"
INVITATION_INVALID = "invitation_invalid"  # unknown, used, expired or of another agent
CREATE_OUTCOMES = (CREATED, LOGIN_TAKEN, NPN_TAKEN, INVITATION_INVALID)
