"""Log-in, sessions, CSRF, throttling and password resets through the API, on a
real SQLite file; the clock is moved by hand, never slept on."""

from __future__ import annotations

from datetime import timedelta

import pytest
from attrs import evolve
from fastapi.testclient import TestClient

from hod_core.domain.account_records import ThrottleState
from hod_core.server.accounts import throttle
from hod_core.server.accounts.account_service import BadCredentials, Throttled

from .conftest import PASSWORD

NPN = "1000001"
LOGIN = f"agent{NPN}"


@pytest.fixture
def agent(agent_login):
    agent_login(NPN)  # the registered agent agent1000001, with PASSWORD
    return LOGIN


def stored_bytes(tmp_path) -> bytes:
    """The SQLite file with its write-ahead log: what a thief of the disk reads."""
    files = sorted((tmp_path / "data").glob("hod.sqlite3*"))
    return b"".join(p.read_bytes() for p in files)


def log_in(client, login=LOGIN, password=PASSWORD, **more):
    return client.post("/api/v1/login", json={"login": login, "password": password, **more})


# -- sessions -------------------------------------------------------------------------
def test_log_in_sets_a_hardened_cookie_and_gives_the_csrf_token(client, agent):
    answer = log_in(client)
    assert answer.status_code == 200
    body = answer.json()
    assert body["account"]["npn"] == NPN and body["csrf_token"]
    assert "token" not in body
    cookie = answer.headers["set-cookie"]
    assert cookie.startswith("hod_session=")
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/" in cookie
    assert "Secure" not in cookie  # served over http here
    assert client.get("/api/v1/session").json()["account"]["login"] == LOGIN


def test_the_cookie_is_secure_when_the_public_url_is_https(app, settings, agent):
    app.state.hod.settings = evolve(settings, public_url="https://x.org")
    with TestClient(app, base_url="https://x.org") as client:
        assert "Secure" in log_in(client).headers["set-cookie"]


def test_a_bearer_token_for_the_app_needs_no_cookie_and_no_csrf(client, app, agent):
    answer = log_in(client, token=True)
    assert "set-cookie" not in answer.headers and "csrf_token" not in answer.json()
    app_client = TestClient(app, headers={"Authorization": f"Bearer {answer.json()['token']}"})
    assert app_client.get("/api/v1/session").json()["account"]["npn"] == NPN
    assert app_client.post("/api/v1/logout").status_code == 204
    assert app_client.get("/api/v1/session").status_code == 401


def test_wrong_password_and_unknown_user_read_the_same(client, agent):
    wrong = log_in(client, password="Wrong-Pass42")
    unknown = log_in(client, login="nobody")
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json()
    assert "set-cookie" not in wrong.headers


def test_without_credentials_401_and_with_the_wrong_role_403(client, agent_login, operator_login):
    assert client.get("/api/v1/session").status_code == 401
    assert (
        client.get("/api/v1/session", headers={"Authorization": "Bearer junk"}).status_code == 401
    )
    operator = operator_login()
    assert operator.post("/api/v1/terms", json={"accept": []}).status_code == 403


def test_a_session_ends_when_it_expires(client, clock, agent):
    log_in(client)
    clock.advance(hours=11, minutes=59)
    assert client.get("/api/v1/session").status_code == 200
    clock.advance(minutes=1)
    assert client.get("/api/v1/session").status_code == 401


def test_log_out_ends_the_cookie_session(client, agent):
    csrf = log_in(client).json()["csrf_token"]
    token = client.cookies["hod_session"]
    assert client.post("/api/v1/logout", headers={"X-CSRF-Token": csrf}).status_code == 204
    client.cookies.set("hod_session", token)  # a copy kept by an attacker is dead too
    assert client.get("/api/v1/session").status_code == 401


# -- CSRF -------------------------------------------------------------------------------
def test_a_cookie_state_change_without_the_csrf_token_is_refused(client, hod, agent):
    csrf = log_in(client).json()["csrf_token"]
    for headers in ({}, {"X-CSRF-Token": "forged"}, {"X-CSRF-Token": csrf[:-1]}):
        answer = client.post("/api/v1/logout", headers=headers)
        assert answer.status_code == 403 and "CSRF" in answer.json()["detail"]
    assert client.get("/api/v1/session").status_code == 200  # still logged in
    assert client.post("/api/v1/logout", headers={"X-CSRF-Token": csrf}).status_code == 204


def test_a_form_post_may_carry_the_csrf_token_as_a_field(client, agent):
    csrf = log_in(client).json()["csrf_token"]
    refused = client.post("/api/v1/terms", data={"accept": "hod_terms_of_use"})
    assert refused.status_code == 403
    answer = client.post("/api/v1/terms", data={"csrf_token": csrf, "accept": "hod_terms_of_use"})
    assert answer.status_code == 200


def test_another_sites_form_cannot_log_a_browser_in(client, agent):
    foreign = log_in_from(client, "https://evil.example")
    assert foreign.status_code == 403 and "set-cookie" not in foreign.headers
    assert log_in_from(client, "null").status_code == 403  # a sandboxed frame
    assert log_in_from(client, "http://testserver").status_code == 200


def log_in_from(client, origin):
    body = {"login": LOGIN, "password": PASSWORD}
    return client.post("/api/v1/login", data=body, headers={"Origin": origin})


def test_the_csrf_token_is_bound_to_its_session(app, client, agent):
    log_in(client)
    other = TestClient(app)
    other_csrf = log_in(other).json()["csrf_token"]
    assert client.post("/api/v1/logout", headers={"X-CSRF-Token": other_csrf}).status_code == 403


# -- throttling ---------------------------------------------------------------------------
def test_repeated_failures_are_slowed_then_allowed_again(client, clock, agent):
    for _ in range(throttle.PAIR.free):
        assert log_in(client, password="Wrong-Pass42").status_code == 401
    slowed = log_in(client)  # even the right password waits: nothing is checked
    assert slowed.status_code == 429 and slowed.headers["retry-after"] == "1"
    clock.advance(seconds=1)
    assert log_in(client, password="Wrong-Pass42").status_code == 401
    assert log_in(client).headers["retry-after"] == "2"  # doubled
    clock.advance(seconds=2)
    assert log_in(client).status_code == 200  # and a success clears the slate
    assert log_in(client, password="Wrong-Pass42").status_code == 401


def test_the_delay_doubles_to_a_cap_of_five_minutes(clock):
    t0 = clock.at
    waits = [throttle.PAIR.wait_s(ThrottleState(n, t0, t0), t0) for n in range(4, 16)]
    assert waits == [0, 1, 2, 4, 8, 16, 32, 64, 128, 256, 300, 300]
    later = t0 + timedelta(seconds=100)
    assert throttle.PAIR.wait_s(ThrottleState(15, t0, t0), later) == 200


def test_a_guesser_elsewhere_does_not_slow_the_agent(hod, agent):
    accounts = hod.accounts
    for _ in range(throttle.PAIR.free):
        with pytest.raises(BadCredentials):
            accounts.login(LOGIN, "Wrong-Pass42", "198.51.100.7", "bearer")
    with pytest.raises(Throttled):
        accounts.login(LOGIN, PASSWORD, "198.51.100.7", "bearer")  # the guesser waits
    token, account = accounts.login(LOGIN, PASSWORD, "203.0.113.5", "bearer")
    assert account.npn == NPN  # the agent, at their own address, does not


def test_a_botnet_slows_an_account_by_at_most_30_seconds(hod, clock, agent):
    accounts, waits = hod.accounts, []
    for n in range(120):  # one guess from each of 120 addresses, as fast as allowed
        try:
            accounts.login(LOGIN, "Wrong-Pass42", f"198.51.{n // 250}.{n % 250}", "bearer")
        except BadCredentials:
            pass
        except Throttled as exc:
            waits.append(exc.retry_after)
            clock.advance(seconds=exc.retry_after)
    assert max(waits) == throttle.LOGIN.cap_s
    wait = accounts.throttle.retry_after(LOGIN, "203.0.113.5", hod.now())
    assert wait <= 30
    clock.advance(seconds=wait)
    assert accounts.login(LOGIN, PASSWORD, "203.0.113.5", "bearer")[1].npn == NPN


def test_one_address_trying_many_names_is_slowed_at_most_five_minutes(hod, clock, agent):
    accounts, waits = hod.accounts, []
    for n in range(80):
        try:
            accounts.login(f"name{n}", "Wrong-Pass42", "198.51.100.9", "bearer")
        except BadCredentials:
            pass
        except Throttled as exc:
            waits.append(exc.retry_after)
            clock.advance(seconds=exc.retry_after)
    assert waits and max(waits) <= throttle.ADDRESS.cap_s


def test_throttle_keys_hold_no_login_or_address(hod, agent, tmp_path):
    with pytest.raises(BadCredentials):
        hod.accounts.login("Secret-Typed-In-Name1!", "x", "198.51.100.1", "bearer")
    raw = stored_bytes(tmp_path)
    assert b"Secret-Typed" not in raw and b"secret-typed" not in raw
    assert b"198.51.100.1" not in raw


# -- forgotten passwords --------------------------------------------------------------------
def reset_token(hod) -> str:
    [notice] = [n for n in hod.outbox.notices() if n["kind"] == "reset"][:1]
    return notice["link"].split("token=", 1)[1]


def test_forgot_answers_202_whether_or_not_the_account_exists(client, hod, agent):
    for login in (LOGIN, "nobody", "nobody@example.com"):
        answer = client.post("/api/v1/password/forgot", json={"login": login})
        assert answer.status_code == 202
    kinds = [n["kind"] for n in hod.outbox.notices()]
    assert kinds.count("reset") == 1  # only the real account got an email


def test_forgot_by_email_sends_the_link_and_the_user_name(client, hod, agent):
    client.post("/api/v1/password/forgot", json={"login": f"AGENT{NPN}@example.com"})
    [notice] = [n for n in hod.outbox.notices() if n["kind"] == "reset"]
    assert notice["to"] == f"agent{NPN}@example.com" and notice["login"] == LOGIN


def test_a_reset_link_works_once_and_ends_every_session(client, hod, app, agent):
    old = TestClient(
        app, headers={"Authorization": f"Bearer {log_in(client, token=True).json()['token']}"}
    )
    client.post("/api/v1/password/forgot", json={"login": LOGIN})
    token = reset_token(hod)
    new = "Rainy-Night57"
    body = {"token": token, "password": new, "password_confirm": new}
    assert client.post("/api/v1/password/reset", json=body).status_code == 200
    assert client.post("/api/v1/password/reset", json=body).status_code == 410
    assert old.get("/api/v1/session").status_code == 401
    assert log_in(client, password=PASSWORD).status_code == 401
    assert log_in(client, password=new).status_code == 200


def test_a_reset_keeps_r3_and_expires_in_an_hour(client, hod, clock, agent):
    client.post("/api/v1/password/forgot", json={"login": LOGIN})
    token = reset_token(hod)
    weak = client.post(
        "/api/v1/password/reset",
        json={"token": token, "password": "weak", "password_confirm": "weak"},
    )
    assert weak.status_code == 422
    assert {p["id"] for p in weak.json()["detail"]} >= {"length", "digit", "upper", "special"}
    clock.advance(hours=1)
    late = client.post(
        "/api/v1/password/reset",
        json={"token": token, "password": "Rainy-Night57", "password_confirm": "Rainy-Night57"},
    )
    assert late.status_code == 410


def test_a_second_request_replaces_the_first_link_and_requests_are_capped(client, hod, agent):
    for _ in range(5):
        client.post("/api/v1/password/forgot", json={"login": LOGIN})
    resets = [n for n in hod.outbox.notices() if n["kind"] == "reset"]
    assert len(resets) == 3  # RESETS_PER_HOUR: the form is no mail cannon
    first = resets[-1]["link"].split("token=", 1)[1]
    body = {"token": first, "password": "Rainy-Night57", "password_confirm": "Rainy-Night57"}
    assert client.post("/api/v1/password/reset", json=body).status_code == 404


# -- nothing secret in the store --------------------------------------------------------------
def test_passwords_and_tokens_are_never_stored_in_the_clear(client, hod, make_agent, tmp_path):
    make_agent(NPN)
    invitation = hod.accounts.invite(NPN).link.split("token=", 1)[1]
    client.post(
        "/api/v1/register",
        json={
            "token": invitation,
            "username": "jane.doe",
            "password": PASSWORD,
            "password_confirm": PASSWORD,
            "phone": "7135550199",
            "contact_method": "email",
            "zip": "77002",
        },
    )
    session = log_in(client, login="jane.doe")
    bearer = log_in(client, login="jane.doe", token=True).json()["token"]
    client.post("/api/v1/password/forgot", json={"login": "jane.doe"})
    reset = reset_token(hod)
    raw = stored_bytes(tmp_path)
    assert b"$argon2id$" in raw  # the hash is there...
    secrets = [PASSWORD, invitation, bearer, reset, client.cookies["hod_session"]]
    secrets.append(session.json()["csrf_token"])
    for secret in secrets:
        assert secret.encode() not in raw  # ...and no secret is


def test_housekeeping_forgets_what_has_expired(client, hod, clock, agent):
    log_in(client)
    with pytest.raises(BadCredentials):
        hod.accounts.login(LOGIN, "Wrong-Pass42", "198.51.100.1", "bearer")
    assert hod.accounts.housekeeping() == 0
    clock.advance(days=8)
    assert hod.accounts.housekeeping() == 4  # the cookie session, 3 throttle keys
    assert client.get("/api/v1/session").status_code == 401
