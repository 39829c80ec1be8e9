"""Every agent and operator endpoint, tried as the wrong user: nobody logged in
(401), an agent on an operator endpoint and an operator on an agent endpoint
(403), and another agent on a referral never offered to them (404, nothing
changed, nothing shown). The endpoints are read from the app itself, so a new
one is tried the day it is added."""

from __future__ import annotations

import re

import pytest

from .data import ANA, no_contact_data

BODIES = {  # a body each endpoint would accept from the right user
    "status": {"status": "in_progress"},
    "availability": {"weekly": None},
    "today": {"on": False},
    "out-of-office": {"to": None},
    "profile": {"phone": "+17135550111"},
}


def endpoints(app, prefix):
    """(method, path template) of every documented endpoint under `prefix`."""
    found = [
        (method.upper(), path)
        for path, operations in app.openapi()["paths"].items()
        if path.startswith(prefix)
        for method in operations
    ]
    assert found, f"no endpoint under {prefix}"
    return found


def call(client, method, template, referral_id, npn="1000001"):
    path = template.replace("{referral_id}", referral_id).replace("{npn}", npn)
    assert not re.search(r"{\w+}", path), f"a path parameter the test does not fill: {path}"
    body = next((b for key, b in BODIES.items() if path.endswith(key)), None)
    return client.request(method, path, json=body if method in ("POST", "PATCH", "PUT") else None)


@pytest.fixture
def world(client, hod, make_agent, agent_login, operator_login):
    """Maria holds a Pending offer; Luis (too far, never offered it) and an operator."""
    make_agent("1000001", "77002")
    make_agent("1000002", "73301")  # Austin: Maria is nearer
    reference = client.post("/api/v1/referrals", json=ANA).json()["reference"]
    assert hod.router.referral(reference).pending_offer.npn == "1000001"
    return {
        "reference": reference,
        "maria": agent_login("1000001"),
        "luis": agent_login("1000002"),
        "ops": operator_login(),
    }


def test_nobody_logged_in_gets_401_everywhere(app, client, world):
    for prefix in ("/api/v1/agent", "/api/v1/operator"):
        for method, template in endpoints(app, prefix):
            answer = call(client, method, template, world["reference"])
            assert answer.status_code == 401, (method, template, answer.text)


def test_a_forged_or_ended_session_gets_401(app, client, world, hod):
    forged = {"Authorization": "Bearer not-a-session"}
    assert client.get("/api/v1/agent/referrals", headers=forged).status_code == 401
    client.cookies.set("hod_session", "not-a-session")
    assert client.get("/api/v1/operator/agents").status_code == 401


def test_an_agent_gets_403_on_every_operator_endpoint(app, world, hod):
    before = hod.agent("1000002")
    for method, template in endpoints(app, "/api/v1/operator"):
        answer = call(world["maria"], method, template, world["reference"], npn="1000002")
        assert answer.status_code == 403, (method, template, answer.text)
    assert hod.agent("1000002") == before  # not suspended by the attempt


def test_an_operator_gets_403_on_every_agent_endpoint(app, world, hod):
    for method, template in endpoints(app, "/api/v1/agent"):
        answer = call(world["ops"], method, template, world["reference"])
        assert answer.status_code == 403, (method, template, answer.text)
    assert hod.router.referral(world["reference"]).pending_offer.npn == "1000001"


def test_another_agent_cannot_see_or_touch_the_referral(app, world, hod):
    reference = world["reference"]
    stored = hod.router.referral(reference)
    for method, template in endpoints(app, "/api/v1/agent/referrals/{referral_id}"):
        answer = call(world["luis"], method, template, reference)
        assert answer.status_code == 404, (method, template, answer.text)
        assert no_contact_data(answer.text)
    assert hod.router.referral(reference) == stored  # not accepted, rejected or moved
    listing = world["luis"].get("/api/v1/agent/referrals").json()
    assert listing["referrals"] == []


def test_another_agent_cannot_reach_the_referral_after_accept_either(world, hod):
    reference = world["reference"]
    assert world["maria"].post(f"/api/v1/agent/referrals/{reference}/accept").status_code == 200
    for path in (
        f"/api/v1/agent/referrals/{reference}",
        f"/api/v1/agent/referrals/{reference}/status",
    ):
        method = "GET" if path.endswith(reference) else "POST"
        answer = world["luis"].request(method, path, json={"status": "completed"})
        assert answer.status_code == 404 and no_contact_data(answer.text)
    assert hod.router.referral(reference).status.value == "accepted"


def test_an_agents_own_settings_are_the_only_ones_changed(world, hod):
    luis_before = hod.agent("1000002")
    world["maria"].patch("/api/v1/agent/profile", json={"phone": "+17135550111"})
    assert hod.agent("1000001").phone == "+17135550111"
    assert hod.agent("1000002") == luis_before
