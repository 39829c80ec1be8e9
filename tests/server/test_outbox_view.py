"""The outbox as an operator sees it (`GET /api/v1/operator/outbox` and the
Demo outbox page): an invitation or reset link shows that it was sent, to
whom and when, never its token (whoever holds it takes the account); an
offer's link is shown whole. Under `--demo` the tokens are shown: the demo's
operator signs its agents up with them."""

from __future__ import annotations

import attrs
import pytest
from fastapi.testclient import TestClient

from .conftest import post_login_form
from .data import ANA


@pytest.fixture(params=[False, True], ids=["served", "demo"])
def settings(request, settings):
    """The tests' settings, as `hod serve` runs them and as `hod serve --demo` does."""
    return attrs.evolve(settings, demo=request.param)


def world(app, make_agent, operator_login, agent_login):
    """An offer, an invitation and a password reset in the outbox; their raw tokens."""
    hod = app.state.hod
    make_agent("1000001", "77002")
    make_agent("1000002", "77030")
    TestClient(app).post("/api/v1/referrals", json=ANA)
    operator_login()  # the operator "ops"
    hod.accounts.invite("1000002")
    agent_login("1000001")  # an account, with an email address
    hod.accounts.forgot("agent1000001")
    hod.router.drain(timeout=2)
    raw = hod.outbox.notices()
    links = {n["kind"]: n["link"] for n in raw if n["kind"] in ("invitation", "reset")}
    tokens = [link.rsplit("token=", 1)[1] for link in links.values()]
    assert len(tokens) == 2 and all(len(token) > 20 for token in tokens)
    return raw, tokens


def operator_views(app, operator_login) -> tuple[list[dict], str]:
    api = operator_login().get("/api/v1/operator/outbox").json()["notices"]
    browser = TestClient(app, follow_redirects=False)
    assert post_login_form(browser, "ops").status_code == 303
    page = browser.get("/operator/outbox")
    assert page.status_code == 200
    return api, page.text


def test_an_operator_sees_that_a_link_was_sent_never_its_token(
    app, settings, make_agent, operator_login, agent_login
):
    raw, tokens = world(app, make_agent, operator_login, agent_login)
    api, page = operator_views(app, operator_login)
    if settings.demo:  # the demo's operator needs the links whole
        assert api == raw
        assert all(f"?token={token}" in page for token in tokens)
        return
    for token in tokens:
        assert token not in str(api) and token not in page
    invitation = next(n for n in api if n["kind"] == "invitation")
    assert invitation["link"].endswith("/register?token=hidden") and invitation["link_hidden"]
    assert "@" in invitation["to"]
    assert invitation["npn"] == "1000002" and invitation["sent_at"]
    reset = next(n for n in api if n["kind"] == "reset")
    assert reset["link"].endswith("/password/reset?token=hidden") and reset["to"]
    assert "Link sent, its token hidden" in page and "/register?token=hidden" in page
    offer = next(n for n in api if n["kind"] == "offer" and n["channel"] == "email")
    raw_offer = next(n for n in raw if n["kind"] == "offer" and n["channel"] == "email")
    assert offer == raw_offer  # an offer's link names a referral only: shown whole
    assert f'href="{raw_offer["link"]}"' in page
