"""A store adapter keeps every contract of the store hooks (hookspecs.py)."""

from __future__ import annotations

import threading
from datetime import timedelta
from pathlib import Path

import pytest
from attrs import evolve

from hod_core.domain.referrals import Event, Offer, OfferStats, OfferStatus, ReferralStatus
from hod_core.extend.hookspecs import STORE_HOOKS, Commit
from hod_core.testing import samples
from hod_core.testing.samples import START

T0 = START


@pytest.fixture
def store(hod_adapter):
    missing = [name for name in STORE_HOOKS if not callable(getattr(hod_adapter, name, None))]
    if len(missing) == len(STORE_HOOKS):
        pytest.skip("not a store adapter")
    assert not missing, f"a store must implement every store hook; missing: {missing}"
    return hod_adapter


def commit(store, referral, expected, events=(), max_pending=1) -> Commit:
    """The store's answer, as a `Commit` (a store may answer with its value)."""
    answer = store.hod_store_commit(
        referral=referral, expected_version=expected, events=list(events), max_pending=max_pending
    )
    assert answer in {c.value for c in Commit}, f"hod_store_commit answered {answer!r}"
    return Commit(answer)


def written(*args, **kwargs) -> bool:
    return commit(*args, **kwargs) is Commit.WRITTEN


def event(kind, referral_id="r1", at=T0, **detail):
    return Event(at, kind, referral_id, detail=detail)


def all_events(store, referral_id=None):
    return store.hod_store_events(referral_id=referral_id, after=0, limit=10_000)


# -- referrals: compare-and-set ------------------------------------------------
def test_a_committed_referral_reads_back_equal(store):
    referral = samples.referral(offered_to="1")
    assert written(store, referral, 0, [event("referral.created")])
    assert store.hod_store_referral(referral_id="r1") == referral
    assert store.hod_store_referral(referral_id="nope") is None


def test_instants_come_back_as_the_same_aware_instants(store):
    assert written(store, samples.referral(offered_to="1"), 0)
    offer = store.hod_store_referral(referral_id="r1").offers[0]
    assert offer.offered_at == T0 and offer.offered_at.utcoffset() is not None
    assert offer.expires_at - offer.offered_at == timedelta(minutes=15)


def test_a_new_referral_cannot_be_created_twice(store):
    assert written(store, samples.referral(), 0)
    assert commit(store, samples.referral(), 0) is Commit.STALE


def test_a_commit_over_a_stale_version_writes_nothing(store):
    first = samples.referral(offered_to="1")
    assert written(store, first, 0, [event("referral.created")])
    missed = samples.answered(first, OfferStatus.MISSED, T0 + timedelta(minutes=15))
    rejected = samples.answered(first, OfferStatus.REJECTED, T0)
    assert written(store, missed, 1, [event("offer.missed")])
    assert commit(store, rejected, 1, [event("offer.rejected")]) is Commit.STALE
    assert store.hod_store_referral(referral_id="r1") == missed
    assert [e.kind for e in all_events(store)] == ["referral.created", "offer.missed"]


def test_of_many_threads_committing_over_one_version_exactly_one_wins(store):
    first = samples.referral(offered_to="1")
    assert written(store, first, 0)
    accepted = samples.answered(first, OfferStatus.ACCEPTED, T0)
    start, wins = threading.Barrier(8), []

    def race(n):
        start.wait()
        if written(store, accepted, 1, [event("offer.accepted", racer=n)]):
            wins.append(n)

    threads = [threading.Thread(target=race, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(wins) == 1
    assert [e.detail["racer"] for e in all_events(store)] == wins


# -- E12: capacity inside the commit -----------------------------------------------
def test_capacity_refuses_an_offer_to_an_agent_at_max_pending(store):
    assert written(store, samples.referral("r1", offered_to="7"), 0)
    assert store.hod_store_offer_stats(npns=["7"])["7"].pending == 1
    refused = commit(store, samples.referral("r2", offered_to="7"), 0, max_pending=1)
    assert refused is Commit.AT_CAPACITY
    assert store.hod_store_referral(referral_id="r2") is None
    assert written(store, samples.referral("r2", offered_to="7"), 0, max_pending=2)
    assert store.hod_store_offer_stats(npns=["7"])["7"].pending == 2


def test_a_re_offer_to_a_full_agent_is_refused_as_at_capacity_not_stale(store):
    assert written(store, samples.referral("r1", offered_to="7"), 0)
    second = samples.referral("r2", offered_to="8")
    assert written(store, second, 0)
    missed = samples.answered(second, OfferStatus.MISSED, T0 + timedelta(minutes=15))
    to_seven = evolve(
        missed,
        status=ReferralStatus.OFFERED,
        offers=(*missed.offers, Offer("7", T0, T0 + timedelta(minutes=15))),
    )
    assert commit(store, to_seven, 1) is Commit.AT_CAPACITY
    assert store.hod_store_referral(referral_id="r2") == second
    assert commit(store, to_seven, 2) is Commit.STALE  # a wrong version, whoever is full


def test_an_answered_offer_frees_capacity(store):
    first = samples.referral("r1", offered_to="7")
    assert written(store, first, 0)
    assert written(store, samples.answered(first, OfferStatus.REJECTED, T0), 1)
    assert store.hod_store_offer_stats(npns=["7"])["7"].pending == 0
    assert written(store, samples.referral("r2", offered_to="7"), 0)


def test_rewriting_a_referral_does_not_count_its_own_pending_offer(store):
    first = samples.referral("r1", offered_to="7")
    assert written(store, first, 0)
    assert written(store, evolve(first, version=2, wait_until=T0 + timedelta(hours=2)), 1)


# -- the sweep's queries ------------------------------------------------------------
def test_due_lists_what_is_due_by_now_earliest_first_up_to_limit(store):
    for n, minutes in enumerate([10, 0, 5, 30]):
        assert written(
            store,
            samples.referral(f"r{n}", offered_to=f"{n}", at=T0 + timedelta(minutes=minutes)),
            0,
        )
    accepted = samples.answered(
        store.hod_store_referral(referral_id="r1"), OfferStatus.ACCEPTED, T0
    )
    assert written(store, accepted, 1)  # no contact deadline: never due
    due = store.hod_store_due(now=T0 + timedelta(minutes=25), limit=10)
    assert due == ["r2", "r0"]  # expiring 16:20 and 16:25; r3 expires 16:45
    assert store.hod_store_due(now=T0 + timedelta(minutes=20), limit=10) == ["r2"]  # at == due
    assert store.hod_store_due(now=T0 + timedelta(hours=1), limit=1) == ["r2"]


def test_waiting_lists_waiting_referrals_oldest_first(store):
    for rid, minutes in [("late", 9), ("early", 1), ("offered", 0), ("mid", 5)]:
        offered_to = "1" if rid == "offered" else None
        referral = samples.referral(rid, offered_to=offered_to, at=T0 + timedelta(minutes=minutes))
        assert written(store, referral, 0)
    assert store.hod_store_waiting() == ["early", "mid", "late"]


def test_offers_are_indexed_by_agent(store):
    assert store.hod_store_offer_stats(npns=["7"]).get("7", OfferStats()) == OfferStats()
    assert store.hod_store_agent_offers(npn="7", since=None, limit=None) == []
    first = samples.referral("r1", offered_to="7", at=T0)
    assert written(store, first, 0)
    assert written(
        store, samples.answered(first, OfferStatus.MISSED, T0 + timedelta(minutes=15)), 1
    )
    assert written(store, samples.referral("r2", offered_to="7", at=T0 + timedelta(hours=1)), 0)
    both = store.hod_store_offer_stats(npns=["7", "8"])
    assert both["7"] == OfferStats(1, T0 + timedelta(hours=1))
    assert both.get("8", OfferStats()) == OfferStats()
    history = store.hod_store_agent_offers(npn="7", since=None, limit=None)
    assert [(h.referral_id, h.offer.status) for h in history] == [
        ("r2", OfferStatus.PENDING),
        ("r1", OfferStatus.MISSED),
    ]
    recent = store.hod_store_agent_offers(npn="7", since=T0 + timedelta(minutes=1), limit=None)
    assert [h.referral_id for h in recent] == ["r2"]
    newest = store.hod_store_agent_offers(npn="7", since=None, limit=1)
    assert [h.referral_id for h in newest] == ["r2"]


def test_offer_stats_of_many_agents_at_once_are_each_agents_own(store):
    """A match may ask about hundreds of agents in one call (a town's PO-box
    ZIPs): the answer is what asking about each alone gives."""
    offered = [str(7000 + n) for n in range(30)]
    for n, npn in enumerate(offered):
        at = T0 + timedelta(minutes=n)
        assert written(store, samples.referral(f"r{n}", offered_to=npn, at=at), 0)
    asked = [str(7000 + n) for n in range(-300, 400)]  # 700 agents, 30 of them offered one

    def of(stats, npns):
        return {npn: stats.get(npn, OfferStats()) for npn in npns}

    alone = {npn: of(store.hod_store_offer_stats(npns=[npn]), [npn])[npn] for npn in asked}
    assert of(store.hod_store_offer_stats(npns=asked), asked) == alone
    assert of(store.hod_store_offer_stats(npns=asked[295:307]), asked[295:307]) == {
        npn: alone[npn] for npn in asked[295:307]
    }
    assert alone[offered[3]] == OfferStats(1, T0 + timedelta(minutes=3))


def test_an_offer_is_delivered_once_a_sent_notice_of_it_is_recorded(store):
    """L9 counts only misses of offers whose notice reached the agent."""
    first = samples.referral("r1", offered_to="7")
    assert written(store, first, 0)

    def delivered(npn="7"):
        return [h.delivered for h in store.hod_store_agent_offers(npn=npn, since=None, limit=9)]

    def notice(kind, referral_id="r1", npn="7"):
        return Event(T0, kind, referral_id, npn, rule="L2", detail={"channel": "email"})

    assert delivered() == [False]
    store.hod_store_append_events(events=[notice("notify.failed"), notice("notify.sent", npn="8")])
    assert delivered() == [False]
    store.hod_store_append_events(events=[notice("notify.sent")])
    assert delivered() == [True]
    missed = samples.answered(first, OfferStatus.MISSED, T0 + timedelta(minutes=15))
    assert written(store, missed, 1)  # the offer rewritten: still delivered
    assert delivered() == [True]
    second = samples.referral("r2", offered_to="8")
    assert written(store, second, 0, [notice("notify.sent", "r2", "8")])  # carried by a commit
    assert delivered("8") == [True]


# -- P2: personal-data retention ------------------------------------------------------
def closed(rid: str, at, status=ReferralStatus.UNMATCHED):
    """A referral that ended at `at`, committed as version 1 (new)."""
    return evolve(samples.referral(rid, at=at), status=status, closed_at=at)


def test_erasable_lists_ended_referrals_holding_contact_data_earliest_first(store):
    for rid, hours in [("late", 3), ("early", 1), ("mid", 2)]:
        assert written(store, closed(rid, T0 + timedelta(hours=hours)), 0)
    assert written(store, samples.referral("open", offered_to="1", at=T0), 0)
    done = evolve(closed("done", T0), status=ReferralStatus.COMPLETED)
    assert written(store, done, 0)
    listed = store.hod_store_erasable(closed_before=T0 + timedelta(hours=2), limit=10)
    assert list(listed) == ["done", "early", "mid"]  # at == closed_before counts
    assert list(store.hod_store_erasable(closed_before=T0 + timedelta(hours=9), limit=2)) == [
        "done",
        "early",
    ]


def test_a_referral_committed_without_contact_data_is_not_listed_again(store):
    ended = closed("r1", T0)
    assert written(store, ended, 0)
    erased = evolve(ended, consumer=None, version=2)
    assert written(store, erased, 1, [event("referral.contact_erased")])
    assert list(store.hod_store_erasable(closed_before=T0 + timedelta(days=1), limit=10)) == []
    stored = store.hod_store_referral(referral_id="r1")
    assert stored == erased and stored.consumer is None and stored.language == "es"


def test_erased_contact_data_is_gone_from_every_file_the_store_keeps(store, hod_adapter_settings):
    """P2 "bytes included": after the scrub, no erased consumer's email
    appears in any file under the adapter's data_dir (its database, its
    write-ahead log, anything else it keeps there). Thirty referrals share
    pages and grow by an offer a commit, so records move and leave copies."""
    emails = [f"consumer{n:03d}@example.com" for n in range(30)]
    referrals = [
        evolve(closed(f"r{n:03d}", T0), consumer=evolve(samples.CONSUMER, email=email))
        for n, email in enumerate(emails)
    ]
    for referral in referrals:
        assert written(store, referral, 0, max_pending=99)
    for round_ in range(3):
        for n, old in enumerate(referrals):
            offer = Offer(f"{round_}{n}", T0, T0 + timedelta(minutes=15), OfferStatus.MISSED, T0)
            referrals[n] = evolve(old, offers=(*old.offers, offer), version=old.version + 1)
            assert written(store, referrals[n], old.version, max_pending=99)
    for old in referrals:
        assert written(store, evolve(old, consumer=None, version=old.version + 1), old.version)
    store.hod_store_scrub()
    assert all(store.hod_store_referral(referral_id=r.id).consumer is None for r in referrals)
    folder = Path(hod_adapter_settings["data_dir"])
    for path in (p for p in folder.rglob("*") if p.is_file()):
        data = path.read_bytes()
        left = [email for email in emails if email.encode() in data]
        assert not left, f"{len(left)} erased emails still in {path.name}"


# -- agents ---------------------------------------------------------------------
def test_agents_carry_growing_revisions_and_replace_by_npn(store):
    one = store.hod_store_put_agent(agent=samples.agent("1"), events=[])
    two = store.hod_store_put_agent(agent=samples.agent("2"), events=[])
    again = store.hod_store_put_agent(agent=samples.agent("1", suspended=True), events=[])
    assert one < two < again
    stored = dict((a.npn, (r, a)) for r, a in store.hod_store_agents(after=0))
    assert set(stored) == {"1", "2"} and stored["1"][1].suspended
    assert [a.npn for _, a in store.hod_store_agents(after=two)] == ["1"]


def test_agents_round_trip_every_field(store):
    agent = samples.agent("5", reinstated_at=T0, state_preferences=frozenset({"TX"}))
    store.hod_store_put_agent(agent=agent, events=[])
    assert [a for _, a in store.hod_store_agents(after=0)] == [agent]


# -- the audit trail --------------------------------------------------------------
def test_events_get_growing_seqs_and_filter_by_referral(store):
    assert written(store, samples.referral("r1"), 0, [event("referral.created", "r1")])
    assert written(store, samples.referral("r2"), 0, [event("referral.created", "r2")])
    store.hod_store_append_events(events=[event("notify.sent", "r1", channel="email")])
    store.hod_store_put_agent(agent=samples.agent("1"), events=[Event(T0, "agent.saved", npn="1")])
    events = all_events(store)
    assert [e.seq for e in events] == sorted({e.seq for e in events})
    assert [e.kind for e in events] == ["referral.created"] * 2 + ["notify.sent", "agent.saved"]
    mine = all_events(store, "r1")
    assert [e.kind for e in mine] == ["referral.created", "notify.sent"]
    assert mine[1].detail == {"channel": "email"} and mine[1].at == T0
    after = store.hod_store_events(referral_id=None, after=events[1].seq, limit=1)
    assert [e.kind for e in after] == ["notify.sent"]


def test_a_second_instance_sees_what_the_first_committed(store, hod_make_adapter):
    if getattr(store, "durable", True) is False:
        pytest.skip("the adapter says it keeps nothing beyond its own instance")
    assert written(store, samples.referral(offered_to="1"), 0, [event("referral.created")])
    other = hod_make_adapter()
    assert other.hod_store_referral(referral_id="r1") == store.hod_store_referral(referral_id="r1")
    assert [e.kind for e in all_events(other)] == ["referral.created"]
    assert other.hod_store_referral(referral_id="r1").status is ReferralStatus.OFFERED
