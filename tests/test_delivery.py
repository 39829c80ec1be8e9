"""The delivery policy (L2, R4): channels from the contact method, every attempt
recorded, transient failures retried on the clock, never at the offer's cost."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta

import pytest

from hod_core.domain.referrals import ReferralStatus
from hod_core.errors import DeliveryFailed
from hod_core.lifecycle.router import Router
from hod_core.rules.policy import default_policy_text, parse_policy
from hod_core.stores.memory.memory_store import MemoryStore
from hod_core.testing.plugin import FakeClock, Outbox

from .conftest import BASE_CONSUMER, MONDAY_10AM_HOUSTON, agent_data

NEAR, FAR = "101", "103"


class Flaky(Outbox):
    """An Outbox whose `channel` fails its first `failures` attempts with `error`."""

    def __init__(self, channel: str, error: Exception, failures: int = 10**6):
        super().__init__()
        self.channel, self.error, self.failures = channel, error, failures
        self.tries = 0

    def _take(self, notice):
        if notice.channel == self.channel and self.tries < self.failures:
            self.tries += 1
            raise self.error
        self.notices.append(notice)

    hod_notify_email = hod_notify_text = hod_notify_app = _take


@pytest.fixture
def clock():
    return FakeClock(MONDAY_10AM_HOUSTON)


def inline_router(clock, *plugins, policy=None, **kwargs):
    router = Router([MemoryStore(), clock, *plugins], delivery_threads=0, policy=policy, **kwargs)
    router.put_agent(agent_data(npn=NEAR, zip="77002"))
    router.put_agent(agent_data(npn=FAR, zip="77005"))
    return router


def attempts(router, referral_id, channel=None):
    return [
        e
        for e in router.events(referral_id)
        if e.kind.startswith("notify.") and channel in (None, e.detail["channel"])
    ]


def policy_with(**params):
    text = default_policy_text()
    for key, value in params.items():
        text = "\n".join(
            f"{key} = {value}" if line.startswith(f"{key} =") else line
            for line in text.splitlines()
        )
    return parse_policy(text, source="test policy")


# -- channels from the contact method ----------------------------------------------
@pytest.mark.parametrize(
    ("contact_method", "channels"),
    [
        ("email_text_app", ["email", "text", "app"]),
        ("email_text", ["email", "text"]),
        ("email_app", ["email", "app"]),
        ("email", ["email"]),
    ],
)
def test_l2_the_contact_method_chooses_the_channels(clock, contact_method, channels):
    outbox = Outbox()
    router = Router([MemoryStore(), clock, outbox], delivery_threads=0)
    router.put_agent(agent_data(npn=NEAR, zip="77002", contact_method=contact_method))
    referral = router.request_contact(BASE_CONSUMER)
    assert [n.channel for n in outbox.notices] == channels
    assert [e.detail["channel"] for e in attempts(router, referral.id)] == channels


def test_l2_a_channel_the_deployment_lacks_is_recorded_not_dropped(clock):
    router = inline_router(clock, Outbox(), channels=["email"])
    referral = router.request_contact(BASE_CONSUMER)
    skipped = [
        e.detail["channel"] for e in attempts(router, referral.id) if e.kind == "notify.skipped"
    ]
    assert skipped == ["text", "app"]


# -- failures: recorded, the others unharmed ---------------------------------------------
def test_l2_a_failing_channel_blocks_neither_the_others_nor_the_offer(clock):
    notifier = Flaky("text", ConnectionError("gateway down"))
    router = inline_router(clock, notifier)
    referral = router.request_contact(BASE_CONSUMER)
    assert [n.channel for n in notifier.notices] == ["email", "app"]
    outcomes = {e.detail["channel"]: e.kind for e in attempts(router, referral.id)}
    assert outcomes == {"email": "notify.sent", "text": "notify.failed", "app": "notify.sent"}
    [failed] = attempts(router, referral.id, "text")
    assert failed.at == clock.at and failed.rule == "L2"
    assert failed.detail["error"] == "ConnectionError"  # the type, never the message
    assert failed.detail["transient"] is True and failed.detail["attempt"] == 1
    offer = router.referral(referral.id).pending_offer
    assert offer.npn == NEAR and offer.expires_at == clock.at + timedelta(minutes=15)


def test_l2_a_sender_that_raises_does_not_keep_the_notice_from_another(clock):
    class Refusing:
        def hod_notify_email(self, notice):
            raise DeliveryFailed("mailbox unavailable", transient=False, code="550")

    backup = Outbox()
    router = Router([MemoryStore(), clock, Refusing(), backup], delivery_threads=0)
    router.put_agent(agent_data(npn=NEAR, zip="77002", contact_method="email"))
    referral = router.request_contact(BASE_CONSUMER)
    assert [n.channel for n in backup.notices] == ["email"]
    [outcome] = attempts(router, referral.id)
    assert outcome.kind == "notify.failed"
    assert outcome.detail == {
        "channel": "email",
        "attempt": 1,
        "error": "DeliveryFailed",
        "transient": False,
        "code": "550",
        "final": True,
    }


# -- retries --------------------------------------------------------------------------
def test_l2_a_transient_failure_is_retried_after_a_jittered_backoff(clock):
    notifier = Flaky("text", DeliveryFailed("503 from gateway", transient=True), failures=1)
    router = inline_router(clock, notifier)
    referral = router.request_contact(BASE_CONSUMER)
    [failed] = attempts(router, referral.id, "text")
    retry_at = datetime.fromisoformat(failed.detail["retry_at"])
    assert clock.at + timedelta(seconds=15) <= retry_at <= clock.at + timedelta(seconds=30)

    clock.at = retry_at - timedelta(microseconds=1)
    assert router.tick().notices_retried == 0  # not due yet
    clock.at = retry_at
    assert router.tick().notices_retried == 1
    text = attempts(router, referral.id, "text")
    assert [(e.kind, e.detail["attempt"], e.at) for e in text] == [
        ("notify.failed", 1, failed.at),
        ("notify.sent", 2, retry_at),
    ]
    # Only the failed channel is sent again.
    assert [n.channel for n in notifier.notices] == ["email", "app", "text"]
    assert notifier.notices[-1].attempt == 2 and notifier.notices[-1].sent_at == retry_at


def test_l2_retries_stop_at_the_rule_files_limit(clock):
    router = inline_router(
        clock, Flaky("app", TimeoutError()), policy=policy_with(notify_max_attempts=3)
    )
    referral = router.request_contact(BASE_CONSUMER)
    for _ in range(10):
        clock.advance(seconds=60)
        router.tick()
    app = attempts(router, referral.id, "app")
    assert [e.detail["attempt"] for e in app] == [1, 2, 3]
    assert all(e.kind == "notify.failed" for e in app)
    assert "retry_at" in app[1].detail and app[2].detail["final"] is True
    for before, after in zip(app, app[1:], strict=False):
        assert after.at >= datetime.fromisoformat(before.detail["retry_at"])


def test_l2_backoff_doubles_up_to_the_cap():
    from hod_core.notify.dispatch import RetryPolicy

    policy = RetryPolicy(6, timedelta(seconds=30), timedelta(seconds=100))

    class Top:  # the jitter's largest draw: the full backoff
        def random(self):
            return 1.0

    class Bottom:
        def random(self):
            return 0.0

    assert [policy.backoff(n, Top()).total_seconds() for n in range(1, 5)] == [30, 60, 100, 100]
    assert [policy.backoff(n, Bottom()).total_seconds() for n in range(1, 5)] == [15, 30, 50, 50]


def test_l2_a_permanent_failure_or_a_bug_is_not_retried(clock):
    for error in (DeliveryFailed("21211", transient=False), KeyError("bug")):
        router = inline_router(clock, Flaky("email", error))
        referral = router.request_contact(BASE_CONSUMER)
        [email] = attempts(router, referral.id, "email")
        assert email.detail["final"] is True and email.detail["transient"] is False
        assert router.dispatch.retries_pending() == 0
        router.accept(referral.id, NEAR)


def test_l2_the_far_ends_retry_after_is_respected(clock):
    busy = DeliveryFailed("too many requests", transient=True, code="20429", retry_after=200)
    router = inline_router(clock, Flaky("text", busy, failures=1))
    referral = router.request_contact(BASE_CONSUMER)
    [failed] = attempts(router, referral.id, "text")
    assert datetime.fromisoformat(failed.detail["retry_at"]) == clock.at + timedelta(seconds=200)


def test_l2_a_retry_never_outlives_the_offer_window(clock):
    policy = policy_with(
        notify_max_attempts=10, notify_retry_seconds=300, notify_retry_max_seconds=600
    )
    router = inline_router(clock, Flaky("text", ConnectionError()), policy=policy)
    referral = router.request_contact(BASE_CONSUMER)
    expires_at = router.referral(referral.id).pending_offer.expires_at
    for _ in range(20):
        clock.advance(minutes=1)
        router.tick()
    records = [e for e in attempts(router, referral.id, "text") if e.npn == NEAR]
    tried = [e for e in records if e.kind == "notify.failed"]
    # Backoffs of 150-300 s, then 300-600 s: a few attempts fit in 15 minutes, no more.
    assert len(tried) >= 2 and all(e.at < expires_at for e in tried)
    scheduled = [datetime.fromisoformat(e.detail["retry_at"]) for e in tried[:-1]]
    assert all(at < expires_at for at in scheduled)
    # The chain ends by itself (no retry fits) or with the retry due after expiry dropped.
    last = records[-1]
    assert last.detail.get("final") is True or last.detail["because"] == "offer missed"
    # The window itself did not move: the offer was missed exactly at expiry.
    first = router.referral(referral.id).offers[0]
    assert first.answered_at == expires_at == first.offered_at + timedelta(minutes=15)


def test_l2_a_retry_for_an_answered_offer_is_dropped_and_recorded(clock):
    notifier = Flaky("text", ConnectionError())
    router = inline_router(clock, notifier)
    referral = router.request_contact(BASE_CONSUMER)
    router.accept(referral.id, NEAR)
    clock.advance(minutes=1)
    assert router.tick().notices_retried == 0
    [*_, dropped] = attempts(router, referral.id, "text")
    assert dropped.kind == "notify.dropped"
    assert dropped.detail == {"channel": "text", "attempt": 2, "because": "offer accepted"}
    assert notifier.tries == 1


def test_l2_a_retry_after_reoffer_goes_to_nobody_else(clock):
    """The next agent gets its own notice; the missed agent's retry is dropped."""
    notifier = Flaky("app", ConnectionError(), failures=1)
    router = inline_router(clock, notifier)
    referral = router.request_contact(BASE_CONSUMER)
    router.reject(referral.id, NEAR)
    clock.advance(minutes=1)
    router.tick()
    app = [(e.npn, e.kind) for e in attempts(router, referral.id, "app")]
    assert app == [(NEAR, "notify.failed"), (FAR, "notify.sent"), (NEAR, "notify.dropped")]


# -- threads: a stalled channel holds up nobody ----------------------------------------------
def test_l2_a_stalled_channel_delays_neither_the_caller_nor_the_other_channels(clock):
    release, text_arrived = threading.Event(), threading.Event()

    class Stalled(Outbox):
        def hod_notify_email(self, notice):
            release.wait(timeout=30)  # an SMTP server that accepted and went quiet
            super().hod_notify_email(notice)

        def hod_notify_text(self, notice):
            super().hod_notify_text(notice)
            text_arrived.set()

    notifier = Stalled()
    router = Router([MemoryStore(), clock, notifier])  # worker threads, the default
    router.put_agent(agent_data(npn=NEAR, zip="77002"))
    referral = router.request_contact(BASE_CONSUMER)  # returns with email still stalled
    assert router.referral(referral.id).status is ReferralStatus.OFFERED
    assert text_arrived.wait(timeout=10)
    assert not router.drain(timeout=0.05)  # email is still under way
    release.set()
    assert router.drain(timeout=10)
    assert sorted(n.channel for n in notifier.notices) == ["app", "email", "text"]
    assert {e.detail["channel"] for e in attempts(router, referral.id)} == {"email", "text", "app"}
    router.close()


# -- R4 ---------------------------------------------------------------------------------
def test_r4_a_test_text_goes_to_agents_whose_contact_method_includes_text(clock):
    outbox = Outbox()
    router = Router([MemoryStore(), clock, outbox], delivery_threads=0)
    router.put_agent(agent_data(npn=NEAR, zip="77002", contact_method="email_text"))
    router.put_agent(agent_data(npn=FAR, zip="77005", contact_method="email_app"))
    assert router.send_registration_test(NEAR) is True
    assert router.send_registration_test(FAR) is False
    [notice] = outbox.notices
    assert (notice.kind, notice.channel, notice.to, notice.referral_id) == (
        "test",
        "text",
        "+12222222222",
        None,
    )
    [event] = [e for e in router.events() if e.kind.startswith("notify.")]
    assert (event.kind, event.rule, event.npn, event.detail["channel"]) == (
        "notify.sent",
        "R4",
        NEAR,
        "text",
    )


def test_l2_after_close_a_notice_still_goes_out_inline(clock):
    outbox = Outbox()
    router = Router([MemoryStore(), clock, outbox])
    router.put_agent(agent_data(npn=NEAR, zip="77002", contact_method="email"))
    router.close()
    referral = router.request_contact(BASE_CONSUMER)
    assert [n.referral_id for n in outbox.notices] == [referral.id]
    assert router.drain(timeout=1)


# -- store faults: outcomes are never lost ---------------------------------------------
class FailingWrites(MemoryStore):
    """A store whose next `fail` writes raise, as a full disk would."""

    def __init__(self):
        super().__init__()
        self.fail = 0

    def _fault(self):
        if self.fail:
            self.fail -= 1
            raise OSError(28, "No space left on device")

    def hod_store_commit(self, **kwargs):
        self._fault()
        return super().hod_store_commit(**kwargs)

    def hod_store_append_events(self, events):
        self._fault()
        return super().hod_store_append_events(events=events)


def stored_sent(store, referral_id):
    events = store.hod_store_events(referral_id=referral_id, after=0, limit=1000)
    return [e.detail["channel"] for e in events if e.kind == "notify.sent"]


def test_l2_outcomes_a_failed_commit_carried_ride_with_the_next_commit(clock):
    store = FailingWrites()
    router = Router([store, clock, Outbox()], delivery_threads=0)
    router.put_agent(agent_data(npn=NEAR, zip="77002"))
    first = router.request_contact(BASE_CONSUMER)  # its notices' outcomes wait to ride along
    assert stored_sent(store, first.id) == []
    store.fail = 1
    with pytest.raises(OSError):
        router.accept(first.id, NEAR)
    assert router.referral(first.id).status is ReferralStatus.OFFERED  # nothing written
    router.accept(first.id, NEAR)
    assert stored_sent(store, first.id) == ["email", "text", "app"]  # once each


def test_l2_outcomes_a_failed_flush_held_are_written_by_the_next_flush(clock):
    store = FailingWrites()
    router = Router([store, clock, Outbox()], delivery_threads=0)
    router.put_agent(agent_data(npn=NEAR, zip="77002"))
    referral = router.request_contact(BASE_CONSUMER)
    store.fail = 1
    with pytest.raises(OSError):
        router.flush()
    router.flush()
    assert stored_sent(store, referral.id) == ["email", "text", "app"]
