"""The agent's API, their own data only: Manage Referrals (Pending with seconds
left, accepted with contact data, missed and rejected as "Missed Referral",
the L8 alert), accept (L3), reject (L4), the L6 moves, Availability Settings
and Profile."""

from __future__ import annotations

import pytest

from .data import ANA, no_contact_data


@pytest.fixture
def maria(agent_login):
    return agent_login("1000001")


def _ask(client) -> str:
    return client.post("/api/v1/referrals", json=ANA).json()["reference"]


def test_manage_referrals_shows_a_pending_offer_with_seconds_left(client, clock, maria):
    reference = _ask(client)
    clock.advance(minutes=5)
    listing = maria.get("/api/v1/agent/referrals").json()
    assert listing["alert"] is None
    (row,) = listing["referrals"]
    assert row["referral_id"] == reference
    assert row["status"] == "Pending" and row["title"] == "New Referral"
    assert row["seconds_left"] == 600
    assert row["actions"] == ["accept", "reject"]
    assert no_contact_data(str(row))  # the contact data is the prize of accepting


def test_accept_shows_the_contact_data_to_that_agent(client, maria):
    reference = _ask(client)
    accepted = maria.post(f"/api/v1/agent/referrals/{reference}/accept")
    assert accepted.status_code == 200
    row = accepted.json()
    assert row["status"] == "Accepted" and row["title"] == "Ana Ruiz"
    assert (row["phone"], row["email"]) == (ANA["phone"], ANA["email"])
    assert row["actions"] == ["completed", "in_progress", "not_a_good_referral"]
    assert maria.get(f"/api/v1/agent/referrals/{reference}").json()["phone"] == ANA["phone"]


def test_accept_after_the_window_is_refused_with_the_rule(client, clock, maria):
    reference = _ask(client)
    clock.advance(minutes=15)
    refused = maria.post(f"/api/v1/agent/referrals/{reference}/accept")
    assert refused.status_code == 409
    assert refused.json()["rule"] == "L3"


def test_accepting_twice_is_refused(client, maria):
    reference = _ask(client)
    assert maria.post(f"/api/v1/agent/referrals/{reference}/accept").status_code == 200
    again = maria.post(f"/api/v1/agent/referrals/{reference}/accept")
    assert again.status_code == 409 and again.json()["rule"] == "L3"


def test_reject_passes_it_on_and_leaves_a_missed_referral_without_data(
    client, hod, agent_login, maria
):
    luis = agent_login("1000002")
    reference = _ask(client)
    first = hod.router.referral(reference).pending_offer.npn
    answering, other = (maria, luis) if first == "1000001" else (luis, maria)
    rejected = answering.post(f"/api/v1/agent/referrals/{reference}/reject").json()
    assert rejected["status"] == "Rejected" and rejected["title"] == "Missed Referral"
    assert rejected["phone"] is None and rejected["actions"] == []
    assert hod.router.referral(reference).pending_offer.npn != first
    assert other.get(f"/api/v1/agent/referrals/{reference}").json()["status"] == "Pending"


def test_a_missed_offer_is_listed_without_data_and_raises_the_alert(client, hod, clock, maria):
    reference = _ask(client)
    clock.advance(minutes=16)
    hod.router.tick()
    listing = maria.get("/api/v1/agent/referrals").json()
    (row,) = listing["referrals"]
    assert (row["referral_id"], row["status"], row["title"]) == (
        reference,
        "Missed",
        "Missed Referral",
    )
    assert row["phone"] is None and row["email"] is None
    assert listing["alert"].startswith("Alert! You have missed 1 referral in the last 7 days.")


@pytest.mark.parametrize(
    ("moves", "final"),
    [
        ([("in_progress", None), ("completed", None)], "Referral Completed"),
        ([("not_a_good_referral", "wrong_contact_data")], "Not a Good Referral"),
        (
            [("in_progress", None), ("not_a_good_referral", "no_contact_after_3_attempts")],
            "Not a Good Referral",
        ),
        ([("not_a_good_referral", "working_with_another_broker")], "Not a Good Referral"),
    ],
)
def test_status_moves_after_accept(client, maria, moves, final):
    reference = _ask(client)
    maria.post(f"/api/v1/agent/referrals/{reference}/accept")
    for status, reason in moves:
        body = {"status": status} | ({"reason": reason} if reason else {})
        answer = maria.post(f"/api/v1/agent/referrals/{reference}/status", json=body)
        assert answer.status_code == 200, answer.text
    row = answer.json()
    assert row["status"] == final and row["actions"] == []


def test_illegal_moves_are_refused_naming_the_rule_or_field(client, maria):
    reference = _ask(client)
    url = f"/api/v1/agent/referrals/{reference}/status"
    before_accept = maria.post(url, json={"status": "completed"})
    assert before_accept.status_code == 404 and before_accept.json()["rule"] == "L6"
    maria.post(f"/api/v1/agent/referrals/{reference}/accept")
    back = maria.post(url, json={"status": "accepted"})
    assert back.status_code == 409 and back.json()["rule"] == "L6"
    unknown = maria.post(url, json={"status": "done"})
    assert unknown.status_code == 422 and unknown.json()["detail"][0]["field"] == "status"
    reason_alone = maria.post(url, json={"status": "in_progress", "reason": "wrong_contact_data"})
    assert reason_alone.json()["detail"][0]["field"] == "reason"
    assert maria.post(url, json={"status": "completed"}).status_code == 200
    final = maria.post(url, json={"status": "in_progress"})
    assert final.status_code == 409  # Completed is final


def test_weekly_hours_days_off_and_breaks(client, maria, hod):
    saved = maria.patch(
        "/api/v1/agent/availability",
        json={
            "weekly": {
                "mon": [["09:00", "12:00"], ["13:00", "18:00"]],
                "sat": [["10:00", "14:00"]],
            },
            "breaks": [{"days": ["mon"], "start": "15:00", "end": "15:30"}],
        },
    )
    assert saved.status_code == 200, saved.text
    body = saved.json()
    assert body["timezone"] == "America/Chicago"
    assert set(body["weekly"]) == {"mon", "sat"}  # Tuesday to Friday and Sunday toggled off
    agent = hod.agent("1000001")
    assert agent.availability.breaks[0].start == 15 * 60
    bad = maria.patch("/api/v1/agent/availability", json={"weekly": {"mon": [["12:00", "09:00"]]}})
    assert bad.status_code == 422
    assert bad.json()["detail"][0]["field"] == "availability.weekly.mon[0]"
    assert hod.agent("1000001").availability.weekly["mon"][0].start == 9 * 60  # unchanged


def test_weekly_null_is_the_default_hours(maria, hod):
    maria.patch("/api/v1/agent/availability", json={"weekly": {"sun": [["08:00", "09:00"]]}})
    assert maria.patch("/api/v1/agent/availability", json={"weekly": None}).json()["weekly"] is None


def test_todays_availability_on_until_stop_referrals_then_off(client, clock, maria, hod):
    maria.patch("/api/v1/agent/availability", json={"weekly": {}})  # never available by hours
    assert client.post("/api/v1/referrals", json=ANA).json()["status"] == "Waiting"
    on = maria.post("/api/v1/agent/availability/today", json={"on": True, "until": "18:30"})
    assert on.status_code == 200, on.text
    today = on.json()["today"]
    assert today["on"] is True and today["date"] == "2026-11-23"
    assert today["until"] == "2026-11-24T00:30:00+00:00"  # 18:30 in Houston
    hod.router.tick()  # the waiting referral finds her now
    assert maria.get("/api/v1/agent/referrals").json()["referrals"][0]["status"] == "Pending"
    off = maria.post("/api/v1/agent/availability/today", json={"on": False}).json()["today"]
    assert off["on"] is False
    cleared = maria.delete("/api/v1/agent/availability/today").json()
    assert cleared["today"] is None
    past = maria.post("/api/v1/agent/availability/today", json={"on": True, "until": "09:00"})
    assert past.status_code == 422 and past.json()["detail"][0]["field"] == "until"


def test_out_of_office_with_and_without_an_end(client, maria, hod):
    with_end = maria.post(
        "/api/v1/agent/availability/out-of-office",
        json={"from": "2026-11-23T00:00:00-06:00", "to": "2026-11-24T00:00:00-06:00"},
    )
    assert with_end.status_code == 200, with_end.text
    assert client.post("/api/v1/referrals", json=ANA).json()["status"] == "Waiting"  # A1
    no_end = maria.post("/api/v1/agent/availability/out-of-office", json={"to": None}).json()
    assert [p["to"] for p in no_end["out_of_office"]] == ["2026-11-24T06:00:00+00:00", None]
    assert no_end["out_of_office"][1]["from"] == "2026-11-23T16:00:00+00:00"  # from now
    off = maria.delete("/api/v1/agent/availability/out-of-office").json()
    assert off["out_of_office"] == []
    backwards = maria.post(
        "/api/v1/agent/availability/out-of-office",
        json={"from": "2026-12-02T00:00:00Z", "to": "2026-12-01T00:00:00Z"},
    )
    assert backwards.status_code == 422


def test_profile_edits_what_the_agent_owns(maria, hod):
    profile = maria.get("/api/v1/agent/profile").json()
    assert profile["email"] == "agent1000001@example.com" and "email" in profile["read_only"]
    changed = maria.patch(
        "/api/v1/agent/profile",
        json={
            "phone": "(713) 555-0199",
            "contact_method": "email_text",
            "zip": "77004",
            "languages": ["es", "en", "vi"],
        },
    )
    assert changed.status_code == 200, changed.text
    agent = hod.agent("1000001")
    assert (agent.phone, agent.contact_method.value, agent.zip) == (
        "+17135550199",
        "email_text",
        "77004",
    )
    assert agent.languages == ("es", "en", "vi")


def test_name_email_and_licences_are_read_only(maria, hod):
    refused = maria.patch(
        "/api/v1/agent/profile",
        json={"email": "me@example.com", "last_name": "X", "licenses": [], "favourite": 1},
    )
    assert refused.status_code == 422
    fields = {p["field"] for p in refused.json()["detail"]}
    assert fields == {"email", "last_name", "licenses", "favourite"}
    assert hod.agent("1000001").email == "agent1000001@example.com"


def test_state_preferences_offer_only_states_allowed_by_e5_to_e7(make_agent, agent_login, hod):
    licences = [
        {"state": s, "lines_of_authority": [loa], "active": True, "expires_on": "2027-06-30"}
        for s, loa in (
            ("TX", "Health"),
            ("OK", "Accident & Health"),
            ("NY", "Health"),
            ("LA", "Life"),
        )
    ]
    make_agent("1000003", "77002", licenses=_licences(licences))
    agent = agent_login("1000003")
    options = agent.get("/api/v1/agent/profile").json()["state_preference_options"]
    assert options == ["OK", "TX"]  # NY: not HealthCare.gov (E5); LA: no health line (E6)
    chosen = agent.patch("/api/v1/agent/profile", json={"state_preferences": ["ok"]})
    assert chosen.status_code == 200 and chosen.json()["state_preferences"] == ["OK"]
    refused = agent.patch("/api/v1/agent/profile", json={"state_preferences": ["TX", "NY", "LA"]})
    assert refused.status_code == 422
    assert "LA, NY" in refused.json()["detail"][0]["message"]
    assert hod.agent("1000003").state_preferences == frozenset({"OK"})
    everything = agent.patch("/api/v1/agent/profile", json={"state_preferences": None})
    assert everything.json()["state_preferences"] is None


def test_home_state_only_agents_are_offered_their_home_state(make_agent, agent_login):
    licences = [
        {"state": s, "lines_of_authority": ["Health"], "active": True, "expires_on": "2027-06-30"}
        for s in ("TX", "OK")
    ]
    make_agent("1000004", "77002", licenses=_licences(licences), display_option=3)
    options = agent_login("1000004").get("/api/v1/agent/profile").json()["state_preference_options"]
    assert options == ["TX"]  # E7


def _licences(data):
    from hod_core.domain.models import License
    from hod_core.wire import structure

    return tuple(structure(item, License) for item in data)
