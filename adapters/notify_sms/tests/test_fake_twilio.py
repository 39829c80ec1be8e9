"""FakeTwilio read by Twilio's own Python client (`twilio`, a test-only dependency):
every answer the adapters' tests rely on must read as Twilio's does."""

from __future__ import annotations

import re
import secrets
from datetime import UTC, datetime

import pytest
from twilio.base.exceptions import TwilioRestException
from twilio.base.version import Version
from twilio.rest import Client

from hod_notify_sms import TwilioSms
from hod_notify_sms.fake_twilio import FakeTwilio

AGENT_PHONE = "+12222222222"
SERVICE_SID = "MG" + "0123456789abcdef" * 2


def official_client(twilio: FakeTwilio, auth_token: str | None = None) -> Client:
    client = Client(twilio.account_sid, auth_token or twilio.auth_token)
    client.api.base_url = twilio.url  # the one change: loopback instead of api.twilio.com
    return client


@pytest.fixture
def client(fake_twilio) -> Client:
    return official_client(fake_twilio)


def refusal(send) -> TwilioRestException:
    with pytest.raises(TwilioRestException) as refused:
        send()
    return refused.value


def test_a_sent_message_reads_as_twilios_message_resource(client, fake_twilio):
    message = client.messages.create(to=AGENT_PHONE, from_="+15005550006", body="Hola")
    assert re.fullmatch(r"SM[0-9a-f]{32}", message.sid)
    assert message.account_sid == fake_twilio.account_sid
    assert (message.status, message.direction) == ("queued", "outbound-api")
    assert (message.to, message.from_, message.body) == (AGENT_PHONE, "+15005550006", "Hola")
    assert (message.num_segments, message.num_media) == ("1", "0")
    assert isinstance(message.date_created, datetime) and message.date_created.tzinfo == UTC
    assert abs((datetime.now(UTC) - message.date_created).total_seconds()) < 60
    assert message.date_sent is None and message.error_code is None and message.price is None
    assert (
        message.uri == f"/2010-04-01/Accounts/{fake_twilio.account_sid}/Messages/{message.sid}.json"
    )
    assert message.subresource_uris == {"media": message.uri.removesuffix(".json") + "/Media.json"}


def test_a_message_is_fetched_back_as_it_was_stored(client):
    sent = client.messages.create(to=AGENT_PHONE, from_="+15005550006", body="Hola")
    fetched = client.messages(sent.sid).fetch()
    assert (fetched.sid, fetched.body, fetched.status) == (sent.sid, "Hola", "queued")
    unknown = refusal(client.messages("SM" + "0" * 32).fetch)
    assert (unknown.status, unknown.code) == (404, 20404)


def test_a_messaging_service_send_starts_accepted_with_no_segments_yet(client):
    message = client.messages.create(to=AGENT_PHONE, messaging_service_sid=SERVICE_SID, body="Hi")
    assert (message.status, message.num_segments) == ("accepted", "0")
    assert message.messaging_service_sid == SERVICE_SID and message.from_ is None


def test_media_without_a_body_is_a_message(client):
    message = client.messages.create(
        to=AGENT_PHONE, from_="+15005550006", media_url=["https://hod.example.org/card.png"]
    )
    assert re.fullmatch(r"MM[0-9a-f]{32}", message.sid)
    assert (message.num_media, message.body) == ("1", "")


@pytest.mark.parametrize(
    ("fields", "status", "code"),
    [
        ({"to": "", "from_": "+15005550006", "body": "x"}, 400, 21604),
        ({"to": AGENT_PHONE, "body": "x"}, 400, 21603),
        ({"to": AGENT_PHONE, "from_": "+15005550006"}, 400, 21602),
        ({"to": "+1-222-222-2222", "from_": "+15005550006", "body": "x"}, 400, 21211),
        ({"to": AGENT_PHONE, "from_": "+15551234567", "body": "x"}, 400, 21606),
        (
            {"to": AGENT_PHONE, "from_": "+15005550006", "media_url": ["card.png"]},
            400,
            21620,
        ),
        ({"to": AGENT_PHONE, "from_": "+15005550006", "body": "x" * 1601}, 400, 21617),
    ],
    ids=["no-to", "no-from", "no-body-or-media", "bad-to", "foreign-from", "bad-media", "long"],
)
def test_a_refused_message_reads_as_twilios_error(client, fake_twilio, fields, status, code):
    refused = refusal(lambda: client.messages.create(**fields))
    assert (refused.status, refused.code) == (status, code)
    assert refused.uri.endswith("/Messages.json") and not fake_twilio.messages


def test_wrong_credentials_read_as_twilios_20003(fake_twilio):
    client = official_client(fake_twilio, auth_token="not-the-token")
    refused = refusal(lambda: client.messages.create(to=AGENT_PHONE, from_="+1500", body="x"))
    assert (refused.status, refused.code) == (401, 20003)


def test_a_json_body_is_read_as_a_message_without_to_as_twilio_does(client, fake_twilio):
    """Twilio reads form fields only: JSON gives 21604, not 21620 (invalid media URLs)."""
    uri = f"/2010-04-01/Accounts/{fake_twilio.account_sid}/Messages.json"
    response = client.request(
        "POST",
        fake_twilio.url + uri,
        data={"To": AGENT_PHONE, "From": "+15005550006", "Body": "x"},
        headers={"Content-Type": "application/json"},
    )
    refused = Version.exception("POST", uri, response, "Unable to create record")
    assert (refused.status, refused.code) == (400, 21604)


@pytest.mark.parametrize(("status", "code"), [(429, 20429), (500, 20500), (503, 20503)])
def test_scripted_outages_carry_twilios_codes(client, fake_twilio, status, code):
    fake_twilio.fail_next(status)
    refused = refusal(lambda: client.messages.create(to=AGENT_PHONE, from_="+1500", body="x"))
    assert (refused.status, refused.code) == (status, code)


def test_an_account_sid_in_upper_case_hex_is_an_account_as_twilios_pattern_allows():
    with FakeTwilio(account_sid="AC" + secrets.token_hex(16).upper()) as twilio:
        message = official_client(twilio).messages.create(
            to=AGENT_PHONE, from_="+15005550006", body="Hola"
        )
        assert message.account_sid == twilio.account_sid
        assert TwilioSms.from_settings(twilio.settings()).send(AGENT_PHONE, "Hola").startswith("SM")
