"""The referral lifecycle, rule by rule (L1-L11), on the in-memory store."""

from __future__ import annotations

from datetime import timedelta

import pytest
from attrs import evolve

from hod_core import wire
from hod_core.domain.disclosure import CONTACT_ERASED, MISSED_REFERRAL
from hod_core.domain.models import Agent
from hod_core.domain.referrals import OfferStatus, ReferralStatus
from hod_core.errors import (
    ConfigurationError,
    DeliveryFailed,
    InputError,
    LifecycleError,
    NotFound,
    OfferExpired,
    PolicyError,
)
from hod_core.extend.plugins import load_adapter
from hod_core.lifecycle.router import Router
from hod_core.rules.policy import default_policy_text, parse_policy
from hod_core.stores.memory.memory_store import MemoryStore
from hod_core.testing.plugin import FakeClock, Outbox

from .conftest import BASE_CONSUMER, MONDAY_10AM_HOUSTON, agent_data

# Agents nearest first from the consumer's ZIP 77002 (downtown Houston).
NEAR, MID, FAR = "101", "102", "103"
ZIPS = {NEAR: "77002", MID: "77030", FAR: "77005"}


@pytest.fixture
def clock():
    return FakeClock(MONDAY_10AM_HOUSTON)


@pytest.fixture
def outbox():
    return Outbox()


@pytest.fixture
def store():
    return MemoryStore()


@pytest.fixture
def router(store, clock, outbox):
    router = Router([store, clock, outbox], delivery_threads=0)
    for npn, zip_code in ZIPS.items():
        router.put_agent(agent_data(npn=npn, zip=zip_code))
    return router


def kinds(router, referral_id):
    return [e.kind for e in router.events(referral_id) if not e.kind.startswith("notify.")]


# -- L1 -----------------------------------------------------------------------
def test_l1_a_request_offers_to_the_nearest_agent_for_the_offer_window(router, clock):
    referral = router.request_contact(BASE_CONSUMER)
    offer = referral.pending_offer
    assert referral.status is ReferralStatus.OFFERED
    assert offer.npn == NEAR and offer.status is OfferStatus.PENDING
    assert offer.offered_at == clock.at and offer.expires_at == clock.at + timedelta(minutes=15)
    made = [e for e in router.events(referral.id) if e.kind == "offer.made"]
    assert [(e.npn, e.rule) for e in made] == [(NEAR, "L1")]


@pytest.mark.parametrize(
    "field, value",
    [("zip", "00000"), ("language", "xx"), ("phone", "555"), ("state", "ZZ"), ("email", "nope")],
)
def test_l1_bad_input_names_the_field_and_stores_nothing(router, store, field, value):
    before = router.events()
    with pytest.raises(InputError) as error:
        router.request_contact({**BASE_CONSUMER, field: value})
    assert field in str(error.value)
    assert router.events() == before
    assert (
        store.hod_store_waiting() == []
        and store.hod_store_offer_stats(npns=[NEAR])[NEAR].pending == 0
    )


# -- L2 -----------------------------------------------------------------------
def test_l2_every_channel_of_the_contact_method_and_no_consumer_data(router, outbox):
    router.put_agent(agent_data(npn=NEAR, zip="77002", contact_method="email_text"))
    referral = router.request_contact(BASE_CONSUMER)
    assert [(n.channel, n.to) for n in outbox.notices] == [
        ("email", "jane@example.com"),
        ("text", "+12222222222"),
    ]
    for notice in outbox.notices:
        text = repr(notice)
        for personal in ("Ana", "Ruiz", "+17135550100", "ana@example.com"):
            assert personal not in text
        assert notice.referral_id == referral.id and referral.id in notice.link
        assert notice.deadline == referral.pending_offer.expires_at
        assert notice.deadline_local.strftime("%H:%M %Z") == "10:15 CST"


# -- L3 -----------------------------------------------------------------------
def test_l3_accept_shows_contact_data_to_the_accepting_agent_only(router, clock):
    referral = router.request_contact(BASE_CONSUMER)
    router.reject(referral.id, NEAR)
    view = router.accept(referral.id, MID)
    assert (view.title, view.phone, view.email) == ("Ana Ruiz", "+17135550100", "ana@example.com")
    other = router.referral_for_agent(referral.id, NEAR)
    assert other.title == MISSED_REFERRAL and other.phone is other.email is other.zip is None
    with pytest.raises(NotFound):
        router.referral_for_agent(referral.id, FAR)


def test_l3_a_pending_offer_shows_no_contact_data(router):
    referral = router.request_contact(BASE_CONSUMER)
    view = router.referral_for_agent(referral.id, NEAR)
    assert view.status == "Pending" and view.phone is None and "Ana" not in repr(view)


def test_l3_accept_after_expiry_is_refused_and_the_offer_has_moved_on(router, clock):
    referral = router.request_contact(BASE_CONSUMER)
    clock.advance(minutes=15)
    with pytest.raises(OfferExpired) as refused:
        router.accept(referral.id, NEAR)
    assert refused.value.rule == "L3" and "expired" in str(refused.value)
    assert router.referral(referral.id).pending_offer.npn == MID


def test_l3_an_offer_is_answered_once(router):
    referral = router.request_contact(BASE_CONSUMER)
    router.accept(referral.id, NEAR)
    with pytest.raises(LifecycleError, match="already answered"):
        router.accept(referral.id, NEAR)
    with pytest.raises(LifecycleError):
        router.reject(referral.id, NEAR)


# -- L4, L5, E11 --------------------------------------------------------------
def test_l4_reject_offers_the_next_agent_at_once(router, clock):
    referral = router.request_contact(BASE_CONSUMER)
    router.reject(referral.id, NEAR)
    stored = router.referral(referral.id)
    assert [(o.npn, o.status) for o in stored.offers] == [
        (NEAR, OfferStatus.REJECTED),
        (MID, OfferStatus.PENDING),
    ]
    assert stored.pending_offer.offered_at == clock.at
    assert router.missed_alert(NEAR) is None  # no penalty


def test_l5_timeout_is_missed_and_moves_down_the_queue(router, clock):
    referral = router.request_contact(BASE_CONSUMER)
    clock.advance(minutes=14, seconds=59)
    assert router.tick().expired == 0
    clock.advance(seconds=1)
    assert router.tick().expired == 1
    stored = router.referral(referral.id)
    assert stored.offers[0].status is OfferStatus.MISSED
    assert stored.offers[0].answered_at == stored.offers[0].expires_at
    assert stored.pending_offer.npn == MID
    assert router.referral_for_agent(referral.id, NEAR).title == MISSED_REFERRAL


def test_e11_an_earlier_offeree_is_never_offered_again(router, clock):
    referral = router.request_contact(BASE_CONSUMER)
    router.reject(referral.id, NEAR)
    router.reject(referral.id, MID)
    clock.advance(minutes=15)
    router.tick()  # FAR missed it; NEAR is nearest and free, but already had a turn
    stored = router.referral(referral.id)
    assert [o.npn for o in stored.offers] == [NEAR, MID, FAR]
    assert stored.status is ReferralStatus.WAITING
    assert router.why(referral.id, NEAR)["first_failing"] == "E11"


def test_e12_an_agent_holding_an_offer_gets_no_second_until_answered(router):
    first = router.request_contact(BASE_CONSUMER)
    second = router.request_contact(BASE_CONSUMER)
    assert (first.pending_offer.npn, second.pending_offer.npn) == (NEAR, MID)
    assert router.why(second.id, NEAR)["first_failing"] == "E12"
    router.accept(first.id, NEAR)
    third = router.request_contact(BASE_CONSUMER)
    assert third.pending_offer.npn == NEAR


# -- L6 -----------------------------------------------------------------------
@pytest.fixture
def accepted(router):
    referral = router.request_contact(BASE_CONSUMER)
    router.accept(referral.id, NEAR)
    return referral.id


def test_l6_legal_moves(router, accepted):
    assert router.update_status(accepted, NEAR, "in_progress").status == "In Progress"
    view = router.update_status(accepted, NEAR, "not_a_good_referral", reason="wrong_contact_data")
    assert view.status == "Not a Good Referral"
    assert router.referral(accepted).reason.value == "wrong_contact_data"


@pytest.mark.parametrize(
    "moves",
    [
        ["completed", "in_progress"],  # final
        ["not_a_good_referral", "completed"],  # final
        ["in_progress", "in_progress"],
        ["accepted"],
        ["offered"],
    ],
)
def test_l6_illegal_moves_are_refused_and_change_nothing(router, accepted, moves):
    *legal, illegal = moves
    for status in legal:
        router.update_status(accepted, NEAR, status)
    before = router.referral(accepted)
    with pytest.raises(LifecycleError) as refused:
        router.update_status(accepted, NEAR, illegal)
    assert refused.value.rule == "L6"
    assert router.referral(accepted) == before


def test_l6_only_the_accepting_agent_moves_it(router, accepted):
    with pytest.raises(NotFound):
        router.update_status(accepted, MID, "completed")


def test_l6_bad_status_or_reason_is_an_input_error(router, accepted):
    with pytest.raises(InputError, match="referral status"):
        router.update_status(accepted, NEAR, "done")
    with pytest.raises(InputError, match="reason"):
        router.update_status(accepted, NEAR, "completed", reason="wrong_contact_data")


# -- L7 -----------------------------------------------------------------------
def test_l7_passing_the_contact_deadline_without_an_update_is_an_event(router, clock, accepted):
    clock.advance(minutes=29)
    assert router.tick().contact_overdue == 0
    clock.advance(minutes=1)
    assert router.tick().contact_overdue == 1
    overdue = [e for e in router.events(accepted) if e.kind == "referral.contact_overdue"]
    assert [(e.npn, e.rule, e.at) for e in overdue] == [(NEAR, "L7", clock.at)]
    clock.advance(hours=1)
    assert router.tick().contact_overdue == 0  # once


def test_l7_a_status_update_in_time_means_no_event(router, clock, accepted):
    clock.advance(minutes=10)
    router.update_status(accepted, NEAR, "in_progress")
    clock.advance(hours=1)
    router.tick()
    assert "referral.contact_overdue" not in kinds(router, accepted)


# -- L8 -----------------------------------------------------------------------
def test_l8_missed_alert_counts_the_lookback_window_only(router, clock):
    assert router.missed_alert(NEAR) is None
    for _ in range(2):
        router.request_contact(BASE_CONSUMER)
        clock.advance(minutes=15)
        router.tick()
        router.reject(router.agent_referrals(MID)[0].referral_id, MID)
    assert router.missed_alert(NEAR).startswith(
        "Alert! You have missed 2 referrals in the last 7 days."
    )
    assert "within 15 minutes" in router.missed_alert(NEAR)
    assert router.missed_alert(NEAR, "es").startswith("¡Alerta! Ha perdido 2 referidos")
    clock.advance(days=7, seconds=1)  # the second miss is now 7 days and a second old
    assert router.missed_alert(NEAR) is None


# -- L9 -----------------------------------------------------------------------
def miss_one(router, clock):
    router.request_contact(BASE_CONSUMER)
    clock.advance(minutes=15)
    router.tick()
    clock.advance(minutes=1)


def test_l9_consecutive_misses_suspend_and_reinstating_starts_over(store, clock):
    router = Router([store, clock, Outbox()], delivery_threads=0)
    router.put_agent(agent_data(npn=NEAR, zip="77002"))
    for _ in range(4):
        miss_one(router, clock)
        router.tick()  # the referral waits, then ends Unmatched: nobody else
    assert not router.matcher.agent(NEAR).suspended
    miss_one(router, clock)
    assert router.matcher.agent(NEAR).suspended
    suspended = [e for e in router.events() if e.kind == "agent.suspended"]
    assert [(e.npn, e.rule, e.detail["consecutive_missed"]) for e in suspended] == [(NEAR, "L9", 5)]
    referral = router.request_contact(BASE_CONSUMER)
    assert referral.status is ReferralStatus.WAITING
    assert router.why(referral.id, NEAR)["first_failing"] == "E3"
    router.reinstate(NEAR)  # the waiting referral goes to NEAR at once
    assert router.referral(referral.id).pending_offer.npn == NEAR
    clock.advance(minutes=15)
    router.tick()
    assert not router.matcher.agent(NEAR).suspended  # 1 miss since reinstatement


def test_l9_a_reject_breaks_the_streak(store, clock):
    router = Router([store, clock, Outbox()], delivery_threads=0)
    router.put_agent(agent_data(npn=NEAR, zip="77002"))
    for n in range(8):
        if n == 4:
            referral = router.request_contact(BASE_CONSUMER)
            router.reject(referral.id, NEAR)
        else:
            miss_one(router, clock)
    assert not router.matcher.agent(NEAR).suspended


# -- L10 ----------------------------------------------------------------------
def test_l10_waits_then_goes_to_the_first_agent_to_become_available(router, clock):
    clock.at = clock.at.replace(hour=6)  # 06:00 in Houston: before everyone's hours
    referral = router.request_contact(BASE_CONSUMER)
    assert referral.status is ReferralStatus.WAITING
    clock.advance(minutes=50)
    router.tick()
    router.put_agent(
        agent_data(
            npn="104",
            zip="77002",
            availability={
                "weekly": None,
                "today": {
                    "date": "2026-11-23",
                    "on": True,
                    "since": clock.at.isoformat(),
                    "until": (clock.at + timedelta(hours=2)).isoformat(),
                },
            },
        )
    )
    assert router.referral(referral.id).pending_offer.npn == "104"


def test_l10_waiting_referrals_are_offered_oldest_first(store, clock):
    router = Router([store, clock, Outbox()], delivery_threads=0)
    clock.at = clock.at.replace(hour=7, minute=30)
    older = router.request_contact(BASE_CONSUMER)
    clock.advance(minutes=5)
    newer = router.request_contact(BASE_CONSUMER)
    router.put_agent(agent_data(npn=NEAR, zip="77002"))  # default hours: from 08:00
    clock.at = clock.at.replace(hour=8, minute=0)
    assert router.tick().offered_from_waiting == 1
    assert router.referral(older.id).pending_offer.npn == NEAR
    assert router.referral(newer.id).status is ReferralStatus.WAITING  # E12: NEAR is busy


def test_l10_unmatched_after_max_wait(router, clock):
    clock.at = clock.at.replace(hour=6)
    referral = router.request_contact(BASE_CONSUMER)
    clock.advance(minutes=59)
    router.tick()
    assert router.referral(referral.id).status is ReferralStatus.WAITING
    clock.advance(minutes=1)
    assert router.tick().unmatched == 1
    assert router.referral(referral.id).status is ReferralStatus.UNMATCHED
    assert kinds(router, referral.id)[-1] == "referral.unmatched"


def test_l10_a_state_without_healthcare_gov_is_unmatched_at_once(router):
    referral = router.request_contact({**BASE_CONSUMER, "zip": "94103", "state": "CA"})
    assert referral.status is ReferralStatus.UNMATCHED
    unmatched = [e for e in router.events(referral.id) if e.kind == "referral.unmatched"]
    assert unmatched[0].detail["because"] == "E5"


# -- L11 and personal data ---------------------------------------------------------
def test_l11_events_are_ordered_and_carry_no_consumer_contact_data(router, clock, accepted):
    router.update_status(accepted, NEAR, "completed")
    events = router.events()
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    text = repr(events)
    for personal in ("Ana", "Ruiz", "+17135550100", "ana@example.com"):
        assert personal not in text
    assert {e.actor for e in events if e.kind in ("offer.accepted", "referral.status")} == {"agent"}


def test_display_option_2_hides_the_street_address_from_the_consumer(router, accepted):
    assert router.consumer_view(accepted)["agent"]["street_address"] == "1 Main St"
    router.put_agent(agent_data(npn=NEAR, zip="77002", display_option=2))
    card = router.consumer_view(accepted)["agent"]
    assert card["street_address"] is None and card["npn"] == NEAR


# -- start-up ---------------------------------------------------------------------
def test_plain_objects_serve_as_plugins_and_missing_hooks_fail_at_start(store, clock):
    with pytest.raises(ConfigurationError, match="no plugin implements hod_now"):
        Router([store, Outbox()], delivery_threads=0)
    with pytest.raises(ConfigurationError, match="hod_notify_text"):
        Router([store, clock], delivery_threads=0)
    Router(
        [store, clock], delivery_threads=0, channels=[]
    )  # a deployment that sends nothing, said so


def test_two_stores_or_a_misspelled_hook_fail_at_start(store, clock):
    with pytest.raises(ConfigurationError, match="more than one plugin"):
        Router([store, MemoryStore(), clock, Outbox()], delivery_threads=0)

    class Typo(Outbox):
        def hod_notify_emial(self, notice):
            pass

    with pytest.raises(ConfigurationError, match="hod_notify_emial"):
        Router([store, clock, Typo()], delivery_threads=0)


def test_an_agent_saved_in_another_router_reaches_this_one(store, clock, router):
    other = Router([store, clock, Outbox()], delivery_threads=0)
    other.put_agent(evolve(router.matcher.agent(NEAR), suspended=True))
    referral = router.request_contact(BASE_CONSUMER)
    assert referral.pending_offer.npn == MID  # this router synced the suspension


def test_an_answer_is_decided_on_what_another_router_changed(store, clock, router):
    """An answer starts from the version this router committed last; a
    change by another router since is found, and the answer decided on it."""
    other = Router([store, clock, Outbox()], delivery_threads=0)
    referral = router.request_contact(BASE_CONSUMER)
    other.reject(referral.id, NEAR)  # offered to MID, which this router has not seen
    assert router.accept(referral.id, MID).status == "Accepted"
    assert router.referral(referral.id).agent_npn == MID


def test_an_answer_to_an_offer_answered_elsewhere_is_refused(store, clock, router):
    other = Router([store, clock, Outbox()], delivery_threads=0)
    referral = router.request_contact(BASE_CONSUMER)
    other.accept(referral.id, NEAR)
    with pytest.raises(LifecycleError):
        router.reject(referral.id, NEAR)  # Pending in the version this router committed
    stored = router.referral(referral.id)
    assert (stored.status, stored.version) == (ReferralStatus.ACCEPTED, 2)


def test_a_bad_agent_record_names_the_field_and_stores_nothing(router, store):
    before = (router.events(), store.hod_store_agents(after=0))
    with pytest.raises(InputError, match="phone"):
        router.put_agent(agent_data(npn="999", phone="555"))
    with pytest.raises(InputError, match="languages"):
        router.put_agent(agent_data(npn="999", languages="en"))
    assert (router.events(), store.hod_store_agents(after=0)) == before
    assert "999" not in router.matcher


def test_adapters_are_found_by_entry_point_name():
    assert isinstance(load_adapter("store_memory"), MemoryStore)
    with pytest.raises(ConfigurationError, match="no adapter named 'store_nope'.*store_memory"):
        load_adapter("store_nope")


def test_l5_a_reject_after_expiry_is_refused_as_missed(router, clock):
    referral = router.request_contact(BASE_CONSUMER)
    clock.advance(minutes=20)
    with pytest.raises(OfferExpired) as refused:
        router.reject(referral.id, NEAR)
    assert refused.value.rule == "L5" and "window to answer it has closed" in str(refused.value)
    assert router.referral(referral.id).offer_to(NEAR).status is OfferStatus.MISSED


def test_one_router_shared_by_threads_keeps_every_rule(router, store, clock):
    """Requests, answers and agent saves from four threads at once."""
    import threading

    errors, ids = [], []

    def work(n):
        try:
            for i in range(30):
                referral = router.request_contact(BASE_CONSUMER)
                ids.append(referral.id)
                if referral.pending_offer is not None and i % 2:
                    router.accept(referral.id, referral.pending_offer.npn)
                elif referral.pending_offer is not None:
                    router.reject(referral.id, referral.pending_offer.npn)
                router.put_agent(agent_data(npn=f"9{n}{i % 3}", zip="77004"))
        except Exception as exc:  # noqa: BLE001 - collected and reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    for rid in ids:
        offers = router.referral(rid).offers
        assert len({o.npn for o in offers}) == len(offers)
    pending = store.hod_store_offer_stats(npns=[a.npn for a in router.matcher.agents()])
    assert all(stats.pending <= 1 for stats in pending.values())


# -- E12: capacity has one home, the store's commit ----------------------------------
class FilledElsewhere(MemoryStore):
    """A store whose agents another process fills between a match and its
    commit: offer stats say nobody holds an offer; the commit knows better."""

    def hod_store_offer_stats(self, npns):
        return {}


def test_e12_an_agent_the_store_finds_full_is_left_out_and_the_router_decides_again(clock):
    store = FilledElsewhere()
    router = Router([store, clock, Outbox()], delivery_threads=0)
    for npn, zip_code in ZIPS.items():
        router.put_agent(agent_data(npn=npn, zip=zip_code))
    first = router.request_contact(BASE_CONSUMER)
    second = router.request_contact(BASE_CONSUMER)  # the matcher offers NEAR; the store refuses
    third = router.request_contact(BASE_CONSUMER)
    assert [r.pending_offer.npn for r in (first, second, third)] == [NEAR, MID, FAR]
    assert router.request_contact(BASE_CONSUMER).status is ReferralStatus.WAITING


E12 = "agent.pending_offers < policy.max_pending_offers_per_agent"


@pytest.mark.parametrize(
    "old, new",
    [
        (E12, "agent.pending_offers < 2"),  # looser than the store's capacity
        (E12, "true"),  # no capacity at all
        ("!agent.suspended", "!agent.suspended && agent.pending_offers < 3"),  # a second one
    ],
)
def test_e12_a_rule_file_cannot_express_a_capacity_the_store_does_not_enforce(old, new):
    with pytest.raises(PolicyError) as refused:
        parse_policy(default_policy_text().replace(old, new), source="team.toml")
    assert "team.toml:" in str(refused.value) and "pending_offers" in str(refused.value)


def test_e12_the_capacity_condition_may_be_spelled_freely():
    text = default_policy_text().replace(E12, f"( {E12} )  // the store's capacity")
    text = text.replace("max_pending_offers_per_agent = 1", "max_pending_offers_per_agent = 3")
    assert parse_policy(text, source="team.toml").max_pending_offers_per_agent == 3


# -- store faults: nothing lost, nothing invented --------------------------------------
class RefusesAgents(MemoryStore):
    """A store whose agent writes fail, as a full disk or a read-only file would."""

    def hod_store_put_agent(self, agent, events):
        raise OSError(30, "Read-only file system")


def test_a_failed_agent_save_leaves_the_matcher_as_it_was(clock, outbox):
    store = RefusesAgents()
    router = Router([store, clock, outbox], delivery_threads=0)
    with pytest.raises(OSError):
        router.put_agent(agent_data(npn=NEAR, zip="77002"))
    assert NEAR not in router.matcher  # no agent only this process would offer to
    assert router.request_contact(BASE_CONSUMER).status is ReferralStatus.WAITING


def test_a_failed_update_keeps_the_agent_as_last_saved(clock, outbox):
    store = RefusesAgents()
    saved = wire.structure(agent_data(npn=NEAR, zip="77002"), Agent)
    MemoryStore.hod_store_put_agent(store, agent=saved, events=[])  # before the fault
    router = Router([store, clock, outbox], delivery_threads=0)
    with pytest.raises(OSError):
        router.put_agent(agent_data(npn=NEAR, zip="77030", suspended=True))
    assert router.matcher.agent(NEAR) == saved
    assert router.request_contact(BASE_CONSUMER).pending_offer.npn == NEAR


class Unreachable(Outbox):
    """Every channel down: no notice of any offer reaches the agent."""

    def _down(self, notice):
        raise DeliveryFailed("refused", transient=False)

    hod_notify_email = hod_notify_text = hod_notify_app = _down


def test_l9_misses_of_offers_never_delivered_do_not_suspend(store, clock):
    router = Router([store, clock, Unreachable()], delivery_threads=0)
    router.put_agent(agent_data(npn=NEAR, zip="77002"))
    for _ in range(6):
        miss_one(router, clock)
        router.tick()
    assert not router.matcher.agent(NEAR).suspended
    history = store.hod_store_agent_offers(npn=NEAR, since=None, limit=None)
    assert len(history) == 6 and not any(h.delivered for h in history)


# -- P2: personal-data retention -----------------------------------------------------------
def test_p2_the_sweep_erases_contact_data_retention_days_after_the_end(router, clock, accepted):
    router.update_status(accepted, NEAR, "completed")
    unmatched = router.request_contact({**BASE_CONSUMER, "state": "CA", "zip": "94103"})  # E5
    assert router.referral(unmatched.id).status is ReferralStatus.UNMATCHED
    clock.advance(days=90, seconds=-1)
    assert router.tick().contact_erased == 0
    clock.advance(seconds=1)
    assert router.tick().contact_erased == 2
    for referral_id in (accepted, unmatched.id):
        erased = router.referral(referral_id)
        assert erased.consumer is None and erased.language == "es"
        [event] = [e for e in router.events(referral_id) if e.kind == "referral.contact_erased"]
        assert (event.rule, event.at) == ("P2", clock.at)
    assert router.tick().contact_erased == 0  # once
    # Every view copes with an erased consumer.
    view = router.referral_for_agent(accepted, NEAR)
    assert view.title == CONTACT_ERASED and view.phone is view.email is view.zip is None
    assert view.status == "Referral Completed" and view.consumer_language == "es"
    assert [v.referral_id for v in router.agent_referrals(NEAR)] == [accepted]
    assert router.consumer_view(accepted)["agent"]["npn"] == NEAR
    with pytest.raises(LifecycleError) as refused:
        router.why(accepted, MID)  # nothing left to match on
    assert refused.value.rule == "P2"


def test_p2_a_referral_still_open_keeps_its_contact_data(router, clock, accepted):
    router.update_status(accepted, NEAR, "in_progress")
    clock.advance(days=400)
    assert router.tick().contact_erased == 0
    assert router.referral(accepted).consumer is not None


def test_p2_retention_comes_from_the_rule_file(store, clock, outbox):
    text = default_policy_text().replace(
        "contact_retention_days = 90", "contact_retention_days = 0"
    )
    router = Router(
        [store, clock, outbox], delivery_threads=0, policy=parse_policy(text, source="p.toml")
    )
    referral = router.request_contact({**BASE_CONSUMER, "state": "CA", "zip": "94103"})
    assert router.tick().contact_erased == 1 and router.referral(referral.id).consumer is None
