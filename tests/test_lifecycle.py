"""The lifecycle's decisions on plain records: no store, no matcher, no clock."""

from __future__ import annotations

from datetime import timedelta

import attrs
import pytest
from attrs import evolve

from hod_core.domain import referrals
from hod_core.domain.referrals import AgentOffer, Offer, OfferStatus, ReferralStatus
from hod_core.errors import LifecycleError, NotFound, OfferExpired, PolicyError
from hod_core.lifecycle import decisions
from hod_core.lifecycle.decisions import NOBODY, Change, Head
from hod_core.rules.policy import default_policy_text, load_policy, parse_policy

from .conftest import MONDAY_10AM_HOUSTON, make_agent, make_consumer

NOW = MONDAY_10AM_HOUSTON
POLICY = load_policy()  # offer window 15 min, max wait 60, contact deadline 30
FIRST = Head("101", 1.5)


def new(at=NOW):
    return decisions.opened("r1", make_consumer(), "TX", at, POLICY)


def offered(npn="101", at=NOW):
    """Stored, with a Pending offer to `npn` made at `at`."""
    decision = decisions.create(new(at), at, Head(npn, 2.0), POLICY)
    return evolve(decision.referral, version=1)


def kinds(decision):
    return [(e.kind, e.rule) for e in decision.events]


# -- L1, L10: placing ------------------------------------------------------------
def test_l1_create_offers_to_the_head_for_the_offer_window():
    decision = decisions.create(new(), NOW, FIRST, POLICY)
    assert decision.change is Change.OFFERED
    assert decision.referral.status is ReferralStatus.OFFERED
    assert decision.referral.pending_offer == Offer("101", NOW, NOW + timedelta(minutes=15))
    assert kinds(decision) == [("referral.created", "L1"), ("offer.made", "L1")]
    assert decision.events[1].detail["distance_km"] == 1.5


def test_a_decision_is_frozen():
    decision = decisions.create(new(), NOW, FIRST, POLICY)
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        decision.change = Change.WAITING


def test_l10_nobody_eligible_waits_and_says_so_once():
    decision = decisions.create(new(), NOW, NOBODY, POLICY)
    assert (decision.change, decision.referral.status) == (Change.WAITING, ReferralStatus.WAITING)
    assert kinds(decision)[-1] == ("referral.waiting", "L10")
    stored = evolve(decision.referral, version=1)
    again = decisions.place(stored, NOW + timedelta(minutes=5), NOBODY, POLICY)
    assert again.change is Change.WAITING and again.events == ()


def test_l10_unmatched_at_once_when_nobody_could_ever_match():
    decision = decisions.create(new(), NOW, Head(impossible="E5"), POLICY)
    assert decision.change is Change.UNMATCHED and decision.referral.final
    assert decision.events[-1].detail == {"because": "E5", "offers": 0}


def test_l10_unmatched_once_the_wait_is_over():
    waiting = evolve(decisions.create(new(), NOW, NOBODY, POLICY).referral, version=1)
    hour = NOW + timedelta(minutes=60)
    assert decisions.settle(waiting, hour - timedelta(seconds=1), NOBODY, POLICY) is None
    decision = decisions.settle(waiting, hour, NOBODY, POLICY)
    assert decision.change is Change.UNMATCHED
    assert decision.events[-1].detail["because"] == "max_wait"


def test_l10_a_waiting_referral_is_offered_when_someone_turns_up():
    waiting = evolve(decisions.create(new(), NOW, NOBODY, POLICY).referral, version=1)
    decision = decisions.place(waiting, NOW + timedelta(minutes=3), FIRST, POLICY)
    assert decision.change is Change.OFFERED and kinds(decision) == [("offer.made", "L1")]


# -- L5, L7: the sweep -------------------------------------------------------------
def test_l5_a_closed_window_is_missed_at_its_expiry_and_placed_again():
    stored = offered()
    late = NOW + timedelta(minutes=40)  # the sweep came late
    assert decisions.needs_queue(stored) and not decisions.is_due(stored, NOW)
    assert decisions.is_due(stored, NOW + timedelta(minutes=15))
    decision = decisions.settle(stored, late, Head("102", 3.0), POLICY)
    missed, second = decision.referral.offers
    assert decision.change is Change.EXPIRED
    assert (missed.status, missed.answered_at) == (OfferStatus.MISSED, missed.expires_at)
    assert (second.npn, second.offered_at) == ("102", late)  # a full window from now
    assert kinds(decision) == [("offer.missed", "L5"), ("offer.made", "L1")]


def test_l7_a_passed_contact_deadline_is_an_event_once():
    accepted = evolve(decisions.accept(offered(), "101", NOW, POLICY).referral, version=2)
    assert not decisions.needs_queue(accepted)
    deadline = NOW + timedelta(minutes=30)
    assert decisions.settle(accepted, deadline - timedelta(seconds=1), None, POLICY) is None
    decision = decisions.settle(accepted, deadline, None, POLICY)
    assert decision.change is Change.CONTACT_OVERDUE
    assert kinds(decision) == [("referral.contact_overdue", "L7")]
    assert decision.referral.due_at is None  # so never again


# -- L3, L4: answers ----------------------------------------------------------------
def test_l3_accept_starts_the_contact_clock():
    decision = decisions.accept(offered(), "101", NOW + timedelta(minutes=5), POLICY)
    referral = decision.referral
    assert decision.change is Change.ACCEPTED
    assert (referral.status, referral.agent_npn) == (ReferralStatus.ACCEPTED, "101")
    assert referral.contact_deadline == NOW + timedelta(minutes=35)
    assert decision.events[0].actor == "agent"


@pytest.mark.parametrize(
    "answer, rule",
    [(lambda r, at: decisions.accept(r, "101", at, POLICY), "L3")]
    + [(lambda r, at: decisions.reject(r, "101", at, FIRST, POLICY), "L5")],
)
def test_an_answer_at_the_expiry_is_too_late(answer, rule):
    with pytest.raises(OfferExpired) as refused:
        answer(offered(), NOW + timedelta(minutes=15))
    assert refused.value.rule == rule


def test_an_offer_is_answered_once_and_only_by_its_agent():
    accepted = decisions.accept(offered(), "101", NOW, POLICY).referral
    with pytest.raises(LifecycleError, match="already answered") as again:
        decisions.reject(accepted, "101", NOW, FIRST, POLICY)
    assert again.value.rule == "L3"
    with pytest.raises(NotFound):
        decisions.accept(offered(), "999", NOW, POLICY)


def test_l4_reject_goes_to_the_next_head_at_once():
    decision = decisions.reject(offered(), "101", NOW, Head("102", 3.0), POLICY)
    assert decision.change is Change.REJECTED
    assert [(o.npn, o.status) for o in decision.referral.offers] == [
        ("101", OfferStatus.REJECTED),
        ("102", OfferStatus.PENDING),
    ]
    assert kinds(decision) == [("offer.rejected", "L4"), ("offer.made", "L1")]


# -- L6 -------------------------------------------------------------------------------
def test_l6_only_the_accepting_agent_and_only_the_listed_moves():
    accepted = decisions.accept(offered(), "101", NOW, POLICY).referral
    moved = decisions.move(accepted, "101", ReferralStatus.COMPLETED, None, NOW)
    assert moved.change is Change.MOVED and moved.referral.final
    assert moved.events[0].detail == {"from": "accepted", "to": "completed"}
    with pytest.raises(NotFound):
        decisions.move(accepted, "102", ReferralStatus.COMPLETED, None, NOW)
    with pytest.raises(LifecycleError) as refused:
        decisions.move(moved.referral, "101", ReferralStatus.IN_PROGRESS, None, NOW)
    assert refused.value.rule == "L6"


# -- L8, L9 ---------------------------------------------------------------------------
def history(*statuses, delivered=True):
    """An agent's offers, newest first, one a minute apart."""
    return [
        AgentOffer(
            f"r{n}",
            Offer("101", NOW - timedelta(minutes=n), NOW, status, NOW - timedelta(minutes=n)),
            delivered,
        )
        for n, status in enumerate(statuses)
    ]


M, P, R = OfferStatus.MISSED, OfferStatus.PENDING, OfferStatus.REJECTED


def test_l9_the_run_of_misses_skips_pending_offers_and_ends_at_an_answer():
    assert decisions.missed_run(history(M, P, M, M)) == (3, False)
    assert decisions.missed_run(history(M, M, R, M)) == (2, True)
    assert decisions.missed_run(history(P, P)) == (0, False)


def test_l9_a_miss_the_agent_was_never_told_of_does_not_count():
    undelivered = history(M, M, delivered=False)
    told = history(M, M, M, R)
    assert decisions.missed_run([told[0], *undelivered, *told[1:]]) == (3, True)


def test_l9_the_threshold_suspends_once():
    agent = make_agent(npn="101")
    assert decisions.suspension(agent, 4, NOW, POLICY) is None
    suspended, event = decisions.suspension(agent, 5, NOW, POLICY)
    assert suspended.suspended and (event.kind, event.rule) == ("agent.suspended", "L9")
    assert event.detail == {"consecutive_missed": 5} and event.npn == "101"
    assert decisions.suspension(suspended, 6, NOW, POLICY) is None


def test_l8_misses_are_counted_from_since_inclusive():
    offers = history(OfferStatus.MISSED, OfferStatus.MISSED, OfferStatus.REJECTED)
    assert decisions.missed_since(offers, NOW - timedelta(minutes=1)) == 2
    assert decisions.missed_since(offers, NOW) == 1


def test_l2_a_retry_is_wanted_only_for_a_pending_offer_inside_its_window():
    stored = offered()
    assert decisions.retry_unwanted(stored, "101", NOW) is None
    assert decisions.retry_unwanted(stored, "101", NOW + timedelta(minutes=15)) == "offer expired"
    assert decisions.retry_unwanted(stored, "102", NOW) == "no such offer"
    rejected = decisions.reject(stored, "101", NOW, NOBODY, POLICY).referral
    assert decisions.retry_unwanted(rejected, "101", NOW) == "offer rejected"


# -- P2: retention ----------------------------------------------------------------------
def completed(at=NOW):
    accepted = evolve(decisions.accept(offered(), "101", at, POLICY).referral, version=2)
    return evolve(
        decisions.move(accepted, "101", ReferralStatus.COMPLETED, None, at).referral, version=3
    )


def test_p2_a_referral_records_when_it_ended():
    assert completed().closed_at == NOW
    unmatched = decisions.create(new(), NOW, Head(impossible="E5"), POLICY).referral
    assert unmatched.closed_at == NOW
    accepted = decisions.accept(offered(), "101", NOW, POLICY).referral
    moved = decisions.move(accepted, "101", ReferralStatus.IN_PROGRESS, None, NOW).referral
    assert accepted.closed_at is moved.closed_at is None


def test_p2_contact_data_is_erased_retention_days_after_the_end_and_statistics_stay():
    referral = completed()
    day_90 = NOW + timedelta(days=90)
    assert decisions.erase(referral, day_90 - timedelta(seconds=1), POLICY) is None
    decision = decisions.erase(referral, day_90, POLICY)
    erased = decision.referral
    assert decision.change is Change.ERASED and erased.consumer is None
    assert (erased.state, erased.language, erased.status) == ("TX", "es", ReferralStatus.COMPLETED)
    assert (erased.offers, erased.created_at, erased.closed_at) == (
        referral.offers,
        referral.created_at,
        referral.closed_at,
    )
    assert kinds(decision) == [("referral.contact_erased", "P2")]
    assert decision.events[0].detail == {"closed_at": NOW.isoformat(), "retention_days": 90}
    for personal in ("Ruiz", "+17135550100", "ana@example.com", "77002"):
        assert personal not in repr(decision)
    assert decisions.erase(erased, day_90, POLICY) is None  # once


def test_p2_a_referral_still_running_keeps_its_contact_data():
    long_after = NOW + timedelta(days=400)
    assert decisions.erase(offered(), long_after, POLICY) is None
    assert (
        decisions.erase(
            decisions.accept(offered(), "101", NOW, POLICY).referral, long_after, POLICY
        )
        is None
    )


def test_p2_retention_is_an_optional_rule_file_parameter_of_whole_days():
    assert POLICY.contact_retention == timedelta(days=90)
    text = default_policy_text()
    without = "\n".join(line for line in text.splitlines() if "contact_retention_days" not in line)
    assert parse_policy(without, source="older.toml").contact_retention == timedelta(days=90)
    with pytest.raises(PolicyError, match=r"p.toml:\d+: policy.contact_retention_days: must be"):
        parse_policy(
            text.replace("contact_retention_days = 90", "contact_retention_days = -1"),
            source="p.toml",
        )


def test_the_records_copy_is_attrs_evolve_to_the_letter():
    """`referrals.evolve` (compiled per class, for speed) gives what attrs'
    gives, defaults and factories included, and refuses an unknown field alike."""
    referral = offered()
    for changes in ({}, {"version": 7}, {"consumer": None, "language": "es"}, {"agent_npn": None}):
        assert referrals.evolve(referral, **changes) == evolve(referral, **changes)
    offer = referral.offers[-1]
    assert referrals.evolve(offer, status=OfferStatus.MISSED) == evolve(
        offer, status=OfferStatus.MISSED
    )
    with pytest.raises(TypeError, match="no field"):
        referrals.evolve(referral, colour="red")


def test_an_offer_and_an_accept_are_decided_at_the_next_version():
    placed = decisions.create(new(), NOW, Head("101", 1.0), POLICY).referral
    assert placed.version == 1
    assert decisions.next_version(placed, 0) is placed  # no second copy
    accepted = decisions.accept(evolve(placed, version=4), "101", NOW, POLICY).referral
    assert accepted.version == 5
    assert decisions.next_version(accepted, 2).version == 3  # stamped over what was read
