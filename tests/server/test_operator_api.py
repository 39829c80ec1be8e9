"""The operator's API: agents (search, suspend, reinstate), referrals with
their audit trail (L11) and `why`, waiting and unmatched referrals, delivery
failures, and the in-app outbox. An operator never sees the consumer's
contact data (P1)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from hod_core.errors import DeliveryFailed
from hod_core.server.accounts.passwords import TEST_PARAMETERS, Passwords
from hod_core.server.app import create_app

from .data import ANA, no_contact_data


@pytest.fixture
def ops(operator_login):
    return operator_login()


def test_search_agents_by_npn_name_or_email(ops, make_agent):
    make_agent("1000001", first_name="Maria", last_name="Lopez")
    make_agent("1000002", first_name="Luis", last_name="Garza", suspended=True)
    make_agent("2000003", "73301", first_name="Rosa", last_name="Vega")
    by_name = ops.get("/api/v1/operator/agents", params={"q": "garza"}).json()
    assert by_name["total"] == 1 and by_name["agents"][0]["npn"] == "1000002"
    assert ops.get("/api/v1/operator/agents", params={"q": "100000"}).json()["total"] == 2
    suspended = ops.get("/api/v1/operator/agents", params={"suspended": True}).json()
    assert [a["npn"] for a in suspended["agents"]] == ["1000002"]
    page = ops.get("/api/v1/operator/agents", params={"limit": 1, "offset": 1}).json()
    assert page["total"] == 3 and [a["npn"] for a in page["agents"]] == ["1000002"]
    assert ops.get("/api/v1/operator/agents/2000003").json()["first_name"] == "Rosa"
    assert ops.get("/api/v1/operator/agents/9999999").status_code == 404


def test_a_suspended_agent_gets_nothing_until_reinstated(client, ops, make_agent, hod):
    make_agent("1000001")
    suspended = ops.post("/api/v1/operator/agents/1000001/suspend").json()
    assert suspended["suspended"] is True
    assert client.post("/api/v1/referrals", json=ANA).json()["status"] == "Waiting"  # E3
    assert ops.post("/api/v1/operator/agents/1000001/reinstate").json()["suspended"] is False
    (waiting,) = hod.router.referrals(limit=5)
    assert hod.router.referral(waiting.id).pending_offer.npn == "1000001"  # offered at once
    kinds = [e.kind for e in hod.router.events() if e.npn == "1000001" and e.referral_id is None]
    assert kinds[-2:] == ["agent.suspended", "agent.reinstated"]
    actors = {e.actor for e in hod.router.events() if e.kind.startswith("agent.") and e.rule}
    assert actors == {"operator:ops"}


def test_referrals_list_by_status_with_paging(client, ops, make_agent):
    for _ in range(3):
        client.post("/api/v1/referrals", json=ANA)  # nobody yet: Waiting
    client.post("/api/v1/referrals", json={**ANA, "zip": "10001"})  # New York: Unmatched (E5)
    waiting = ops.get("/api/v1/operator/referrals", params={"status": "waiting", "limit": 2}).json()
    assert [r["status"] for r in waiting["referrals"]] == ["waiting", "waiting"]
    rest = ops.get(
        "/api/v1/operator/referrals",
        params={"status": "waiting", "limit": 2, "before": waiting["next"]},
    ).json()
    assert len(rest["referrals"]) == 1 and rest["next"] is None
    unmatched = ops.get("/api/v1/operator/referrals", params={"status": "unmatched"}).json()
    assert [r["state"] for r in unmatched["referrals"]] == ["NY"]
    assert no_contact_data(str(waiting) + str(unmatched))
    bad = ops.get("/api/v1/operator/referrals", params={"status": "lost"})
    assert bad.status_code == 422 and bad.json()["detail"][0]["field"] == "status"


def test_a_referral_with_its_audit_trail_and_why(client, ops, make_agent, agent_login, hod):
    make_agent("1000001", "77002")
    make_agent("1000002", "77030", languages=("en",))
    reference = client.post("/api/v1/referrals", json=ANA).json()["reference"]
    agent_login("1000001").post(f"/api/v1/agent/referrals/{reference}/accept")
    detail = ops.get(f"/api/v1/operator/referrals/{reference}").json()
    assert detail["status"] == "accepted" and detail["agent_npn"] == "1000001"
    kinds = [(e["rule"], e["kind"]) for e in detail["events"]]
    assert kinds[:2] == [("L1", "referral.created"), ("L1", "offer.made")]
    assert ("L3", "offer.accepted") in kinds
    assert no_contact_data(str(detail))
    why = ops.get(f"/api/v1/operator/referrals/{reference}/why/1000002").json()
    assert why["eligible"] is False and why["first_failing"] == "E9"  # no Spanish
    assert ops.get(f"/api/v1/operator/referrals/{reference}/why/42").status_code == 404
    assert ops.get("/api/v1/operator/referrals/nope").status_code == 404


class RefusedTexts:
    """A second text sender that always fails for good: a bad number, say."""

    def hod_notify_text(self, notice):
        raise DeliveryFailed("the number cannot receive texts", transient=False, code="21614")


def test_delivery_failures_are_listed(settings, clock):
    app = create_app(settings, clock=clock, plugins=[RefusedTexts()], sweep=False)
    hod = app.state.hod
    hod.router.put_agent(_agent_data())
    with TestClient(app) as client:
        reference = client.post("/api/v1/referrals", json=ANA).json()["reference"]
        hod.accounts.passwords = Passwords(TEST_PARAMETERS)
        account = hod.accounts.create_operator("ops2", "Sunny-Day42")
        token = hod.accounts.start_session(account, "bearer")
        failures = client.get(
            "/api/v1/operator/deliveries/failed", headers={"Authorization": f"Bearer {token}"}
        ).json()["failures"]
    (failure,) = failures
    assert failure["referral_id"] == reference and failure["kind"] == "notify.failed"
    assert failure["detail"]["channel"] == "text" and failure["detail"]["code"] == "21614"


def test_the_outbox_holds_every_notice(client, ops, make_agent):
    make_agent("1000001")
    client.post("/api/v1/referrals", json=ANA)
    notices = ops.get("/api/v1/operator/outbox").json()["notices"]
    assert sorted(n["channel"] for n in notices) == ["app", "email", "text"]
    mine = ops.get("/api/v1/operator/outbox", params={"npn": "1000001", "limit": 1}).json()
    assert len(mine["notices"]) == 1


def _agent_data():
    from hod_core.testing import samples
    from hod_core.wire import unstructure

    return unstructure(samples.agent("1000001", "77002"))
