"""A store adapter keeps every contract of the listing hooks (hookspecs.py,
"listings for operators"): referrals newest first, by status, page by page;
events of some kinds, newest first."""

from __future__ import annotations

from datetime import timedelta

import pytest
from attrs import evolve

from hod_core.domain.referrals import Event, OfferStatus, ReferralStatus
from hod_core.extend.hookspecs import LISTING_STORE_HOOKS, STORE_HOOKS
from hod_core.testing import samples
from hod_core.testing.samples import START


@pytest.fixture
def store(hod_adapter):
    if not any(callable(getattr(hod_adapter, name, None)) for name in STORE_HOOKS):
        pytest.skip("not a store adapter")
    missing = [n for n in LISTING_STORE_HOOKS if not callable(getattr(hod_adapter, n, None))]
    assert not missing, f"a store must implement every listing hook; missing: {missing}"
    return hod_adapter


def _commit(store, referral, expected=0, events=()):
    assert store.hod_store_commit(
        referral=referral, expected_version=expected, events=list(events), max_pending=1
    )


def _five(store):
    """r0..r4 created a minute apart; r1 and r3 Unmatched, the others Waiting."""
    for i in range(5):
        referral = samples.referral(f"r{i}", at=START + timedelta(minutes=i))
        if i % 2:
            referral = evolve(referral, status=ReferralStatus.UNMATCHED)
        _commit(store, referral)


def ids(referrals):
    return [r.id for r in referrals]


def test_referrals_come_newest_first_and_whole(store):
    _five(store)
    listed = store.hod_store_referrals(status=None, before=None, limit=10)
    assert ids(listed) == ["r4", "r3", "r2", "r1", "r0"]
    assert listed[0] == store.hod_store_referral(referral_id="r4")


def test_referrals_of_one_status(store):
    _five(store)
    assert ids(store.hod_store_referrals(status="unmatched", before=None, limit=10)) == ["r3", "r1"]
    assert ids(store.hod_store_referrals(status="waiting", before=None, limit=10)) == [
        "r4",
        "r2",
        "r0",
    ]
    assert store.hod_store_referrals(status="completed", before=None, limit=10) == []


def test_referrals_page_after_the_last_one_seen(store):
    _five(store)
    first = store.hod_store_referrals(status=None, before=None, limit=2)
    second = store.hod_store_referrals(status=None, before=first[-1].id, limit=2)
    third = store.hod_store_referrals(status=None, before=second[-1].id, limit=2)
    assert (ids(first), ids(second), ids(third)) == (["r4", "r3"], ["r2", "r1"], ["r0"])
    waiting = store.hod_store_referrals(status="waiting", before="r3", limit=10)
    assert ids(waiting) == ["r2", "r0"]


def test_an_unknown_cursor_lists_nothing(store):
    _five(store)
    assert store.hod_store_referrals(status=None, before="nope", limit=10) == []


def test_a_status_change_moves_a_referral_between_lists(store):
    offered = samples.referral("r1", offered_to="1")
    _commit(store, offered)
    assert ids(store.hod_store_referrals(status="offered", before=None, limit=5)) == ["r1"]
    _commit(store, samples.answered(offered, OfferStatus.ACCEPTED, START), expected=1)
    assert store.hod_store_referrals(status="offered", before=None, limit=5) == []
    assert ids(store.hod_store_referrals(status="accepted", before=None, limit=5)) == ["r1"]


def test_every_status_pages_newest_first_ties_by_id(store):
    """Each status's list, and the list of all, page after page, are the
    referrals sorted newest first, ties in creation broken by id (a store
    may read each status through a different index)."""
    made = []
    for i in range(9):
        at = START + timedelta(minutes=i // 2)  # two referrals created per minute
        referral = samples.referral(f"r{i}", offered_to=str(i) if i % 3 else None, at=at)
        _commit(store, referral)
        if i % 3 == 2:  # offered, then accepted, with a contact deadline or past it
            referral = samples.answered(referral, OfferStatus.ACCEPTED, at)
            if i % 2:
                referral = evolve(referral, contact_deadline=at + timedelta(minutes=30))
            _commit(store, referral, expected=1)
        made.append(referral)
    assert {r.due_at is None for r in made if r.status is ReferralStatus.ACCEPTED} == {True, False}
    newest_first = sorted(made, key=lambda r: (r.created_at, r.id), reverse=True)
    for status in (None, "offered", "waiting", "accepted"):
        expected = [r.id for r in newest_first if status in (None, r.status.value)]
        assert expected, status
        pages, before = [], None
        for _ in range(len(made)):  # a cursor that never moves on fails, not hangs
            page = store.hod_store_referrals(status=status, before=before, limit=2)
            if not page:
                break
            pages += ids(page)
            before = page[-1].id
        assert pages == expected, status


def test_events_of_some_kinds_newest_first(store):
    kinds = ["notify.sent", "notify.failed", "notify.sent", "offer.made", "notify.failed"]
    store.hod_store_append_events(
        events=[Event(START, kind, "r1", detail={"n": i}) for i, kind in enumerate(kinds)]
    )
    failed = store.hod_store_events_of_kind(kinds=["notify.failed"], before=None, limit=10)
    assert [e.detail["n"] for e in failed] == [4, 1]
    assert all(e.seq is not None for e in failed)
    both = store.hod_store_events_of_kind(
        kinds=["notify.failed", "offer.made"], before=None, limit=2
    )
    assert [e.detail["n"] for e in both] == [4, 3]
    older = store.hod_store_events_of_kind(
        kinds=["notify.failed", "offer.made"], before=both[-1].seq, limit=10
    )
    assert [e.detail["n"] for e in older] == [1]
    assert store.hod_store_events_of_kind(kinds=["nothing"], before=None, limit=10) == []
