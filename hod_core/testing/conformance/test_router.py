"""A store adapter serves a real router through a referral's whole life."""

from __future__ import annotations

import pytest

from hod_core.domain.channels import channels as registered_channels
from hod_core.domain.referrals import OfferStatus, ReferralStatus
from hod_core.errors import OfferExpired
from hod_core.lifecycle.router import Router
from hod_core.rules.policy import default_policy_text, parse_policy
from hod_core.stores.memory.memory_store import MemoryStore
from hod_core.testing import samples


@pytest.fixture
def plugins(hod_adapter, fake_clock, outbox):
    is_store = callable(getattr(hod_adapter, "hod_store_commit", None))
    plugins = [hod_adapter] if is_store else [MemoryStore(), hod_adapter]
    if not all(callable(getattr(hod_adapter, c.hook, None)) for c in registered_channels()):
        plugins.append(outbox)  # a sender for the channels the adapter does not serve
    return [*plugins, fake_clock]


def serve(plugins, **options) -> Router:
    """A router with three agents, nearest first from the sample consumer: 1, 2, 3."""
    router = Router(plugins, **options)
    for npn, zip_code in [("1", "77002"), ("2", "77030"), ("3", "77005")]:
        router.put_agent(samples.agent(npn, zip_code))
    return router


@pytest.fixture
def router(plugins):
    return serve(plugins)


def test_offer_reject_timeout_accept_and_statuses(router, fake_clock):
    referral = router.request_contact(samples.CONSUMER)
    assert referral.pending_offer.npn == "1"  # nearest: same ZIP
    router.reject(referral.id, "1")
    fake_clock.advance(minutes=15)
    assert router.tick().expired == 1
    with pytest.raises(OfferExpired):
        router.accept(referral.id, "2")
    view = router.accept(referral.id, "3")
    assert view.phone == samples.CONSUMER.phone
    router.update_status(referral.id, "3", "in_progress")
    router.update_status(referral.id, "3", "completed")
    stored = router.referral(referral.id)
    assert stored.status is ReferralStatus.COMPLETED
    assert [o.status for o in stored.offers] == [
        OfferStatus.REJECTED,
        OfferStatus.MISSED,
        OfferStatus.ACCEPTED,
    ]
    kinds = [e.kind for e in router.events(referral.id) if not e.kind.startswith("notify.")]
    assert kinds == [
        "referral.created",
        "offer.made",
        "offer.rejected",
        "offer.made",
        "offer.missed",
        "offer.made",
        "offer.accepted",
        "referral.status",
        "referral.status",
    ]


def test_a_restarted_router_catches_up_on_expired_offers(
    hod_adapter, hod_make_adapter, fake_clock, outbox, router
):
    if not callable(getattr(hod_adapter, "hod_store_commit", None)):
        pytest.skip("not a store adapter")
    if getattr(hod_adapter, "durable", True) is False:
        pytest.skip("the adapter keeps nothing beyond its own instance")
    referral = router.request_contact(samples.CONSUMER)
    fake_clock.advance(hours=2)
    restarted = Router([hod_make_adapter(), fake_clock, outbox])
    assert restarted.tick().expired == 1
    stored = restarted.referral(referral.id)
    assert stored.offers[0].status is OfferStatus.MISSED
    assert stored.offers[0].answered_at == referral.offers[0].expires_at
    assert stored.pending_offer.offered_at == fake_clock.at


def test_e12_a_capacity_of_two_end_to_end(plugins):
    """The rule file's capacity is the store's: two Pending offers each."""
    text = default_policy_text().replace(
        "max_pending_offers_per_agent = 1", "max_pending_offers_per_agent = 2"
    )
    router = serve(plugins, policy=parse_policy(text, source="capacity-2.toml"))
    first, second, third = (router.request_contact(samples.CONSUMER) for _ in range(3))
    assert [r.pending_offer.npn for r in (first, second, third)] == ["1", "1", "2"]
    assert router.why(third.id, "1")["first_failing"] == "E12"
    router.reject(first.id, "1")  # 1 is down to one Pending offer; 2 holds two now
    assert router.referral(first.id).pending_offer.npn == "2"
    fourth = router.request_contact(samples.CONSUMER)
    assert fourth.pending_offer.npn == "1"
    fifth = router.request_contact(samples.CONSUMER)
    assert fifth.pending_offer.npn == "3"  # 1 and 2 are full
    router.accept(second.id, "1")
    assert router.request_contact(samples.CONSUMER).pending_offer.npn == "1"
