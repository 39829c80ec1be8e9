"""A referral's whole life through the API, its metrics, and a restart mid-offer:
the offer still expires on time, because the sweep reads what is due from the
store, not from timers held in memory (fake clock: nothing sleeps)."""

from __future__ import annotations

from fastapi.testclient import TestClient

from hod_core.server.app import create_app

from .data import ANA, no_contact_data


def test_the_whole_life_of_a_referral(client, hod, clock, make_agent, agent_login, operator_login):
    make_agent("1000001", "77002")
    make_agent("1000002", "77030")
    maria, luis, ops = agent_login("1000001"), agent_login("1000002"), operator_login()
    created = client.post("/api/v1/referrals", json=ANA).json()
    reference, status_url = (
        created["reference"],
        f"/api/v1/referrals/status/{created['status_token']}",
    )
    clock.advance(minutes=2)
    assert maria.post(f"/api/v1/agent/referrals/{reference}/reject").status_code == 200  # L4
    assert luis.get("/api/v1/agent/referrals").json()["referrals"][0]["status"] == "Pending"
    clock.advance(minutes=3)
    accepted = luis.post(f"/api/v1/agent/referrals/{reference}/accept").json()  # L3
    assert accepted["phone"] == ANA["phone"]
    assert client.get(status_url).json()["agent"]["npn"] == "1000002"
    luis.post(f"/api/v1/agent/referrals/{reference}/status", json={"status": "in_progress"})
    done = luis.post(f"/api/v1/agent/referrals/{reference}/status", json={"status": "completed"})
    assert done.json()["status"] == "Referral Completed"
    assert client.get(status_url).json()["status"] == "Referral Completed"
    trail = ops.get(f"/api/v1/operator/referrals/{reference}").json()["events"]
    lifecycle = [
        (e["rule"], e["kind"], e["npn"]) for e in trail if not e["kind"].startswith("notify")
    ]
    assert lifecycle == [
        ("L1", "referral.created", None),
        ("L1", "offer.made", "1000001"),
        ("L4", "offer.rejected", "1000001"),
        ("L1", "offer.made", "1000002"),
        ("L3", "offer.accepted", "1000002"),
        ("L6", "referral.status", "1000002"),
        ("L6", "referral.status", "1000002"),
    ]
    assert maria.get(f"/api/v1/agent/referrals/{reference}").json()["title"] == "Missed Referral"
    metrics = client.get("/metrics").text
    for line in (
        "hod_referrals_created_total 1.0",
        'hod_offers_total{outcome="made"} 2.0',
        'hod_offers_total{outcome="rejected"} 1.0',
        'hod_offers_total{outcome="accepted"} 1.0',
        'hod_offers_total{outcome="missed"} 0.0',
        'hod_time_to_accept_seconds_bucket{le="300.0"} 1.0',  # offered 3 minutes before
        'hod_time_to_accept_seconds_bucket{le="120.0"} 0.0',
        "hod_referrals_waiting 0.0",
        'hod_notifications_total{channel="email",result="sent"} 2.0',
    ):
        assert line in metrics, line
    assert no_contact_data(metrics)


def test_a_restart_mid_offer_still_expires_it_on_time(settings, clock, app, make_agent):
    make_agent("1000001", "77002")
    make_agent("1000002", "77030")
    with TestClient(app) as before:  # leaving it stops the server: lifespan over, router closed
        reference = before.post("/api/v1/referrals", json=ANA).json()["reference"]
    clock.advance(minutes=14, seconds=59)
    restarted = create_app(settings, clock=clock, sweep=False)
    with TestClient(restarted):
        router = restarted.state.hod.router
        router.tick()
        assert router.referral(reference).pending_offer.npn == "1000001"  # not yet
        clock.advance(seconds=1)  # 15 minutes after the offer (L5)
        router.tick()
        referral = router.referral(reference)
        assert [o.status.value for o in referral.offers] == ["missed", "pending"]
        assert referral.offers[0].answered_at == referral.offers[0].expires_at
        assert referral.pending_offer.npn == "1000002"


def test_waiting_referrals_are_counted(client):
    client.post("/api/v1/referrals", json=ANA)
    assert "hod_referrals_waiting 1.0" in client.get("/metrics").text


def test_p2_after_the_retention_period_every_view_still_answers_without_contact_data(
    client, hod, clock, make_agent, agent_login, operator_login
):
    make_agent("1000001", "77002")
    created = client.post("/api/v1/referrals", json=ANA).json()
    reference = created["reference"]
    maria = agent_login("1000001")
    maria.post(f"/api/v1/agent/referrals/{reference}/accept")
    maria.post(f"/api/v1/agent/referrals/{reference}/status", json={"status": "completed"})
    clock.advance(days=hod.router.policy.contact_retention.days, minutes=1)
    hod.router.tick()
    maria, ops = agent_login("1000001"), operator_login()  # the old session has ended
    assert hod.router.referral(reference).consumer is None  # erased (P2)
    answers = [
        maria.get("/api/v1/agent/referrals"),
        maria.get(f"/api/v1/agent/referrals/{reference}"),
        ops.get("/api/v1/operator/referrals"),
        ops.get(f"/api/v1/operator/referrals/{reference}"),
        client.get(f"/api/v1/referrals/status/{created['status_token']}"),
    ]
    for answer in answers:
        assert answer.status_code == 200, (answer.url, answer.text)
        assert no_contact_data(answer.text)
    listed = ops.get("/api/v1/operator/referrals").json()["referrals"]
    assert [(r["id"], r["language"]) for r in listed] == [(reference, ANA["language"])]
