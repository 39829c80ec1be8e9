"""The webhook adapter against a loopback receiver. Every event it sends is
verified twice, as receivers will: with the Standard Webhooks library
(`standardwebhooks`) and with the standard-library code of the README, both
run exactly as the README shows them (-p hod_notify_webhook.testing)."""

from __future__ import annotations

import base64
import json
import re
import ssl
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import trustme
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from hod_core import Availability, ConfigurationError, DeliveryFailed, Interval, MemoryStore, Router
from hod_core.testing import FakeClock, Outbox, samples
from hod_notify_webhook import SignedWebhook, new_signing_secret
from hod_notify_webhook.receiver import Receiver

README = Path(__file__).parents[1] / "README.md"
LINK = "https://hod.example.org/r/"
# The weekly table's keys, as the agent model names them; written out here, not
# imported, because the core keeps its list of codes internal.
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
ALWAYS = Availability(weekly={day: (Interval(0, 1440),) for day in WEEKDAYS})


@pytest.fixture(scope="module")
def readme():
    """The README's two receivers (`receive`: the library; `verify_webhook`:
    the standard library), run as written."""
    section = README.read_text().split("## Verifying", 1)[1].split("\n## ", 1)[0]
    namespace: dict = {}
    for code in re.findall(r"```python\n(.*?)```", section, re.DOTALL):
        exec(compile(code, str(README), "exec"), namespace)
    return namespace


@pytest.fixture
def clock():
    """The wall clock's second, moved by hand: the library checks the
    timestamp against the wall clock (5 minutes either way), as a receiver does."""
    return FakeClock(datetime.now(UTC).replace(microsecond=0))


@pytest.fixture
def app(hod_far_end_settings):
    return SignedWebhook.from_settings(hod_far_end_settings)


def app_router(app, clock):
    router = Router([MemoryStore(), clock, app, Outbox()], delivery_threads=0, link_base=LINK)
    router.put_agent(samples.agent("1", "77002", availability=ALWAYS))
    return router


def app_attempts(router, referral_id):
    return [
        e
        for e in router.events(referral_id)
        if e.kind.startswith("notify.") and e.detail["channel"] == "app"
    ]


def verified(readme, secret, requests, now) -> list[dict]:
    """Each request as both README receivers read it: they must agree."""
    events = []
    for headers, body in requests:
        status, by_library = readme["receive"](secret, body, headers)
        assert status == 204, "the standardwebhooks library refused the request"
        assert readme["verify_webhook"](secret, body, headers, now=now) == by_library
        events.append(by_library)
    return events


# -- what a receiver gets ----------------------------------------------------------------
def test_an_offer_is_a_standard_webhook_both_readme_receivers_verify(
    app, webhook_receiver, webhook_secret, clock, readme
):
    router = app_router(app, clock)
    referral = router.request_contact(samples.CONSUMER)
    [(headers, body)] = webhook_receiver.requests
    [event] = verified(readme, webhook_secret, webhook_receiver.requests, clock.at.timestamp())
    assert headers["Content-Type"] == "application/json"
    assert headers["webhook-id"] == event["id"] == f"offer_{referral.id}_1"
    assert "." not in headers["webhook-id"]  # the signed content's separator
    assert headers["webhook-timestamp"] == str(int(clock.at.timestamp()))
    assert re.fullmatch(r"v1,[A-Za-z0-9+/]{43}=", headers["webhook-signature"])
    assert not [name for name in headers if name.lower().startswith("x-hod")]
    assert event["type"] == "referral.offered" and event["attempt"] == 1
    deadline = clock.at + timedelta(minutes=15)
    assert event["data"] == {
        "npn": "1",
        "agent_first_name": "Jane",
        "language": "en",
        "referral_id": referral.id,
        "link": LINK + referral.id,
        "deadline": deadline.isoformat(),
        "deadline_local": deadline.astimezone(ZoneInfo("America/Chicago")).isoformat(),
        "consumer_state": "TX",
        "consumer_language": "es",
    }
    for personal in ("Ruiz", "+17135550100", "ana@example.com", "77002"):
        assert personal not in body.decode()


def test_a_retry_is_the_same_event_id_signed_afresh(
    app, webhook_receiver, webhook_secret, clock, readme
):
    webhook_receiver.fail_next(503)
    router = app_router(app, clock)
    referral = router.request_contact(samples.CONSUMER)
    [failed] = app_attempts(router, referral.id)
    assert (failed.detail["code"], failed.detail["transient"]) == ("503", True)
    clock.at = datetime.fromisoformat(failed.detail["retry_at"])
    router.tick()
    first, second = webhook_receiver.requests
    events = verified(readme, webhook_secret, [first, second], clock.at.timestamp())
    assert first[0]["webhook-id"] == second[0]["webhook-id"] == events[0]["id"] == events[1]["id"]
    assert [e["attempt"] for e in events] == [1, 2]
    assert first[0]["webhook-timestamp"] < second[0]["webhook-timestamp"]
    assert first[0]["webhook-signature"] != second[0]["webhook-signature"]
    assert [e.kind for e in app_attempts(router, referral.id)] == ["notify.failed", "notify.sent"]


def test_both_receivers_refuse_a_tampered_body_a_wrong_secret_and_a_replay(
    app, webhook_receiver, webhook_secret, clock, readme
):
    app_router(app, clock).request_contact(samples.CONSUMER)
    [(headers, body)] = webhook_receiver.requests
    verify, bad, now = readme["verify_webhook"], readme["BadSignature"], clock.at.timestamp()
    tampered = body.replace(b'"TX"', b'"FL"')
    stale = app.headers(headers["webhook-id"], int(now) - 301, body)  # validly signed, too old
    for secret, sent_body, sent_headers in [
        (webhook_secret, tampered, headers),
        (new_signing_secret(), body, headers),
        (webhook_secret, body, stale),
    ]:
        assert readme["receive"](secret, sent_body, sent_headers) == (400, None)
        with pytest.raises(bad):
            verify(secret, sent_body, sent_headers, now=now)
    verify(webhook_secret, body, headers, now=now + 300)  # the edge of the window
    with pytest.raises(bad, match="tolerance"):
        verify(webhook_secret, body, headers, now=now + 301)
    with pytest.raises(bad, match="malformed"):
        verify(webhook_secret, body, {"webhook-id": headers["webhook-id"]}, now=now)


def test_while_a_secret_is_rotated_receivers_of_either_secret_verify(
    hod_far_end_settings, webhook_receiver, clock, readme
):
    new, old = new_signing_secret(), new_signing_secret()
    rotating = SignedWebhook.from_settings(
        {**hod_far_end_settings, "signing_secret": f"{new} {old}"}
    )
    app_router(rotating, clock).request_contact(samples.CONSUMER)
    [(headers, body)] = webhook_receiver.requests
    assert len(headers["webhook-signature"].split(" ")) == 2
    for secret in (new, old):
        verified(readme, secret, webhook_receiver.requests, clock.at.timestamp())
    with pytest.raises(WebhookVerificationError):
        Webhook(new_signing_secret()).verify(body, dict(headers))


# -- the receiver's answers ----------------------------------------------------------------
@pytest.mark.parametrize(
    ("status", "transient"),
    [(400, False), (401, False), (410, False), (408, True), (502, True)],
)
def test_the_receivers_status_decides_whether_to_retry(
    app, webhook_receiver, clock, status, transient
):
    webhook_receiver.fail_next(status)
    router = app_router(app, clock)
    referral = router.request_contact(samples.CONSUMER)
    [failed] = app_attempts(router, referral.id)
    assert (failed.detail["code"], failed.detail["transient"]) == (str(status), transient)
    assert ("retry_at" in failed.detail) is transient


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_a_redirect_is_a_final_failure_and_nothing_reaches_the_other_host(
    app, webhook_receiver, clock, status
):
    with Receiver() as elsewhere:
        webhook_receiver.fail_next(status, headers={"Location": elsewhere.url})
        router = app_router(app, clock)
        referral = router.request_contact(samples.CONSUMER)
        [failed] = app_attempts(router, referral.id)
        assert (failed.detail["code"], failed.detail["transient"]) == (str(status), False)
        assert failed.detail["final"] is True
        assert elsewhere.requests == []  # neither the POST nor a GET
    assert len(webhook_receiver.requests) == 1


def test_a_429_waits_as_long_as_the_receiver_asks(app, webhook_receiver, clock):
    webhook_receiver.fail_next(429, retry_after=90)
    router = app_router(app, clock)
    referral = router.request_contact(samples.CONSUMER)
    [failed] = app_attempts(router, referral.id)
    assert datetime.fromisoformat(failed.detail["retry_at"]) == clock.at + timedelta(seconds=90)


def test_a_receiver_that_hangs_up_is_transient(app, webhook_receiver):
    webhook_receiver.fail_next(0)
    with pytest.raises(DeliveryFailed) as failed:
        app.post(b"{}", {})
    assert failed.value.transient is True


def test_https_with_a_trusted_ca_and_refused_with_an_unknown_one(tmp_path, webhook_secret, clock):
    ca = trustme.CA()
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(server_tls)
    ca_file = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    with Receiver(tls=server_tls) as receiver:
        settings = {"url": receiver.url, "signing_secret": webhook_secret}
        trusted = SignedWebhook.from_settings({**settings, "ca_file": str(ca_file)})
        app_router(trusted, clock).request_contact(samples.CONSUMER)
        assert len(receiver.requests) == 1
        with pytest.raises(DeliveryFailed) as refused:
            SignedWebhook.from_settings(settings).post(b"{}", {})
        assert (refused.value.transient, refused.value.code) == (False, "tls")


# -- settings ------------------------------------------------------------------------------
def test_a_new_secret_is_whsec_and_the_base64_of_32_random_bytes():
    secret = new_signing_secret()
    assert secret.startswith("whsec_") and secret != new_signing_secret()
    assert len(base64.b64decode(secret.removeprefix("whsec_"), validate=True)) == 32
    Webhook(secret)  # the library reads it


@pytest.mark.parametrize(
    "signing_secret",
    [
        "",
        "a-long-enough-but-not-whsec-secret",
        "whsec_" + base64.b64encode(b"16 bytes is few.").decode(),
        "whsec_" + base64.b64encode(bytes(65)).decode(),
        "whsec_not-base64-at-all!",
        f"{new_signing_secret()} whsec_?",
    ],
    ids=["empty", "no-prefix", "too-short", "too-long", "not-base64", "second-bad"],
)
def test_a_secret_not_in_the_standard_form_is_refused_by_name_and_never_echoed(
    hod_far_end_settings, signing_secret
):
    with pytest.raises(ConfigurationError, match="signing_secret") as refused:
        SignedWebhook.from_settings({**hod_far_end_settings, "signing_secret": signing_secret})
    for part in signing_secret.split():
        assert part not in str(refused.value)


def test_a_bad_url_is_refused_by_name(hod_far_end_settings):
    with pytest.raises(ConfigurationError, match="url"):
        SignedWebhook.from_settings({**hod_far_end_settings, "url": "ftp://x"})


def test_settings_from_a_config_file(hod_far_end_settings, tmp_path, webhook_receiver):
    config = tmp_path / "webhook.toml"
    config.write_text(
        "".join(f'{key} = "{value}"\n' for key, value in hod_far_end_settings.items())
    )
    app = SignedWebhook.from_settings({"config_file": str(config)})
    app.post(json.dumps({"ping": True}).encode(), {})
    assert len(webhook_receiver.requests) == 1
    assert hod_far_end_settings["signing_secret"] not in repr(app) + repr(app.config)
