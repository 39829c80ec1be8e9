"""Agent and operator accounts: invitations, registration (R1-R5), log-in,
sessions and password resets, over the store's account hooks.

No HTTP here: the routes (`api.auth_api`, the pages) and the operator
commands (`commands.agent_commands`) all call this, so an invitation sent from the command line
and a registration through the API follow the same rules. Errors are
`HodError`s the routes turn into status codes (see `STATUS`).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from attrs import evolve, frozen

from hod_core.domain.account_records import (
    CREATED,
    INVITATION_INVALID,
    LOGIN_TAKEN,
    NPN_TAKEN,
    TERMS,
    Account,
    Invitation,
    Session,
    new_account_id,
    new_token,
    token_hash,
)
from hod_core.domain.models import Agent
from hod_core.errors import HodError, NotFound
from hod_core.notify.notices import Notice, notice_language
from hod_core.server.accounts.passwords import Passwords
from hod_core.server.accounts.registration import (
    RegistrationForm,
    check_password,
    check_registration,
    check_username,
)
from hod_core.server.accounts.throttle import LoginThrottle

INVITATION_TTL = timedelta(hours=48)  # R1: from sending
RESET_TTL = timedelta(hours=1)
LINK_GRACE = timedelta(days=7)  # expired links are kept this long, then forgotten
SESSION_TTL = {"cookie": timedelta(hours=12), "bearer": timedelta(days=30)}
RESETS_PER_HOUR = 3  # reset emails per account: a forgotten-password form is no mail cannon
REGISTER_PATH = "/register?token="
RESET_PATH = "/password/reset?token="


class LinkInvalid(HodError):
    """A registration or reset link that is unknown, used or expired (R1)."""

    def __init__(self, why: str):
        self.why = why  # "unknown", "used" or "expired"
        super().__init__(f"this link is {why}" if why != "unknown" else "no such link")


class AlreadyRegistered(HodError):
    """R1: the agent has an account; they log in with it (no second one)."""


class LoginTaken(HodError):
    """Another account has this user name."""


class BadCredentials(HodError):
    """Wrong name or password (never which of the two)."""


class Throttled(HodError):
    def __init__(self, retry_after: int):
        self.retry_after = retry_after
        super().__init__(f"too many failed log-ins: try again in {retry_after} s")


@frozen
class Registered:
    account: Account
    test_text_sent: bool  # R4


@frozen
class Invited:
    npn: str
    link: str | None  # None: the agent already has an account (R1)
    expires_at: datetime | None = None


class Accounts:
    """The server's accounts over `router`'s store (which must have the account hooks)."""

    def __init__(self, router, *, base_url: str = "", passwords: Passwords | None = None):
        self.router = router
        self.hook = router.account_store()  # ConfigurationError when it keeps no accounts
        self.base_url = base_url.rstrip("/")
        self.passwords = passwords or Passwords()
        self.throttle = LoginThrottle(self.hook)

    def now(self) -> datetime:
        return self.router.now()

    def agent(self, npn: str) -> Agent:
        return self.router.agent(npn)

    def account(self, by: str, key: str) -> Account | None:
        return self.hook.hod_store_account(by=by, key=key)

    def agent_accounts(self) -> list[Account]:
        """Every agent's account, oldest first."""
        return list(self.hook.hod_store_accounts(role="agent"))

    # -- R1: invitations ------------------------------------------------------
    def invite(self, npn: str) -> Invited:
        """Email the agent a fresh registration link, replacing a pending one.
        An agent who already has an account gets none (R1's returning agent)."""
        agent = self.agent(npn)
        if self.account("npn", npn) is not None:
            return Invited(npn, None)
        now = self.now()
        token = new_token()
        expires = now + INVITATION_TTL
        self.hook.hod_store_put_invitation(
            invitation=Invitation(token_hash(token), "register", npn, now, expires)
        )
        link = self.base_url + REGISTER_PATH + token
        self._email(_Recipient.of(agent), "invitation", link, expires)
        return Invited(npn, link, expires)

    def uninvited(self) -> list[str]:
        """NPNs of every stored agent with no account: who `invite --all` writes to."""
        registered = {a.npn for a in self.agent_accounts()}
        return sorted({agent.npn for agent in self.router.agents()} - registered)

    def invitation(self, token: str) -> tuple[Invitation, Agent]:
        """The usable registration link `token` and its agent, or LinkInvalid."""
        link = self._usable_link(token, "register")
        try:
            return link, self.agent(link.subject)
        except NotFound:
            raise LinkInvalid("unknown") from None

    def reset_link(self, token: str) -> Invitation:
        """The usable reset link `token`, or LinkInvalid saying why (the page asks first)."""
        return self._usable_link(token, "reset")

    def _usable_link(self, token: str, kind: str) -> Invitation:
        link = self.hook.hod_store_invitation(token_hash=token_hash(token)) if token else None
        if link is None or link.kind != kind:
            raise LinkInvalid("unknown")
        if link.used_at is not None:
            raise LinkInvalid("used")
        if not link.usable(self.now()):
            raise LinkInvalid("expired")
        return link

    # -- R2-R5: registration -------------------------------------------------------
    def register(self, token: str, form: RegistrationForm) -> Registered:
        """Create the agent's account from a usable link (R1), with the form's
        fields checked all at once (R2, R3: `RegistrationInvalid` lists each),
        then save the agent's phone, contact method and ZIP, and whether both
        terms are accepted (R5, read by E2); send the test text (R4)."""
        link, agent = self.invitation(token)
        if self.account("npn", agent.npn) is not None:
            raise AlreadyRegistered(f"agent {agent.npn} already has an account: log in")
        fields = check_registration(form)
        now = self.now()
        terms = frozenset(t for t in TERMS if getattr(form, t))
        account = Account(
            id=new_account_id(),
            role="agent",
            login=fields["username"],
            password_hash=self.passwords.hash(form.password),
            created_at=now,
            npn=agent.npn,
            email=agent.email,
            terms_accepted=terms,
            password_changed_at=now,
        )
        outcome = self.hook.hod_store_create_account(
            account=account, invitation_hash=link.token_hash, now=now
        )
        if outcome == LOGIN_TAKEN:
            raise LoginTaken(f"the user name {account.login!r} is taken: choose another")
        if outcome == NPN_TAKEN:
            raise AlreadyRegistered(f"agent {agent.npn} already has an account: log in")
        if outcome == INVITATION_INVALID:
            raise LinkInvalid("used")  # another registration used it a moment ago
        assert outcome == CREATED, outcome
        updated = evolve(
            agent,
            phone=fields["phone"],
            contact_method=fields["contact_method"],
            zip=fields["zip"],
            participation=evolve(agent.participation, terms_accepted=account.registration_complete),
        )
        self.router.put_agent(updated, actor=f"agent:{agent.npn}")
        return Registered(account, self.router.send_registration_test(agent.npn))

    def accept_terms(self, account: Account, terms: Iterable[str]) -> Account:
        """R5: record terms accepted after sign-up; with both, the agent may get
        referrals (E2's `participation.terms_accepted` is set)."""
        unknown = set(terms) - set(TERMS)
        if unknown:
            raise ValueError(f"unknown terms: {', '.join(sorted(unknown))}")
        account = evolve(account, terms_accepted=account.terms_accepted | set(terms))
        self.hook.hod_store_put_account(account=account)
        if account.role == "agent":
            self.sync_terms(account)
        return account

    def sync_terms(self, account: Account) -> None:
        """Make the agent record's E2 flag say whether registration is complete (R5)."""
        agent = self.agent(account.npn)
        if agent.participation.terms_accepted != account.registration_complete:
            participation = evolve(
                agent.participation, terms_accepted=account.registration_complete
            )
            self.router.put_agent(
                evolve(agent, participation=participation), actor=f"agent:{agent.npn}"
            )

    def create_operator(
        self, login: str, password: str, email: str | None = None, *, confirm: str | None = None
    ) -> Account:
        """An operator account (R3 holds for operators' passwords too)."""
        login = check_username(login)
        check_password(password, password if confirm is None else confirm)
        account = Account(
            id=new_account_id(),
            role="operator",
            login=login,
            password_hash=self.passwords.hash(password),
            created_at=self.now(),
            email=email,
            password_changed_at=self.now(),
        )
        created = self.hook.hod_store_create_account(
            account=account, invitation_hash=None, now=account.created_at
        )
        if created != CREATED:
            raise LoginTaken(f"the user name {account.login!r} is taken")
        return account

    # -- log-in, sessions ---------------------------------------------------------------
    def login(self, login: str, password: str, address: str, kind: str) -> tuple[str, Account]:
        """A new session's token for a right name and password, else
        `BadCredentials`; `Throttled` while the name or address must wait."""
        login = login.strip().lower()[:254]
        now = self.now()
        wait = self.throttle.retry_after(login, address, now)
        if wait:
            raise Throttled(wait)
        account = self.account("login", login)
        good = self.passwords.verify(account.password_hash if account else None, password)
        if not good or account.disabled:
            self.throttle.failed(login, address, now)
            raise BadCredentials("wrong user name or password")
        self.throttle.succeeded(login, address)
        if self.passwords.needs_rehash(account.password_hash):
            account = evolve(account, password_hash=self.passwords.hash(password))
            self.hook.hod_store_put_account(account=account)
        return self.start_session(account, kind), account

    def start_session(self, account: Account, kind: str) -> str:
        token = new_token()
        now = self.now()
        session = Session(token_hash(token), account.id, kind, now, now + SESSION_TTL[kind])
        self.hook.hod_store_put_session(session=session)
        return token

    def session(self, token: str) -> tuple[Session, Account] | None:
        """The live session of `token` and its account; None when there is none
        (unknown, expired, from before a password change, or a disabled account)."""
        if not token or len(token) > 200:
            return None
        now = self.now()
        session = self.hook.hod_store_session(token_hash=token_hash(token), now=now)
        if session is None:
            return None
        account = self.account("id", session.account_id)
        if account is None or account.disabled:
            return None
        changed = account.password_changed_at
        if changed is not None and session.created_at < changed:
            return None
        return session, account

    def logout(self, token: str) -> None:
        self.hook.hod_store_delete_session(token_hash=token_hash(token))

    def housekeeping(self) -> int:
        """For the sweep, now and then: forget expired sessions, links expired a
        week ago (until then a late click still hears "expired", not "unknown"),
        and throttle counters whose window is over. How many were forgotten."""
        now = self.now()
        window = timedelta(seconds=self.throttle.window_s)
        sessions = self.hook.hod_store_delete_sessions(account_id=None, expired_by=now)
        return sessions + self.hook.hod_store_purge(
            links_before=now - LINK_GRACE, throttle_before=now - window
        )

    # -- forgotten passwords --------------------------------------------------------------
    def forgot(self, login_or_email: str) -> None:
        """Email a single-use reset link to the account's address, if there is
        such an account; say nothing either way (the route always answers 202)."""
        key = login_or_email.strip().lower()[:254]
        account = self.account("email" if "@" in key else "login", key)
        if account is None and "@" in key:
            account = self.account("login", key)
        if account is None or account.disabled:
            return
        to = self._recipient(account)
        if to is None:
            return
        now = self.now()
        sent = self.hook.hod_store_throttle_hit(key=f"reset:{account.id}", now=now, window_s=3600)
        if sent.count > RESETS_PER_HOUR:
            return
        token = new_token()
        expires = now + RESET_TTL
        self.hook.hod_store_put_invitation(
            invitation=Invitation(token_hash(token), "reset", account.id, now, expires)
        )
        self._email(to, "reset", self.base_url + RESET_PATH + token, expires, login=account.login)

    def _recipient(self, account: Account) -> _Recipient | None:
        """Where an account's email goes: an agent's from their (imported) record."""
        if account.role == "operator":
            return _Recipient(account.email, "", account.login, "en") if account.email else None
        try:
            return _Recipient.of(self.agent(account.npn))
        except NotFound:  # an account whose agent record is gone: nowhere to write
            return None

    def reset(self, token: str, password: str, confirm: str) -> Account:
        """Set a new password from a reset link (used once), and end every session."""
        check_password(password, confirm)
        self._usable_link(token, "reset")  # a clear reason (used, expired) before using it
        link = self.hook.hod_store_use_invitation(
            token_hash=token_hash(token), kind="reset", now=self.now()
        )
        if link is None:
            raise LinkInvalid("used")
        account = self.account("id", link.subject)
        if account is None:
            raise LinkInvalid("unknown")
        now = self.now()
        account = evolve(
            account, password_hash=self.passwords.hash(password), password_changed_at=now
        )
        self.hook.hod_store_put_account(account=account)
        self.hook.hod_store_delete_sessions(account_id=account.id, expired_by=None)
        return account

    # -- notices -----------------------------------------------------------------
    def _email(
        self, to: _Recipient, kind: str, link: str, expires: datetime, login: str | None = None
    ) -> None:
        notice = Notice(
            kind=kind,
            channel="email",
            to=to.email,
            npn=to.npn,
            agent_first_name=to.name,
            language=to.language,
            sent_at=self.now(),
            link=link,
            deadline=expires,
            login=login,
        )
        self.router.send_notice(notice)  # its delivery's events reach the audit trail


@frozen
class _Recipient:
    email: str
    npn: str  # "" for an operator
    name: str
    language: str

    @classmethod
    def of(cls, agent: Agent) -> _Recipient:
        return cls(agent.email, agent.npn, agent.first_name, notice_language(agent.languages))
