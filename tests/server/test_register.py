"""Invitations and registration through the API, on a real SQLite file (R1-R5)."""

from __future__ import annotations

import pytest

from hod_core.domain.account_records import TERMS
from hod_core.domain.referrals import ReferralStatus
from hod_core.server.accounts.passwords import RULES
from hod_core.testing import samples

from .conftest import PASSWORD

NPN = "1000001"


def invite(hod, npn=NPN) -> str:
    """The token of a fresh invitation link."""
    return hod.accounts.invite(npn).link.split("token=", 1)[1]


def form(token, **changes) -> dict:
    return {
        "token": token,
        "username": "jane.doe",
        "password": PASSWORD,
        "password_confirm": PASSWORD,
        "phone": "(713) 555-0199",
        "contact_method": "email_text_app",
        "zip": "77002",
        "hod_terms_of_use": True,
    } | changes


def notices(hod, kind):
    return [n for n in reversed(hod.outbox.notices()) if n["kind"] == kind]


@pytest.fixture
def token(hod, make_agent):
    make_agent(NPN)
    return invite(hod)


# -- R1: the invitation -----------------------------------------------------------------
def test_the_invitation_is_emailed_with_a_link_the_page_reads(client, hod, token, settings):
    [email] = notices(hod, "invitation")
    assert email["channel"] == "email" and email["to"] == f"agent{NPN}@example.com"
    assert email["link"] == f"{settings.base_url}/register?token={token}"
    page = client.get(f"/api/v1/invitations/{token}")
    assert page.status_code == 200
    shown = page.json()
    assert (shown["first_name"], shown["last_name"]) == ("Jane", "Doe")
    assert shown["email"] == f"agent{NPN}@example.com"
    assert shown["read_only"] == ["first_name", "last_name", "email"]  # R2
    assert shown["expires_at"] == "2026-11-25T16:00:00+00:00"  # 48 hours after sending


def test_a_link_is_single_use(client, token):
    assert client.post("/api/v1/register", json=form(token)).status_code == 201
    again = client.post("/api/v1/register", json=form(token, username="someone.else"))
    assert again.status_code == 410 and "used" in again.json()["detail"]
    assert client.get(f"/api/v1/invitations/{token}").status_code == 410


def test_a_link_expires_48_hours_after_it_was_sent(client, clock, token):
    clock.advance(hours=48)
    answer = client.post("/api/v1/register", json=form(token))
    assert answer.status_code == 410 and "expired" in answer.json()["detail"]
    assert client.get(f"/api/v1/invitations/{token}").status_code == 410


def test_a_link_works_until_its_last_second(client, clock, token):
    clock.advance(hours=47, minutes=59, seconds=59)
    assert client.post("/api/v1/register", json=form(token)).status_code == 201


def test_a_re_invite_replaces_the_pending_link(client, hod, token):
    newer = invite(hod)
    assert client.post("/api/v1/register", json=form(token)).status_code == 404
    assert client.post("/api/v1/register", json=form(newer)).status_code == 201


def test_a_returning_agent_gets_no_new_invitation(client, hod, token):
    assert client.post("/api/v1/register", json=form(token)).status_code == 201
    assert hod.accounts.invite(NPN).link is None
    assert len(notices(hod, "invitation")) == 1
    assert NPN not in hod.accounts.uninvited()


def test_an_unknown_link_is_404(client, token):
    assert client.get("/api/v1/invitations/nope").status_code == 404
    assert client.post("/api/v1/register", json=form("nope")).status_code == 404


# -- R2, R3: the form ------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("password", "rule_id"),
    [
        ("Sunny Day42!", "no_spaces"),
        ("Sun-D4y", "length"),
        ("Sunny-Day-Forty", "digit"),
        ("SUNNY-DAY42", "lower"),
        ("sunny-day42", "upper"),
        ("SunnyDay42", "special"),
        ("Suuuun-Day42", "repeats"),
        ("Sunny-Day1234", "sequence"),
    ],
)
def test_each_broken_password_rule_is_named_in_english_and_spanish(
    client, hod, token, password, rule_id
):
    answer = client.post(
        "/api/v1/register", json=form(token, password=password, password_confirm=password)
    )
    assert answer.status_code == 422
    [problem] = answer.json()["detail"]
    rule = next(r for r in RULES if r.id == rule_id)
    assert problem == {
        "field": "password",
        "rule": "R3",
        "id": rule_id,
        "message": rule.en,
        "message_es": rule.es,
    }
    assert password not in answer.text
    assert hod.accounts.account("npn", NPN) is None
    assert client.get(f"/api/v1/invitations/{token}").status_code == 200  # still usable


def test_every_problem_is_listed_at_once(client, token):
    bad = form(token, password="abc", password_confirm="abd", phone="", zip="1", contact_method="")
    answer = client.post("/api/v1/register", json=bad)
    assert answer.status_code == 422
    listed = [(p["field"], p.get("id", p["rule"])) for p in answer.json()["detail"]]
    assert listed == [
        ("phone", "R2"),
        ("zip", "R2"),
        ("contact_method", "R2"),
        ("password", "length"),
        ("password", "digit"),
        ("password", "upper"),
        ("password", "special"),
        ("password_confirm", "R3"),
    ]


def test_a_zip_outside_the_shipped_data_is_refused_before_anything_is_saved(client, hod, token):
    answer = client.post("/api/v1/register", json=form(token, zip="00000"))
    assert answer.status_code == 422
    [problem] = answer.json()["detail"]
    assert problem["field"] == "zip" and "00000" in problem["message"]
    assert hod.accounts.account("npn", NPN) is None
    assert client.get(f"/api/v1/invitations/{token}").status_code == 200


def test_name_and_email_are_read_only(client, token):
    answer = client.post("/api/v1/register", json=form(token, email="other@example.com"))
    assert answer.status_code == 422
    assert answer.json()["detail"][0]["field"] == "email"
    assert "R2" in answer.json()["detail"][0]["message"]


def test_a_taken_user_name_is_refused_and_the_link_kept(client, hod, make_agent, token):
    make_agent("1000002")
    other = invite(hod, "1000002")
    assert client.post("/api/v1/register", json=form(other)).status_code == 201
    answer = client.post("/api/v1/register", json=form(token, username="Jane.Doe"))
    assert answer.status_code == 422 and answer.json()["detail"][0]["field"] == "username"
    assert client.get(f"/api/v1/invitations/{token}").status_code == 200


# -- registration saved; R4, R5 ---------------------------------------------------------------
def test_registering_saves_the_agents_fields_and_sends_the_test_text(client, hod, token):
    answer = client.post("/api/v1/register", json=form(token))
    assert answer.status_code == 201
    body = answer.json()
    assert body["login"] == "jane.doe" and body["npn"] == NPN
    assert body["test_text_sent"] is True  # R4: the contact method includes text
    [text] = notices(hod, "test")
    assert text["channel"] == "text" and text["to"] == "+17135550199"
    agent = hod.router.roster.agent(NPN)
    assert (agent.phone, agent.zip, agent.contact_method.value) == (
        "+17135550199",
        "77002",
        "email_text_app",
    )


def test_no_test_text_for_email_only(client, hod, token):
    answer = client.post("/api/v1/register", json=form(token, contact_method="email"))
    assert answer.json()["test_text_sent"] is False
    assert notices(hod, "test") == []


def ask(hod) -> str:
    """A consumer near the agent asks for help: the new referral's id."""
    return hod.router.request_contact(samples.CONSUMER).id


def test_r5_registration_is_incomplete_until_both_terms_and_no_referral_is_offered(
    client, hod, token
):
    answer = client.post("/api/v1/register", json=form(token))
    assert answer.json()["registration_complete"] is False
    assert answer.json()["terms_missing"] == ["agent_broker_terms_of_use"]
    assert hod.router.roster.agent(NPN).participation.terms_accepted is False
    waiting = ask(hod)
    assert hod.router.referral(waiting).status is ReferralStatus.WAITING  # E2: nobody else

    login = client.post("/api/v1/login", json={"login": "jane.doe", "password": PASSWORD})
    csrf = {"X-CSRF-Token": login.json()["csrf_token"]}
    accepted = client.post("/api/v1/terms", json={"accept": [TERMS[1]]}, headers=csrf)
    assert accepted.status_code == 200 and accepted.json()["registration_complete"] is True
    assert hod.router.roster.agent(NPN).participation.terms_accepted is True
    offered = hod.router.referral(waiting)  # the waiting referral goes to them now (L10)
    assert offered.status is ReferralStatus.OFFERED and offered.pending_offer.npn == NPN


def test_both_terms_at_sign_up_complete_the_registration(client, hod, token):
    answer = client.post("/api/v1/register", json=form(token, agent_broker_terms_of_use=True))
    assert answer.json()["registration_complete"] is True
    assert hod.router.roster.agent(NPN).participation.terms_accepted is True


def test_unknown_terms_are_refused(agent_login):
    answer = agent_login(NPN).post("/api/v1/terms", json={"accept": ["cookies"]})
    assert answer.status_code == 422
