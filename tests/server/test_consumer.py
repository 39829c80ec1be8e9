"""The consumer's API: Get Contacted (L1) as JSON or a form, 422 naming every
bad field without echoing contact data, and the status by an unguessable token."""

from __future__ import annotations

import json

from hod_core.errors import StoreUnavailable
from hod_core.server.services.status_tokens import status_token

from .data import ANA, no_contact_data


def test_get_contacted_offers_the_nearest_agent_and_says_what_next(client, hod, make_agent):
    make_agent("1000001", "77030")
    make_agent("1000002", "77002")  # the consumer's own ZIP: nearest
    answer = client.post("/api/v1/referrals", json=ANA)
    assert answer.status_code == 201
    body = answer.json()
    assert body["status"] == "Pending"
    assert "15 minutes" in body["next"] and "30 minutes" in body["next"]
    referral = hod.router.referral(body["reference"])
    assert referral.pending_offer.npn == "1000002"
    notices = hod.outbox.notices()
    assert {n["channel"] for n in notices} == {"email", "text", "app"}
    assert all(n["npn"] == "1000002" for n in notices)
    assert no_contact_data(str(notices))  # L2: a reference and the deadline only


def test_a_form_post_is_a_get_contacted_too(client, make_agent):
    make_agent()
    form = {**ANA, "phone": "(713) 555-0100", "state": ""}  # an empty select: from the ZIP
    answer = client.post("/api/v1/referrals", data=form)
    assert answer.status_code == 201, answer.text
    assert answer.json()["status"] == "Pending"


def test_nobody_available_waits_and_says_so(client):
    body = client.post("/api/v1/referrals", json=ANA).json()
    assert body["status"] == "Waiting"
    assert "60 minutes" in body["next"]


def test_a_state_without_healthcare_gov_is_unmatched_at_once(client):
    answer = client.post("/api/v1/referrals", json={**ANA, "zip": "10001"})  # New York (E5)
    assert answer.status_code == 201
    assert answer.json()["status"] == "Unmatched"


def test_every_bad_field_is_named_and_no_value_echoed(client, hod):
    bad = {
        "first_name": " ",
        "last_name": 7,
        "phone": "Ana Ruiz 555",
        "email": "ana.ruiz@",
        "zip": "0000",
        "language": "xx",
        "state": "ZZ",
        "nickname": "Ana",
    }
    answer = client.post("/api/v1/referrals", json=bad)
    assert answer.status_code == 422
    fields = [p["field"] for p in answer.json()["detail"]]
    assert set(fields) == {
        None,
        "first_name",
        "last_name",
        "phone",
        "email",
        "zip",
        "language",
        "state",
    }
    assert "nickname" in answer.text  # the unknown field is named: a key, not a value
    assert "ana.ruiz@" not in answer.text and "Ana Ruiz 555" not in answer.text
    assert hod.router.referrals(limit=5) == []  # nothing stored


def test_missing_fields_are_each_named(client):
    answer = client.post("/api/v1/referrals", json={"zip": "77002"})
    assert answer.status_code == 422
    named = {p["field"]: p["message"] for p in answer.json()["detail"]}
    assert set(named) == {"first_name", "last_name", "phone", "email", "language"}
    assert set(named.values()) == {"required field missing"}


def test_a_contact_field_given_twice_is_named_as_a_duplicate(client, hod):
    body = '{"first_name": "Ana", "first_name": "Zq", ' + json.dumps(ANA)[1:]
    answer = client.post(
        "/api/v1/referrals", content=body, headers={"Content-Type": "application/json"}
    )
    assert answer.status_code == 422
    (problem,) = answer.json()["detail"]
    assert problem == {"field": "first_name", "message": "key given twice in one object"}
    assert "Zq" not in answer.text and ANA["email"] not in answer.text
    assert hod.router.referrals(limit=5) == []


def test_a_store_out_of_reach_is_a_503_to_try_again(client, hod, monkeypatch):
    def unreachable(**_):
        raise StoreUnavailable("the database is restarting")

    monkeypatch.setattr(hod.router.hook, "hod_store_commit", unreachable)
    answer = client.post("/api/v1/referrals", json=ANA)
    assert answer.status_code == 503 and answer.headers["Retry-After"]
    assert ANA["email"] not in answer.text


def test_an_unlocated_zip_is_named(client):
    answer = client.post("/api/v1/referrals", json={**ANA, "zip": "00000"})
    assert answer.status_code == 422
    assert [p["field"] for p in answer.json()["detail"]] == ["zip"]


def test_status_shows_the_agents_card_once_accepted_and_nothing_of_others(client, hod, make_agent):
    make_agent("1000001", "77002", street_address="9 Elm St")
    created = client.post("/api/v1/referrals", json=ANA).json()
    url = f"/api/v1/referrals/status/{created['status_token']}"
    pending = client.get(url).json()
    assert pending == {
        "reference": created["reference"],
        "status": "Pending",
        "created_at": "2026-11-23T16:00:00+00:00",
        "agent": None,
    }
    hod.router.accept(created["reference"], "1000001")
    accepted = client.get(url).json()
    assert accepted["status"] == "Accepted"
    assert accepted["agent"]["npn"] == "1000001"
    assert accepted["agent"]["street_address"] == "9 Elm St"
    assert no_contact_data(str(accepted))


def test_display_option_2_hides_the_street_address_on_the_card(client, hod, make_agent):
    make_agent("1000001", "77002", street_address="9 Elm St", display_option=2)
    created = client.post("/api/v1/referrals", json=ANA).json()
    hod.router.accept(created["reference"], "1000001")
    card = client.get(f"/api/v1/referrals/status/{created['status_token']}").json()["agent"]
    assert card["street_address"] is None and card["phone"]


def test_only_the_servers_token_opens_a_status(client, hod, settings, make_agent):
    make_agent()
    reference = client.post("/api/v1/referrals", json=ANA).json()["reference"]
    forged = status_token("another key" * 4, reference)
    for token in (reference, forged, f"{reference}.", "x" * 300, f"{reference}.AAAA"):
        assert client.get(f"/api/v1/referrals/status/{token}").status_code == 404
    genuine = status_token(settings.secret_key, reference)
    assert client.get(f"/api/v1/referrals/status/{genuine}").status_code == 200
