"""Login CSRF on the HTML log-in form: another site's page must not log a
browser into an account. The form carries a pre-session token (an HMAC of
the nonce in the browser's `hod_login` cookie), and a post the browser marks
as coming from another site (Origin, Referer, Sec-Fetch-Site) is refused,
as `POST /api/v1/login` refuses it; no password is checked, no session made."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from hod_core.server.accounts.auth import COOKIE, CSRF_FIELD, LOGIN_COOKIE

from .conftest import PASSWORD, post_login_form

LOGIN = "agent1000001"


@pytest.fixture
def browser(app, agent_login, hod, monkeypatch) -> TestClient:
    agent_login("1000001")  # the registered agent agent1000001, with PASSWORD
    started = hod.accounts.start_session
    hod.cookie_sessions = []  # every cookie session the log-in starts from here on

    def start_session(account, kind):
        token = started(account, kind)
        hod.cookie_sessions.append(token) if kind == "cookie" else None
        return token

    monkeypatch.setattr(hod.accounts, "start_session", start_session)
    return TestClient(app, follow_redirects=False)


def form_token(page) -> str:
    return re.search(rf'name="{CSRF_FIELD}" value="([^"]+)"', page.text).group(1)


def post(browser, token, headers=None, **fields):
    data = {CSRF_FIELD: token, "login": LOGIN, "password": PASSWORD, **fields}
    return browser.post("/login", data=data, headers=headers or {})


def sessions(hod) -> int:
    """How many of the cookie sessions started are live."""
    return sum(hod.accounts.session(token) is not None for token in hod.cookie_sessions)


def assert_refused(answer, hod, words: str) -> None:
    assert answer.status_code == 403, answer.text[:300]
    assert COOKIE not in answer.cookies  # no session cookie
    assert words in answer.text
    assert 'action="/login"' in answer.text  # the form again, to log in here
    assert sessions(hod) == 0


def test_the_log_in_form_carries_a_token_bound_to_a_strict_cookie(browser):
    page = browser.get("/login")
    cookie = next(h for h in page.headers.get_list("set-cookie") if h.startswith(LOGIN_COOKIE))
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/login" in cookie
    token = form_token(page)
    assert len(token) >= 40
    assert form_token(browser.get("/login")) == token  # the same browser: one token (tabs)
    other = TestClient(browser.app).get("/login")
    assert form_token(other) != token  # another browser: another nonce, another token


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "http://evil.example"},
        {"Origin": "http://testserver.evil.example"},
        {"Referer": "http://evil.example/login-trap"},
        {"Sec-Fetch-Site": "cross-site"},
        {"Sec-Fetch-Site": "same-site"},
        {"Origin": "null", "Referer": "https://evil.example/"},
    ],
)
def test_a_post_from_another_site_is_refused_even_with_the_token(browser, hod, headers):
    token = form_token(browser.get("/login"))
    answer = post(browser, token, headers)
    assert_refused(answer, hod, "came from another website")


def test_a_post_without_the_form_token_is_refused(browser, hod):
    browser.get("/login")  # the cookie, but no token in the post
    assert_refused(
        browser.post("/login", data={"login": LOGIN, "password": PASSWORD}), hod, "expired"
    )


def test_a_token_of_another_browser_is_refused(app, browser, hod):
    browser.get("/login")
    attacker = TestClient(app, follow_redirects=False)
    stolen = form_token(attacker.get("/login"))  # valid, but for the attacker's own nonce
    assert_refused(post(browser, stolen), hod, "expired")
    assert_refused(post(browser, "x" * 43), hod, "expired")


def test_a_token_without_its_cookie_is_refused(app, browser, hod):
    token = form_token(browser.get("/login"))
    fresh = TestClient(app, follow_redirects=False)  # a browser that never opened the page
    assert_refused(post(fresh, token), hod, "expired")


def test_a_refused_post_is_never_checked_against_the_password(browser, hod):
    before = hod.accounts.account("login", LOGIN)
    for _ in range(30):  # more than any throttle allows
        assert post(browser, "wrong", password="not-the-password").status_code == 403
    assert hod.accounts.account("login", LOGIN) == before
    assert post_login_form(browser, LOGIN).status_code == 303  # not throttled


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Origin": "http://testserver"},
        {"Origin": "null"},  # our pages send no Referer, so the browser says null
        {"Sec-Fetch-Site": "same-origin", "Origin": "null"},
    ],
)
def test_a_post_from_our_own_form_logs_in(browser, hod, headers):
    token = form_token(browser.get("/login"))
    answer = post(browser, token, headers)
    assert answer.status_code == 303, answer.text[:300]
    assert answer.headers["location"] == "/agent/referrals"
    assert COOKIE in answer.cookies and sessions(hod) == 1


def test_the_refused_page_carries_a_fresh_token_that_works(app, browser):
    browser = TestClient(app, follow_redirects=False)  # never opened the form
    refused = post(browser, "none", next="/agent/profile")
    assert refused.status_code == 403 and 'value="/agent/profile"' in refused.text
    answer = post(browser, form_token(refused), next="/agent/profile")
    assert answer.status_code == 303 and answer.headers["location"] == "/agent/profile"


def test_the_refusal_is_in_spanish_for_a_spanish_page(browser, hod):
    browser.cookies.set("hod_lang", "es")
    token = form_token(browser.get("/login"))
    answer = post(browser, token, {"Origin": "http://evil.example"})
    assert answer.status_code == 403 and "vino de otro sitio web" in answer.text
