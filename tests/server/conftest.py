"""Fixtures shared by the server's tests: the real app over a real SQLite file
in tmp_path, a fake clock (tests move it, never sleep), and the in-app
outbox as the notifier of every channel (`hod.outbox.notices()`)."""

from __future__ import annotations

import re
from datetime import datetime

import pytest
from fastapi.testclient import TestClient

from hod_core.domain.account_records import TERMS, Account, new_account_id
from hod_core.server.accounts.passwords import TEST_PARAMETERS, Passwords
from hod_core.server.app import create_app
from hod_core.server.server_settings import ServerSettings
from hod_core.testing import samples
from hod_core.testing.doubles import FakeClock

SECRET = "s" * 40
PASSWORD = "Sunny-Day42"  # keeps every R3 rule


def post_login_form(browser: TestClient, login: str, password: str = PASSWORD, **fields):
    """Log in as a browser does: open the log-in page (its nonce cookie lands in
    the jar), then post the form with the page's hidden CSRF token."""
    form = browser.get("/login")
    assert form.status_code == 200, form.text[:300]
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text).group(1)
    data = {"csrf_token": token, "login": login, "password": password, **fields}
    return browser.post("/login", data=data)


@pytest.fixture
def clock() -> FakeClock:
    # Monday 23 November 2026, 10:00 in Houston: inside default hours (A4).
    return FakeClock(datetime.fromisoformat("2026-11-23T10:00:00-06:00"))


@pytest.fixture
def settings(tmp_path) -> ServerSettings:
    return ServerSettings(
        data_dir=tmp_path / "data",
        secret_key=SECRET,
        notifiers=("outbox",),
        delivery_threads=0,  # notices sent in the request's thread: the outbox is up to date
        freeze_gc=False,
    )


@pytest.fixture
def app(settings, clock):
    app = create_app(settings, clock=clock, sweep=False)
    # argon2id all the same, at 1 MiB and one pass: tests hash hundreds of passwords.
    app.state.hod.accounts.passwords = Passwords(TEST_PARAMETERS)
    return app


@pytest.fixture
def hod(app):
    return app.state.hod


@pytest.fixture
def client(app):
    with TestClient(app) as client:
        yield client


@pytest.fixture
def make_agent(hod):
    """Save an agent (samples.agent's fields, changed by keyword) through the router."""

    def make(npn: str = "1000001", zip_code: str = "77030", **fields):
        return hod.router.put_agent(samples.agent(npn, zip_code, **fields))

    return make


def _account_client(app, hod, account: Account) -> TestClient:
    token = hod.accounts.start_session(account, "bearer")
    return TestClient(app, headers={"Authorization": f"Bearer {token}"})


@pytest.fixture
def agent_login(app, hod, make_agent):
    """agent_login(npn) -> a client logged in (bearer) as that agent, registered
    with both terms accepted; the agent is made if it does not exist."""

    def login(npn: str = "1000001") -> TestClient:
        hod.router.sync_agents()
        if npn not in hod.router.matcher:
            make_agent(npn)
        account = hod.accounts.account("npn", npn)
        if account is None:
            account = Account(
                id=new_account_id(),
                role="agent",
                login=f"agent{npn}",
                password_hash=hod.accounts.passwords.hash(PASSWORD),
                created_at=hod.now(),
                npn=npn,
                email=f"agent{npn}@example.com",
                terms_accepted=frozenset(TERMS),
            )
            hod.accounts.hook.hod_store_create_account(
                account=account, invitation_hash=None, now=hod.now()
            )
            hod.accounts.sync_terms(account)
        return _account_client(app, hod, account)

    return login


@pytest.fixture
def operator_login(app, hod):
    """operator_login() -> a client logged in (bearer) as operator "ops"."""

    def login(login: str = "ops") -> TestClient:
        account = hod.accounts.account("login", login) or hod.accounts.create_operator(
            login, PASSWORD
        )
        return _account_client(app, hod, account)

    return login
