"""One answer for "not yours" and "not there": an agent asking for another
agent's referral gets exactly what a made-up id gets, on every agent endpoint
and page (status, headers and body), before and after the owner accepts, and
the words name no agent. Otherwise an agent could learn which referrals exist.

The two ids have the same length and form, and an answer may echo back the id
it was asked about (the client sent it: it tells nothing); with the id put
back in place of itself, the answers are byte for byte the same. The routes
are read from the app, so a new one is walked the day it is added.
"""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from hod_core.server.accounts.auth import CSRF_FIELD

from .conftest import post_login_form
from .data import ANA, no_contact_data
from .test_pages_access import _routes

API = "/api/v1/agent/referrals/{referral_id}"
PAGE = "/agent/referrals/{referral_id}"
BODY = {"status": "completed"}  # what the status move takes; ignored by the others


def agent_routes(app) -> list[tuple[str, str]]:
    """(method, path template) of every API endpoint and page about one referral."""
    found = sorted(
        (method, route.path)
        for route in _routes(app)
        if route.path.startswith((API, PAGE))
        for method in (getattr(route, "methods", None) or ())
        if method in ("GET", "POST", "PATCH", "PUT", "DELETE")
    )
    expected = {"", "/accept", "/reject", "/status"}
    assert {path[len(API) :] for _, path in found if path.startswith(API)} == expected
    assert {path[len(PAGE) :] for _, path in found if path.startswith(PAGE)} == expected
    return found


def made_up_like(reference: str, hod) -> str:
    """An id of the same length and alphabet as `reference` that no referral has."""
    for swap in "0123456789abcdef":
        candidate = reference[:-4] + swap * 4
        if (
            candidate != reference
            and hod.router.hook.hod_store_referral(referral_id=candidate) is None
        ):
            return candidate
    raise AssertionError("no free id")


def ask(luis, method: str, template: str, referral_id: str):
    path = template.replace("{referral_id}", referral_id)
    if template.startswith("/api/"):
        return luis["api"].request(method, path, json=BODY if method != "GET" else None)
    data = {CSRF_FIELD: luis["csrf"], **BODY} if method == "POST" else None
    return luis["page"].request(method, path, data=data)


def answer_of(response, referral_id: str) -> tuple:
    """Status, headers and body, with the id asked about put back as "{id}"."""
    headers = sorted(
        (name, value.replace(referral_id, "{id}"))
        for name, value in response.headers.multi_items()
        if name != "date"
    )
    return response.status_code, headers, response.content.replace(referral_id.encode(), b"{id}")


@pytest.fixture
def world(app, client, hod, make_agent, agent_login):
    """Maria holds a Pending offer of Ana's referral; Luis (Austin, too far)
    was never offered it, and asks through the API (bearer) and the pages
    (a cookie session from the log-in form, and its CSRF token)."""
    make_agent("1000001", "77002")
    make_agent("1000002", "73301")
    reference = client.post("/api/v1/referrals", json=ANA).json()["reference"]
    assert hod.router.referral(reference).pending_offer.npn == "1000001"
    maria = agent_login("1000001")
    api = agent_login("1000002")
    page = TestClient(app, follow_redirects=False)
    assert post_login_form(page, "agent1000002").status_code == 303
    csrf = page.get("/agent/referrals").text.split(f'name="{CSRF_FIELD}" value="')[1][:43]
    luis = {"api": api, "page": page, "csrf": csrf}
    return {"reference": reference, "maria": maria, "luis": luis}


def walk(app, hod, world) -> int:
    reference = world["reference"]
    made_up = made_up_like(reference, hod)
    assert len(made_up) == len(reference)
    before = hod.router.referral(reference)
    walked = 0
    for method, template in agent_routes(app):
        foreign = ask(world["luis"], method, template, reference)
        absent = ask(world["luis"], method, template, made_up)
        assert foreign.status_code in (303, 404), (method, template, foreign.text)
        assert answer_of(foreign, reference) == answer_of(absent, made_up), (method, template)
        assert "1000002" not in foreign.text and "1000001" not in foreign.text
        assert no_contact_data(foreign.text)
        walked += 1
    assert hod.router.referral(reference) == before  # nothing accepted, rejected or moved
    assert hod.router.hook.hod_store_referral(referral_id=made_up) is None
    return walked


def test_another_agents_pending_referral_reads_as_one_that_does_not_exist(app, hod, world):
    assert walk(app, hod, world) == 8


def test_another_agents_accepted_referral_reads_as_one_that_does_not_exist(app, hod, world):
    reference = world["reference"]
    assert world["maria"].post(f"/api/v1/agent/referrals/{reference}/accept").status_code == 200
    assert walk(app, hod, world) == 8


def test_the_api_answer_is_a_404_naming_no_agent(world):
    answer = world["luis"]["api"].get(f"/api/v1/agent/referrals/{world['reference']}")
    assert answer.status_code == 404
    detail = answer.json()["detail"]
    assert detail == f"referral {world['reference']} is not one of this agent's referrals"
    move = world["luis"]["api"].post(
        f"/api/v1/agent/referrals/{world['reference']}/status", json=BODY
    )
    assert move.status_code == 404 and move.json()["rule"] == "L6"
