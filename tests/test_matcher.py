"""Ranking (section 3), queue scenarios, updates, and the index vs a naive scan."""

import random
from datetime import UTC, datetime, timedelta

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hod_core import wire
from hod_core.domain.models import Agent, Consumer
from hod_core.domain.referrals import OfferStats
from hod_core.errors import InputError
from hod_core.lifecycle.roster import StoreLedger
from hod_core.matching.match_facts import OfferSnapshot
from hod_core.matching.matcher import Matcher
from hod_core.testing.synthetic import Synthesizer

from .conftest import MONDAY_10AM_HOUSTON, make_agent, make_consumer, queue_npns


def test_nearest_agent_first_by_geodesic_distance(policy):
    near = make_agent(npn="3", zip="77030")  # Houston Medical Center, ~7 km
    middle = make_agent(npn="2", zip="77494")  # Katy, ~45 km
    far = make_agent(npn="1", zip="75201")  # Dallas, ~360 km
    result = Matcher(policy, [far, near, middle]).match(make_consumer(), MONDAY_10AM_HOUSTON)
    assert queue_npns(result) == ["3", "2", "1"]
    distances = [e.distance_km for e in result.queue]
    assert distances == sorted(distances)
    assert 350 < distances[-1] < 375


def test_ties_go_to_least_recently_offered_then_npn(policy):
    same_place = [make_agent(npn=n, zip="77030") for n in ("30", "4", "100")]
    matcher = Matcher(policy, same_place)
    assert queue_npns(matcher.match(make_consumer(), MONDAY_10AM_HOUSTON)) == ["4", "30", "100"]
    earlier = MONDAY_10AM_HOUSTON - timedelta(hours=3)
    ledger = OfferSnapshot(
        last_offered={"4": MONDAY_10AM_HOUSTON - timedelta(hours=1), "30": earlier}
    )
    # "100" was never offered one: it goes first; then the one offered longest ago.
    assert queue_npns(matcher.match(make_consumer(), MONDAY_10AM_HOUSTON, offers=ledger)) == [
        "100",
        "30",
        "4",
    ]


def test_scenario_queue_and_exclusions(policy):
    agents = [
        make_agent(npn="1", zip="77030"),
        make_agent(npn="2", zip="77002", languages=["en"]),  # E9 for a Spanish speaker
        make_agent(npn="3", zip="78701"),  # Austin
        make_agent(npn="4", zip="77002", suspended=True),  # E3
        make_agent(npn="5", zip="33101", home_state="FL", licensed=["FL"]),  # E6
        make_agent(npn="6", zip="77004", state_preferences=["LA"], licensed=["TX", "LA"]),  # E8
    ]
    result = Matcher(policy, agents).match(make_consumer(), MONDAY_10AM_HOUSTON, explain=True)
    assert queue_npns(result) == ["1", "3"]
    assert result.excluded == {"2": "E9", "4": "E3", "5": "E6", "6": "E8"}


def test_limit_keeps_the_nearest(policy):
    agents = [
        make_agent(npn=str(i), zip=z) for i, z in enumerate(["75201", "77030", "78701", "77494"])
    ]
    result = Matcher(policy, agents).match(
        make_consumer(), MONDAY_10AM_HOUSTON, limit=2, explain=True
    )
    assert queue_npns(result) == ["1", "3"]
    assert result.excluded == {}  # beyond the limit is not excluded
    with pytest.raises(InputError, match="limit"):
        Matcher(policy, agents).match(make_consumer(), MONDAY_10AM_HOUSTON, limit=0)


def test_agents_can_be_added_updated_and_removed(policy):
    matcher = Matcher(policy, [make_agent(npn="1", zip="75201")])
    consumer = make_consumer()
    assert queue_npns(matcher.match(consumer, MONDAY_10AM_HOUSTON)) == ["1"]
    matcher.add(make_agent(npn="2", zip="77030"))
    assert queue_npns(matcher.match(consumer, MONDAY_10AM_HOUSTON)) == ["2", "1"]
    matcher.update(make_agent(npn="2", zip="77030", languages=["en"]))
    assert queue_npns(matcher.match(consumer, MONDAY_10AM_HOUSTON)) == ["1"]
    matcher.update(make_agent(npn="1", zip="77002"))  # moved next door
    assert matcher.match(consumer, MONDAY_10AM_HOUSTON).queue[0].distance_km < 1
    matcher.remove("1")
    assert queue_npns(matcher.match(consumer, MONDAY_10AM_HOUSTON)) == []
    assert len(matcher) == 1 and "2" in matcher
    with pytest.raises(KeyError):
        matcher.remove("1")


def test_unlocated_or_unknown_zip_is_reported_never_placed(policy):
    with pytest.raises(InputError, match=r"zip: ZIP '09001' has no location"):
        Matcher(policy, [make_agent(zip="09001")])
    with pytest.raises(InputError, match=r"zip: unknown ZIP '00000'"):
        Matcher(policy, [make_agent()]).match(make_consumer(zip="00000"), MONDAY_10AM_HOUSTON)


@pytest.fixture(scope="module")
def synthetic_matcher(policy):
    synth = Synthesizer(seed=7)
    agents = [wire.structure(a, Agent) for a in synth.agents(3000)]
    return synth, Matcher(policy, agents)


@pytest.mark.parametrize("limit", [1, 5, None])
def test_indexed_search_agrees_with_naive_scan(synthetic_matcher, limit):
    synth, matcher = synthetic_matcher
    rng = random.Random(limit or 0)
    npns = [a.npn for a in matcher.agents()]
    for _ in range(60):
        consumer = wire.structure(synth.consumer(), Consumer)
        at = synth.instant()
        offered = rng.sample(npns, 50)
        ledger = OfferSnapshot(
            pending={n: 1 for n in rng.sample(npns, 200)},
            last_offered={
                n: at - timedelta(minutes=rng.randint(1, 999)) for n in rng.sample(npns, 500)
            },
        )
        fast = matcher.match(consumer, at, limit=limit, offered=offered, offers=ledger)
        naive = matcher.naive_match(consumer, at, limit=limit, offered=offered, offers=ledger)
        assert fast.queue == naive.queue


def test_explain_names_a_rule_for_every_agent_not_in_the_queue(synthetic_matcher):
    synth, matcher = synthetic_matcher
    consumer = wire.structure(synth.consumer(), Consumer)
    at = datetime(2026, 11, 24, 17, tzinfo=UTC)
    result = matcher.match(consumer, at, explain=True)
    in_queue = set(queue_npns(result))
    assert in_queue.isdisjoint(result.excluded)
    assert in_queue | set(result.excluded) == {a.npn for a in matcher.agents()}
    assert set(result.excluded.values()) <= {r.id for r in matcher.policy.rules}


# ZIPs around Houston, two pairs sharing a centroid (PO boxes share their town's),
# and a far one: ties and the search's distance bound get exercised.
NEARBY_ZIPS = [
    "77002",
    "77030",
    "77004",
    "77005",
    "77494",
    "77386",
    "78701",
    "75201",
    "70112",
    "77001",
]


@settings(max_examples=60, deadline=None)
@given(
    places=st.lists(st.sampled_from(NEARBY_ZIPS), min_size=1, max_size=12),
    limit=st.sampled_from([1, 2, 3, None]),
    offered_hours_ago=st.lists(st.none() | st.integers(1, 5), min_size=12, max_size=12),
    consumer_zip=st.sampled_from(NEARBY_ZIPS),
)
def test_ranking_matches_a_plain_sort_of_every_eligible_agent(
    policy, places, limit, offered_hours_ago, consumer_zip
):
    agents = [make_agent(npn=str(100 + i * 7 % 13), zip=z) for i, z in enumerate(places)]
    agents = list({a.npn: a for a in agents}.values())
    last = {
        a.npn: MONDAY_10AM_HOUSTON - timedelta(hours=h)
        for a, h in zip(agents, offered_hours_ago, strict=False)
        if h is not None
    }
    matcher = Matcher(policy, agents)
    consumer = make_consumer(zip=consumer_zip)
    result = matcher.match(
        consumer, MONDAY_10AM_HOUSTON, limit=limit, offers=OfferSnapshot(last_offered=last)
    )
    # The oracle: sort every agent by (distance, least recently offered, numeric NPN).
    expected = sorted(
        agents,
        key=lambda a: (
            matcher.why(a.npn, consumer, MONDAY_10AM_HOUSTON)["distance_km"],
            last[a.npn].timestamp() if a.npn in last else float("-inf"),
            int(a.npn),
        ),
    )
    assert queue_npns(result) == [a.npn for a in expected][:limit]


# -- the kept ring searches and the availability gate ------------------------

HOUSTON_ZIPS = ["77030", "77002", "77004", "77005", "77494", "77386", "77001"]


def test_kept_ring_searches_follow_adds_updates_and_removes(policy):
    matcher = Matcher(policy, [make_agent(npn="1", zip="77494")])  # Katy
    consumer = make_consumer()
    assert queue_npns(matcher.match(consumer, MONDAY_10AM_HOUSTON)) == ["1"]  # rings kept now
    matcher.add(make_agent(npn="2", zip="77030"))  # nearer
    assert queue_npns(matcher.match(consumer, MONDAY_10AM_HOUSTON, limit=2)) == ["2", "1"]
    matcher.update(make_agent(npn="1", zip="77002"))  # moved into the consumer's own ZIP
    first = matcher.match(consumer, MONDAY_10AM_HOUSTON).queue[0]
    assert first.npn == "1" and first.distance_km == 0.0
    matcher.remove("1")
    assert queue_npns(matcher.match(consumer, MONDAY_10AM_HOUSTON, limit=2)) == ["2"]
    again = matcher.match(consumer, MONDAY_10AM_HOUSTON)  # a kept ring, its distance kept too
    assert again.queue == matcher.naive_match(consumer, MONDAY_10AM_HOUSTON, limit=1).queue


@pytest.mark.parametrize("budget", [0, 3, 10_000])
def test_any_ring_budget_gives_the_naive_queue(policy, budget):
    rng = random.Random(budget)
    agents = [make_agent(npn=str(100 + i), zip=rng.choice(HOUSTON_ZIPS)) for i in range(30)]
    matcher = Matcher(policy, agents)
    matcher.ring_cache_points = budget  # 3: forgets all again and again; 0: keeps none
    for _ in range(3):
        for zip_code in HOUSTON_ZIPS:
            consumer = make_consumer(zip=zip_code)
            for limit in (1, 4):
                fast = matcher.match(consumer, MONDAY_10AM_HOUSTON, limit=limit)
                assert (
                    fast.queue
                    == matcher.naive_match(consumer, MONDAY_10AM_HOUSTON, limit=limit).queue
                )
    matcher.forget_rings()
    assert matcher.match(make_consumer(), MONDAY_10AM_HOUSTON, limit=30).queue == (
        matcher.naive_match(make_consumer(), MONDAY_10AM_HOUSTON, limit=30).queue
    )


def _hours(start: str, end: str) -> dict:
    return {"weekly": {d: [[start, end]] for d in ("mon", "tue", "wed", "thu", "fri")}}


def test_a_shared_schedule_is_asked_again_at_each_minute(policy):
    """One answer per (zone, schedule) per UTC minute (hours are whole minutes):
    shared by the matches of that minute, never carried to the next."""
    agents = [
        make_agent(npn="1", zip="77030", availability=_hours("09:00", "17:00")),
        make_agent(npn="2", zip="77030", availability=_hours("09:00", "17:00")),
        make_agent(npn="3", zip="77494", availability=_hours("17:00", "21:00")),
    ]
    matcher = Matcher(policy, agents)
    consumer = make_consumer()
    before = datetime.fromisoformat("2026-11-23T16:59:00-06:00")
    last_moment = datetime.fromisoformat("2026-11-23T16:59:59.999999-06:00")
    after = datetime.fromisoformat("2026-11-23T17:00:00-06:00")
    moments = (before, last_moment, after, last_moment, after + timedelta(seconds=59), before)
    for at in moments:
        expected = ["1", "2"] if at < after else ["3"]
        assert queue_npns(matcher.match(consumer, at, limit=3)) == expected, at
        assert queue_npns(matcher.naive_match(consumer, at, limit=3)) == expected


def test_gate_leaves_overrides_and_time_off_to_the_rules(policy):
    """Agents with an override or time off share a ZIP and hours with plain ones."""
    monday = "2026-11-23"
    agents = [
        make_agent(npn="1", zip="77030", availability=_hours("09:00", "17:00")),
        make_agent(  # A1: out of office all Monday
            npn="2",
            zip="77030",
            availability={
                **_hours("09:00", "17:00"),
                "out_of_office": [
                    {"from": f"{monday}T00:00:00-06:00", "to": "2026-11-24T00:00:00-06:00"}
                ],
            },
        ),
        make_agent(  # A2: on today though the weekly hours are closed
            npn="3",
            zip="77030",
            availability={
                **_hours("18:00", "19:00"),
                "today": {"date": monday, "on": True},
            },
        ),
    ]
    matcher = Matcher(policy, agents)
    consumer = make_consumer()
    assert queue_npns(matcher.match(consumer, MONDAY_10AM_HOUSTON, limit=3)) == ["1", "3"]
    evening = datetime.fromisoformat("2026-11-23T18:30:00-06:00")
    assert queue_npns(matcher.match(consumer, evening, limit=3)) == ["3"]
    tuesday = datetime.fromisoformat("2026-11-24T10:00:00-06:00")
    assert queue_npns(matcher.match(consumer, tuesday, limit=3)) == ["1", "2"]
    for at in (MONDAY_10AM_HOUSTON, evening, tuesday):
        assert matcher.match(consumer, at, limit=3).queue == (
            matcher.naive_match(consumer, at, limit=3).queue
        )


@pytest.mark.parametrize(
    ("instant", "expected"),
    [
        ("2026-03-08T07:59:00Z", []),  # 01:59 CST: before the hours
        ("2026-03-08T08:00:00Z", ["1"]),  # 03:00 CDT: 02:00-04:00 starts at the jump
        ("2026-03-08T08:59:00Z", ["1"]),  # 03:59 CDT
        ("2026-03-08T09:00:00Z", []),  # 04:00 CDT: ended
        ("2026-11-01T06:30:00Z", []),  # 01:30 CDT, the first 01:30
        ("2026-11-01T07:30:00Z", []),  # 01:30 CST, the second: still before 02:00
        ("2026-11-01T08:00:00Z", ["1"]),  # 02:00 CST: a day of 25 hours
        ("2026-11-01T09:59:00Z", ["1"]),  # 03:59 CST
        ("2026-11-01T10:00:00Z", []),  # 04:00 CST: ended
    ],
)
def test_shared_schedule_on_dst_change_days(policy, instant, expected):
    sunday_hours = {"weekly": {"sun": [["02:00", "04:00"]]}}
    matcher = Matcher(policy, [make_agent(npn="1", zip="77030", availability=sunday_hours)])
    at = datetime.fromisoformat(instant.replace("Z", "+00:00"))
    assert queue_npns(matcher.match(make_consumer(), at)) == expected
    assert (
        matcher.match(make_consumer(), at).queue
        == matcher.naive_match(make_consumer(), at, limit=1).queue
    )


class CountingLedger(OfferSnapshot):
    """An OfferSnapshot that counts the matcher's fetches, as a store's ledger would."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.prefetched: list[list[str]] = []

    def prefetch(self, npns: list[str]) -> None:
        self.prefetched.append(list(npns))


@pytest.mark.parametrize("seed", range(6))
def test_a_crowded_point_gives_the_naive_queue(policy, seed):
    """77201 and 77210 (PO boxes) share one point: their agents tie, the
    tie-break decides, and some of them fail E11 or E12."""
    rng = random.Random(seed)
    agents = [
        make_agent(npn=str(1000 + i), zip=rng.choice(["77201", "77210", "77002"]))
        for i in range(40)
    ]
    npns = [a.npn for a in agents]
    matcher = Matcher(policy, agents)
    consumer = make_consumer(zip="77201")
    for limit in (1, 3, None):
        ledger = CountingLedger(
            pending={n: 1 for n in rng.sample(npns, 10)},  # E12
            last_offered={
                n: MONDAY_10AM_HOUSTON - timedelta(minutes=rng.randint(1, 99))
                for n in rng.sample(npns, 15)
            },
        )
        offered = rng.sample(npns, 8)  # E11
        fast = matcher.match(
            consumer, MONDAY_10AM_HOUSTON, limit=limit, offered=offered, offers=ledger
        )
        naive = matcher.naive_match(
            consumer, MONDAY_10AM_HOUSTON, limit=limit, offered=offered, offers=ledger
        )
        assert fast.queue == naive.queue
        assert fast.queue and fast.queue[0].distance_km == 0.0
        assert ledger.prefetched  # each ZIP there fetched once, not agent by agent
        assert all(len(set(npns)) == len(npns) for npns in ledger.prefetched)


class AskedLedger(StoreLedger):
    """The router's ledger over a store that counts its reads, and records
    which agents' pending offers the rules asked for (E12)."""

    def __init__(self, full: set[str]):
        super().__init__(self._read)
        self.full, self.reads, self.asked = full, [], []

    def _read(self, npns: list[str]) -> dict[str, OfferStats]:
        self.reads.append(list(npns))
        return {npn: OfferStats(pending=1) for npn in npns if npn in self.full}

    def pending_offers(self, npn: str) -> int:
        self.asked.append(npn)
        return super().pending_offers(npn)


def test_one_read_serves_the_zip_groups_a_match_tests_next(policy):
    """E12's store reads: the first agent of a ring to reach E12 fetches for
    its ZIP group and the groups just beyond, which a queue of one goes on
    testing (distances within SPHERE_ERROR): fewer reads than ZIP groups
    asked, no agent read twice, and still the naive scan's queue."""
    synth = Synthesizer(seed=5)
    agents = [wire.structure(a, Agent) for a in synth.agents(3000)]
    matcher = Matcher(policy, agents)
    zip_of = {a.npn: a.zip for a in agents}
    full = {a.npn for a in agents[::7]}  # E12 fails some
    reads = groups = 0
    for _ in range(60):
        consumer = wire.structure(synth.consumer(), Consumer)
        for limit in (1, 3):
            ledger = AskedLedger(full)
            fast = matcher.match(consumer, MONDAY_10AM_HOUSTON, limit=limit, offers=ledger)
            naive = matcher.naive_match(
                consumer, MONDAY_10AM_HOUSTON, limit=limit, offers=AskedLedger(full)
            )
            assert fast.queue == naive.queue
            read = [npn for npns in ledger.reads for npn in npns]
            assert len(read) == len(set(read))  # nobody read twice in a match
            reads += len(ledger.reads)
            groups += len({zip_of[npn] for npn in ledger.asked})
    assert 0 < reads < groups  # one read per group asked, before


def test_built_buckets_take_adds_updates_and_removes_like_a_fresh_matcher(policy):
    """Once built, a bucket alone holds its members; an agent joining or
    leaving brings them back first: the queues stay a fresh matcher's."""
    synth = Synthesizer(seed=11)
    agents = [wire.structure(a, Agent) for a in synth.agents(1500)]
    matcher = Matcher(policy, agents[:1200])
    matcher.warm()
    rng = random.Random(11)
    for agent in agents[1200:1350]:
        matcher.add(agent)
    for agent in rng.sample(agents[:1200], 100):
        matcher.remove(agent.npn)
    for agent in rng.sample(matcher.agents(), 100):  # moved, licensed elsewhere
        other = rng.choice(agents[1350:])
        matcher.update(attrs.evolve(agent, zip=other.zip, licenses=other.licenses))
    fresh = Matcher(policy, matcher.agents())
    for _ in range(80):
        consumer, at = wire.structure(synth.consumer(), Consumer), synth.instant()
        for limit in (1, 10):
            queue = matcher.match(consumer, at, limit=limit).queue
            assert queue == fresh.match(consumer, at, limit=limit).queue
            assert queue == matcher.naive_match(consumer, at, limit=limit).queue
