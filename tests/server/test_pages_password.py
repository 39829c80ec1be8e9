"""Forgotten passwords through the pages, no browser: the log-in page's link,
the same answer for every account name, the emailed link's page, R3 named
rule by rule, a link used once, and the new password logging in. The email
is read from the in-app outbox; the clock is moved by hand."""

from __future__ import annotations

import html
import re
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient

from hod_core.server.accounts.passwords import RULES
from hod_core.server.pages.i18n import COOKIE as LANGUAGE_COOKIE

from .conftest import PASSWORD, post_login_form

NPN = "1000001"
LOGIN = f"agent{NPN}"
NEW = "Rainy-Night57"  # keeps every R3 rule


@pytest.fixture
def agent(agent_login):
    agent_login(NPN)  # the registered agent agent1000001, with PASSWORD
    return LOGIN


@pytest.fixture
def browser(app) -> TestClient:
    return TestClient(app, follow_redirects=False)


def reset_links(hod) -> list[str]:
    return [n["link"] for n in hod.outbox.notices() if n["kind"] == "reset"]


def emailed_path(hod) -> str:
    """The path and query of the newest reset link, as the agent would open it."""
    link = urlsplit(reset_links(hod)[-1])
    return f"{link.path}?{link.query}"


def ask(browser, login: str):
    return browser.post("/password/forgot", data={"login": login})


def token_of(page) -> str:
    return re.search(r'name="token" value="([^"]+)"', page.text).group(1)


def set_password(browser, token, password, confirm=None):
    body = {"token": token, "password": password, "password_confirm": confirm or password}
    return browser.post("/password/reset", data=body)


def page_log_in(browser, password):
    return post_login_form(browser, LOGIN, password)


def test_the_log_in_page_links_to_forgot_password_in_both_languages(browser):
    login = browser.get("/login").text
    assert 'href="/password/forgot">Forgot Password?</a>' in login
    assert 'href="/password/forgot">Forgot Username?</a>' in login  # the email names it (seed 001)
    browser.cookies.set(LANGUAGE_COOKIE, "es")
    spanish = browser.get("/login").text
    assert 'href="/password/forgot">¿Olvidó su contraseña?</a>' in spanish
    forgot = browser.get("/password/forgot")
    assert forgot.status_code == 200 and 'lang="es"' in forgot.text
    assert "Nombre de usuario o correo electrónico" in forgot.text


def test_an_unknown_account_gets_the_same_answer_and_no_email(browser, hod, agent):
    answers = [ask(browser, login) for login in (LOGIN, "nobody", "nobody@example.com")]
    assert {a.status_code for a in answers} == {200}
    assert len({a.text for a in answers}) == 1  # nothing tells which one exists
    assert "If an account exists" in answers[0].text
    assert len(reset_links(hod)) == 1  # only the real account got an email


def test_an_empty_form_is_asked_again_and_sends_nothing(browser, hod, agent):
    answer = ask(browser, "  ")
    assert answer.status_code == 422 and "Enter your username or email" in answer.text
    assert reset_links(hod) == []


def test_the_page_is_throttled_as_the_api_is(browser, hod, agent):
    for _ in range(5):
        assert ask(browser, LOGIN).status_code == 200
    assert len(reset_links(hod)) == 3  # RESETS_PER_HOUR, the same cap as the API


def test_the_emailed_link_opens_the_reset_page_with_the_r3_checklist(browser, hod, agent):
    ask(browser, f"{LOGIN}@example.com")  # by email address too
    page = browser.get(emailed_path(hod))
    assert page.status_code == 200
    assert 'data-password-rules="password"' in page.text  # ticked live by hod.js
    assert all(f'data-rule="{rule.id}"' in page.text for rule in RULES)
    assert token_of(page) == emailed_path(hod).split("token=", 1)[1]
    assert "<script>" not in page.text and "style=" not in page.text  # strict CSP


def test_a_weak_password_names_every_failed_r3_rule(browser, hod, agent):
    ask(browser, LOGIN)
    token = token_of(browser.get(emailed_path(hod)))
    answer = set_password(browser, token, "weak", "weaker")
    assert answer.status_code == 422
    text = html.unescape(answer.text)
    for rule in RULES:
        if rule.id in ("length", "digit", "upper", "special"):
            assert rule.en in text and f'data-rule="{rule.id}" class="unmet"' in text
    assert 'data-rule="lower" class="unmet"' not in text
    assert "The passwords do not match" in text
    assert page_log_in(browser, PASSWORD).status_code == 303  # nothing changed


def test_the_rules_are_named_in_spanish_on_the_spanish_page(browser, hod, agent):
    ask(browser, LOGIN)
    browser.cookies.set(LANGUAGE_COOKIE, "es")
    token = token_of(browser.get(emailed_path(hod)))
    text = html.unescape(set_password(browser, token, "weak").text)
    spanish = {rule.id: rule.es for rule in RULES}
    assert spanish["length"] in text and spanish["digit"] in text
    assert "Contiene de 8 a 20 caracteres" in text


def test_a_good_password_works_once_then_the_link_is_refused(browser, hod, agent):
    ask(browser, LOGIN)
    path = emailed_path(hod)
    token = token_of(browser.get(path))
    done = set_password(browser, token, NEW)
    assert done.status_code == 200 and "Your password is changed" in done.text
    again = set_password(browser, token, NEW)
    assert again.status_code == 410 and "used already" in again.text
    assert 'href="/password/forgot"' in again.text  # ask for a new one
    opened = browser.get(path)
    assert opened.status_code == 410 and 'name="password"' not in opened.text
    assert page_log_in(browser, PASSWORD).status_code == 401
    logged_in = page_log_in(browser, NEW)
    assert logged_in.status_code == 303 and logged_in.headers["location"] == "/agent/referrals"


def test_an_expired_link_says_so_and_offers_a_new_one(browser, hod, clock, agent):
    ask(browser, LOGIN)
    path = emailed_path(hod)
    clock.advance(hours=1)
    for answer in (browser.get(path), set_password(browser, path.split("=", 1)[1], NEW)):
        assert answer.status_code == 410 and "This link has expired" in answer.text
        assert 'href="/password/forgot"' in answer.text
    assert page_log_in(browser, NEW).status_code == 401


def test_a_made_up_or_missing_token_is_refused_without_a_form(browser):
    for path in ("/password/reset?token=not-a-token", "/password/reset", "/password/reset?token="):
        answer = browser.get(path)
        assert answer.status_code == 404 and "This link is not right" in answer.text
        assert 'name="password"' not in answer.text
