"""A notifier adapter delivers offer notices, and nothing of the consumer's."""

from __future__ import annotations

import pytest

from ..hookspecs import CHANNEL_HOOKS
from ..memory_store import MemoryStore
from ..router import Router
from . import samples


@pytest.fixture
def channels(hod_adapter):
    found = [c for c, hook in CHANNEL_HOOKS.items() if callable(getattr(hod_adapter, hook, None))]
    if not found:
        pytest.skip("not a notifier adapter")
    return found


@pytest.fixture
def inbox(request):
    try:
        return request.getfixturevalue("hod_notify_inbox")
    except pytest.FixtureLookupError:
        pytest.fail(
            "a notifier adapter's conftest must provide `hod_notify_inbox`: a callable "
            "returning the messages its far end received, as text",
            pytrace=False,
        )


def test_an_offer_reaches_the_far_end_without_consumer_contact_data(
    hod_adapter, channels, inbox, fake_clock
):
    router = Router([MemoryStore(), fake_clock, hod_adapter], channels=channels)
    router.put_agent(samples.agent("1", "77002"))
    referral = router.request_contact(samples.CONSUMER)
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
