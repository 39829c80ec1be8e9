"""The webhook adapter against a loopback receiver that verifies signatures with
the very code the README gives receivers (-p hod_notify_webhook.testing)."""

from __future__ import annotations

import json
import re
import ssl
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import trustme

from hod_core.conformance import samples
from hod_core.errors import ConfigurationError, DeliveryFailed
from hod_core.memory_store import MemoryStore
from hod_core.router import Router
from hod_core.testing import FakeClock, Outbox
from hod_notify_webhook import SignedWebhook
from hod_notify_webhook.receiver import Receiver

README = Path(__file__).parents[1] / "README.md"
LINK = "https://hod.example.org/r/"


@pytest.fixture(scope="module")
def readme():
    """The README's receiver code, run as written."""
    section = README.read_text().split("## Verifying", 1)[1]
    code = re.search(r"```python\n(.*?)```", section, re.DOTALL).group(1)
    namespace: dict = {}
    exec(compile(code, str(README), "exec"), namespace)
    return namespace


@pytest.fixture
def clock():
    return FakeClock(datetime.fromisoformat("2026-11-23T10:00:00-06:00"))


@pytest.fixture
def app(hod_far_end_settings):
    return SignedWebhook.from_settings(hod_far_end_settings)


def app_router(app, clock):
    router = Router([MemoryStore(), clock, app, Outbox()], delivery_threads=0, link_base=LINK)
    router.put_agent(samples.agent("1", "77002"))
    return router


def app_attempts(router, referral_id):
    return [
        e
        for e in router.events(referral_id)
        if e.kind.startswith("notify.") and e.detail["channel"] == "app"
    ]


def test_a_receiver_verifies_the_offer_with_the_readme_code(
    app, webhook_receiver, webhook_secret, clock, readme
):
    router = app_router(app, clock)
    referral = router.request_contact(samples.CONSUMER)
    [(headers, body)] = webhook_receiver.requests
    event = readme["verify_hod_webhook"](
        webhook_secret, body, headers["X-HOD-Signature"], now=clock.at.timestamp()
    )
    assert headers["Content-Type"] == "application/json"
    assert headers["X-HOD-Event-Id"] == event["id"] == f"offer.{referral.id}.1"
    assert event["type"] == "referral.offered" and event["attempt"] == 1
    assert event["data"] == {
        "npn": "1",
        "agent_first_name": "Jane",
        "language": "en",
        "referral_id": referral.id,
        "link": LINK + referral.id,
        "deadline": "2026-11-23T16:15:00+00:00",
        "deadline_local": "2026-11-23T10:15:00-06:00",
        "consumer_state": "TX",
        "consumer_language": "es",
    }
    for personal in ("Ruiz", "+17135550100", "ana@example.com", "77002"):
        assert personal not in body.decode()


def test_the_readme_code_refuses_a_tampered_body_a_wrong_secret_and_a_replay(
    app, webhook_receiver, webhook_secret, clock, readme
):
    app_router(app, clock).request_contact(samples.CONSUMER)
    [(headers, body)] = webhook_receiver.requests
    verify, bad = readme["verify_hod_webhook"], readme["BadSignature"]
    signature, now = headers["X-HOD-Signature"], clock.at.timestamp()
    with pytest.raises(bad, match="does not match"):
        verify(webhook_secret, body.replace(b'"TX"', b'"FL"'), signature, now=now)
    with pytest.raises(bad, match="does not match"):
        verify("another-secret-of-enough-length", body, signature, now=now)
    verify(webhook_secret, body, signature, now=now + 300)  # inside the window
    with pytest.raises(bad, match="replay window"):
        verify(webhook_secret, body, signature, now=now + 301)  # replayed later
    with pytest.raises(bad, match="malformed"):
        verify(webhook_secret, body, "v1=" + signature.split("v1=")[1], now=now)


def test_a_retry_is_the_same_event_signed_afresh(
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
    events = [
        readme["verify_hod_webhook"](
            webhook_secret, body, headers["X-HOD-Signature"], now=clock.at.timestamp()
        )
        for headers, body in (first, second)
    ]
    assert events[0]["id"] == events[1]["id"] and [e["attempt"] for e in events] == [1, 2]
    assert first[0]["X-HOD-Signature"] != second[0]["X-HOD-Signature"]
    assert [e.kind for e in app_attempts(router, referral.id)] == ["notify.failed", "notify.sent"]


@pytest.mark.parametrize(
    ("status", "transient"), [(400, False), (401, False), (410, False), (408, True), (502, True)]
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


@pytest.mark.parametrize(
    ("changes", "named"),
    [({"url": "ftp://x"}, "url"), ({"signing_secret": "short"}, "signing_secret")],
)
def test_a_bad_setting_is_refused_by_name(hod_far_end_settings, changes, named):
    with pytest.raises(ConfigurationError, match=named):
        SignedWebhook.from_settings({**hod_far_end_settings, **changes})


def test_settings_from_a_config_file(hod_far_end_settings, tmp_path, webhook_receiver):
    config = tmp_path / "webhook.toml"
    config.write_text(
        "".join(f'{key} = "{value}"\n' for key, value in hod_far_end_settings.items())
    )
    app = SignedWebhook.from_settings({"config_file": str(config)})
    app.post(json.dumps({"ping": True}).encode(), {})
    assert len(webhook_receiver.requests) == 1
    assert hod_far_end_settings["signing_secret"] not in repr(app) + repr(app.config)
