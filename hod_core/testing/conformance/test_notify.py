"""A notifier adapter delivers notices, says when it could not, and keeps secrets.

A notifier's conftest provides:

- `hod_notify_inbox`: a callable returning, as text, every message its far
  end (a loopback server) received so far;
- `hod_notify_unreachable_settings`: settings that point the adapter at a far
  end that is down (a loopback port nobody listens on).

Settings whose names say password, token, secret or key are secrets: their
values must appear in no log line, no repr and no delivery record.
"""

from __future__ import annotations

import logging
import re

import pytest

from hod_core.domain.channels import BASE, SEPARATOR, contact_method_channels
from hod_core.domain.channels import channels as registered_channels
from hod_core.domain.referrals import ReferralStatus
from hod_core.extend.plugins import load_adapter
from hod_core.lifecycle.router import Router
from hod_core.stores.memory.memory_store import MemoryStore
from hod_core.testing import samples

SECRET_NAME = re.compile(r"password|token|secret|key", re.IGNORECASE)


@pytest.fixture
def channels(hod_adapter):
    found = [c.name for c in registered_channels() if callable(getattr(hod_adapter, c.hook, None))]
    if not found:
        pytest.skip("not a notifier adapter")
    return found


def _adapter_fixture(request, name: str, what: str):
    try:
        return request.getfixturevalue(name)
    except pytest.FixtureLookupError:
        pytest.fail(f"a notifier adapter's conftest must provide `{name}`: {what}", pytrace=False)


@pytest.fixture
def inbox(request):
    return _adapter_fixture(
        request,
        "hod_notify_inbox",
        "a callable returning the messages its far end received, as text",
    )


@pytest.fixture
def unreachable_settings(request):
    return _adapter_fixture(
        request,
        "hod_notify_unreachable_settings",
        "settings pointing the adapter at a far end that is down",
    )


def secrets_of(settings) -> list[str]:
    return [str(v) for k, v in settings.items() if SECRET_NAME.search(k) and v]


def serve(adapter, clock, channels) -> Router:
    """A router sending on `channels` only, to an agent who chose all of them."""
    router = Router([MemoryStore(), clock, adapter], channels=channels)
    router.put_agent(samples.agent("1", "77002", contact_method=contact_method_of(channels)))
    return router


def contact_method_of(channels) -> str:
    """The contact method naming `channels` (and email, which every one names)."""
    names = [c.name for c in registered_channels() if c.name == BASE or c.name in channels]
    value = SEPARATOR.join(names)
    assert contact_method_channels(value), value
    return value


def test_an_offer_reaches_the_far_end_without_consumer_contact_data(
    hod_adapter, channels, inbox, fake_clock
):
    router = serve(hod_adapter, fake_clock, channels)
    referral = router.request_contact(samples.CONSUMER)
    assert router.drain(timeout=30), "a notice to a healthy far end still under way after 30 s"
    received = inbox()
    assert received, "nothing reached the far end"
    for message in received:
        assert referral.id in message
        for personal in (
            samples.CONSUMER.phone,
            samples.CONSUMER.email,
            samples.CONSUMER.last_name,
        ):
            assert personal not in message
    sent = [e for e in router.events(referral.id) if e.kind == "notify.sent"]
    assert {e.detail["channel"] for e in sent} == set(channels)


def test_a_far_end_that_is_down_is_a_transient_failure_and_costs_no_referral(
    channels, hod_adapter_name, hod_adapter_settings, unreachable_settings, fake_clock, caplog
):
    settings = {**hod_adapter_settings, **unreachable_settings}
    adapter = load_adapter(hod_adapter_name, settings)
    router = serve(adapter, fake_clock, channels)
    with caplog.at_level(logging.DEBUG):
        referral = router.request_contact(samples.CONSUMER)
        assert router.drain(timeout=60), "a refused connection should fail fast"
    failed = [e for e in router.events(referral.id) if e.kind == "notify.failed"]
    assert {e.detail["channel"] for e in failed} == set(channels)
    assert all(e.detail["transient"] and "retry_at" in e.detail for e in failed)
    assert router.referral(referral.id).status is ReferralStatus.OFFERED
    for secret in secrets_of(settings):
        assert secret not in caplog.text
        assert secret not in repr(adapter)
        assert all(secret not in str(e.detail) for e in failed)
    router.close()


def test_secrets_never_reach_a_log_or_a_repr(
    hod_adapter, hod_adapter_settings, channels, fake_clock, caplog
):
    with caplog.at_level(logging.DEBUG):
        router = serve(hod_adapter, fake_clock, channels)
        router.request_contact(samples.CONSUMER)
        router.close()
    for secret in secrets_of(hod_adapter_settings):
        assert secret not in caplog.text
        assert secret not in repr(hod_adapter)


def test_r4_the_registration_test_text_reaches_the_far_end(
    hod_adapter, channels, inbox, fake_clock
):
    tested = {c.name for c in registered_channels() if c.registration_test}
    if not tested & set(channels):
        pytest.skip("no channel of the adapter sends a test message on registration (R4)")
    router = serve(hod_adapter, fake_clock, channels)
    assert router.send_registration_test("1") is True
    router.close()
    [event] = [e for e in router.events() if e.rule == "R4"]
    assert event.kind == "notify.sent"
    assert inbox(), "the test text did not reach the far end"
