"""The matcher: who may receive this consumer's referral now, nearest first.

The rule file is compiled once (see `rules.compile`). Agents are placed in
buckets keyed by the consumer fields the key terms name, by default
(state, language): an agent licensed for health in TX and FL who speaks en
and es sits in four buckets (see `placement`). Agents failing an agent-only
rule sit in none.

A match takes the consumer's bucket and walks it outward from the
consumer's ZIP centroid, ring by ring through a spatial index, testing only
the per-moment rules (availability, open offers, this referral) on the agents
it meets, until `limit` agents are found and nobody unseen can be nearer.
"""

from __future__ import annotations

import bisect
import itertools
import math
from array import array
from collections.abc import Iterable
from datetime import date, datetime
from operator import itemgetter
from types import MappingProxyType

from hod_core.domain.models import Agent, Consumer, MatchResult, QueueEntry
from hod_core.errors import InputError
from hod_core.geo.distance import SPHERE_ERROR, geodesic_km
from hod_core.geo.index import FULL_EARTH_KM, dot_at
from hod_core.matching import verdicts
from hod_core.matching.agent_records import AgentRecord
from hod_core.matching.availability import ScheduleBook
from hod_core.matching.buckets import SIFT_FROM, Bucket, sieve, sifted
from hod_core.matching.match_facts import ConsumerFacts, OfferLedger, Query
from hod_core.matching.placement import ANY, Placement, covers
from hod_core.matching.ranking import tie_break
from hod_core.rules.compile import all_of
from hod_core.rules.policy import Policy, load_policy
from hod_core.rules.vocabulary import FACTS
from hod_core.wire.bulk import gc_paused

FIRST_RING_KM = 10.0  # for one agent; a longer queue starts wider, sparse places widen
RING_CACHE_POINTS = 400_000  # ZIP groups in the ring searches kept: 24 bytes each, ~10 MB
RING_CACHE_LARGEST = 128  # rings holding more ZIP groups than this are not kept
_UNKNOWN_KM = array("d", [-1.0])
IN_BUCKET = MappingProxyType({})  # a key's members, in its bucket only: see Matcher._bucket
_AVAILABLE = FACTS["agent.available"].getter  # the compiled form of a bare `agent.available`


class Matcher:
    """Agents in, ordered queues out. Add, update and remove agents at any time."""

    def __init__(self, policy: Policy | None = None, agents: Iterable[Agent] = ()):
        self.policy = policy or load_policy()
        self._schedules = ScheduleBook(self.policy.default_hours)
        self._records: dict[str, AgentRecord] = {}
        rules = self.policy.rules
        self._placement = Placement(rules)  # an agent -> its bucket keys
        self._consumer_key = self._placement.consumer_key
        self._consumer_check = all_of([r.consumer for r in rules])
        self._dynamic = all_of([r.dynamic for r in rules])
        # A rule whose whole per-moment part is `agent.available` (E10) makes
        # availability necessary: a closed shared schedule rules its agents out
        # before the dynamic closure runs (which then decides for the rest).
        self._gated = any(r.dynamic is _AVAILABLE for r in rules)
        # ... and for an agent whose shared schedule is open, the rest decides.
        self._dynamic_rest = all_of([r.dynamic for r in rules if r.dynamic is not _AVAILABLE])
        self._ring_points = 0  # ZIP groups in the kept ring searches, across buckets
        self.ring_cache_points = RING_CACHE_POINTS  # 0: keep none (measures a cold search)
        # key -> agent -> the day its placement lapses (records hash by identity: fast);
        # IN_BUCKET once the key's bucket holds exactly these (see `_bucket`)
        self._members: dict[tuple, dict[AgentRecord, date | None]] = {}
        self._buckets: dict[tuple, Bucket | None] = {}  # built, per consumer key
        self._tie_break = tie_break(self.policy.ranking)
        self._opens_memo: tuple[int | None, dict] = (None, {})  # see _opens_at
        self.revision = 0  # counts adds and removes: views built from records know when to rebuild
        self.add_many(agents)

    # -- agents -----------------------------------------------------------
    def __len__(self) -> int:
        return len(self._records)

    def __contains__(self, npn: str) -> bool:
        return npn in self._records

    def agent(self, npn: str) -> Agent:
        return self._records[npn].agent

    def agents(self) -> list[Agent]:
        return [r.agent for r in self._records.values()]

    def records(self) -> list[AgentRecord]:
        """Every agent as placed (located, zoned): for views such as the directory."""
        return list(self._records.values())

    def zone(self, npn: str) -> str:
        """The agent's IANA time zone: given, or derived from the ZIP."""
        return self._records[npn].zone

    def add(self, agent: Agent) -> None:
        """Add an agent, or replace the one with the same NPN."""
        self.add_many((agent,))

    update = add

    def add_many(self, agents: Iterable[Agent]) -> None:
        """Add (or replace) many agents: a bulk load, with the cyclic GC paused.

        Loading allocates millions of long-lived objects; letting the garbage
        collector rescan them all, again and again, costs a third of the time.
        """
        policy, book, records, members = self.policy, self._schedules, self._records, self._members
        placements_of = self._placement
        with gc_paused():
            for agent in agents:
                record = AgentRecord(agent, policy, book)
                npn = agent.npn
                if npn in records:
                    self.remove(npn)
                records[npn] = record
                self.revision += 1
                placements = placements_of(record)
                for key, until in placements:
                    bucket = members.get(key)
                    if bucket is None:
                        bucket = members[key] = {}
                    elif bucket is IN_BUCKET:
                        bucket = self._unpacked(key)
                    bucket[record] = until
                if self._buckets:  # none built yet (a first load): nothing to invalidate
                    for key, _ in placements:
                        self._invalidate(key)

    def clear(self) -> None:
        """Forget every agent, as a new matcher would (the same object, so views
        of it stay attached; `revision` moves on, so they rebuild)."""
        revision, ring_cache_points = self.revision, self.ring_cache_points
        self.__init__(self.policy)
        self.revision, self.ring_cache_points = revision + 1, ring_cache_points

    def remove(self, npn: str) -> None:
        record = self._records.pop(npn)  # KeyError for an unknown NPN
        self.revision += 1
        # Placement is a pure function of the record: recompute it rather
        # than keep every agent's bucket keys around.
        for key, _ in self._placement(record):
            members = self._members[key]
            if members is IN_BUCKET:
                members = self._unpacked(key)
            del members[record]
            if not members:
                del self._members[key]
                self._placement.wild_keys.discard(key)
            self._invalidate(key)

    def _invalidate(self, member_key: tuple) -> None:
        if ANY not in member_key:
            self._drop_bucket(member_key)
            return
        for key in [k for k in self._buckets if covers(member_key, k)]:
            self._drop_bucket(key)

    def forget_rings(self) -> None:
        """Drop every kept ring search (they refill as consumers come)."""
        for bucket in self._buckets.values():
            if bucket is not None:
                bucket.rings.clear()
        self._ring_points = 0

    def _drop_bucket(self, key: tuple) -> None:
        if self._members.get(key) is IN_BUCKET:
            self._unpacked(key)
        bucket = self._buckets.pop(key, None)
        if bucket is not None and bucket.rings:
            self._ring_points -= sum(len(ring[0]) for ring in bucket.rings.values())

    def _bucket(self, key: tuple) -> Bucket | None:
        if key in self._buckets:
            return self._buckets[key]
        members = self._members.get(key, {})
        wilds = self._placement.wilds_covering(key)
        if wilds:  # a copy only when wildcard members join in (Bucket reads, never keeps it)
            members = dict(members)
            for wild in wilds:
                members.update(self._members[wild])
        bucket = self._buckets[key] = Bucket(members) if members else None
        if bucket is not None and not wilds:
            # The bucket's flat lists hold exactly these members: at national
            # scale the dicts are ~10 MB more. They come back from the bucket
            # (`_unpacked`) when an agent joins or leaves it.
            self._members[key] = IN_BUCKET
        return bucket

    def _unpacked(self, key: tuple) -> dict[AgentRecord, date | None]:
        """A key's members back as a dict, from its bucket (before it is dropped)."""
        bucket = self._buckets[key]
        members = self._members[key] = dict(zip(bucket.records, bucket.untils, strict=True))
        return members

    def warm(self) -> None:
        """Build every bucket's spatial index now instead of on first use."""
        with gc_paused():
            for key in list(self._members):
                if ANY not in key:
                    self._bucket(key)

    # -- matching ---------------------------------------------------------
    def match(
        self,
        consumer: Consumer,
        at: datetime,
        *,
        limit: int | None = None,
        explain: bool = False,
        offered: Iterable[str] = (),
        offers: OfferLedger | None = None,
    ) -> MatchResult:
        """The referral's queue at `at`, nearest first; `explain` adds exclusions.

        `offered` are the NPNs this referral was already offered to (E11);
        `offers` tells open offers per agent (E12) and when each agent was
        last offered a referral (the ranking's tie-break).
        """
        if limit is not None and limit < 1:
            raise InputError("limit must be at least 1", field="limit")
        query = _query(consumer, at, offered, offers)
        query.opens = self._opens_at(at)
        queue = _queue(self._search(query, limit))
        if not explain:
            return MatchResult(queue)
        query.slot = -1  # the exclusions read offers agent by agent, not by ring
        return MatchResult(queue, verdicts.exclusions(self._records, self.policy.rules, query))

    def _opens_at(self, at: datetime) -> dict:
        """Which shared schedules are open, kept for the UTC minute of `at`.

        Weekly hours are whole minutes (on a DST-change day too), so every
        match in one minute gets the same answers: a busy router asks each
        (zone, schedule) once a minute, not once a match. One attribute holds
        (minute, answers), so a thread never pairs a minute with another's."""
        minute = int(at.timestamp() // 60)
        memo = self._opens_memo
        if memo[0] != minute:
            memo = self._opens_memo = (minute, {})
        return memo[1]

    def consumer_failure(self, consumer: Consumer, at: datetime) -> str | None:
        """The first rule the consumer fails whoever the agent (E5: a state that
        does not use HealthCare.gov), or None: no agent could ever match."""
        query = _query(consumer, at, (), None)
        return next(
            (r.id for r in self.policy.rules if r.consumer and not r.consumer(None, query)), None
        )

    def _search(self, query: Query, limit: int | None) -> list[tuple[float, AgentRecord]]:
        """Walk the consumer's bucket outward, ring by ring, testing per-moment rules.

        Candidates come nearest first by spherical distance. Once `limit`
        agents are found, the limit-th best geodesic distance G bounds the
        search: a candidate farther than G * (1 + SPHERE_ERROR) on the sphere
        is farther than G on the ellipsoid, and so is everyone after it.
        """
        if self._consumer_check is not None and not self._consumer_check(None, query):
            return []
        facts = query.consumer
        bucket = self._bucket(self._consumer_key(facts))
        if bucket is None:
            return []
        want = limit or bucket.size
        dynamic, batched = self._dynamic, query.prefetch is not None
        records, untils, starts = bucket.records, bucket.untils, bucket.starts
        point_lats, point_lons = bucket.index.lat_of, bucket.index.lon_of  # per ZIP group
        rest = self._dynamic_rest
        gates, opens = (bucket.gates if self._gated else None), query.opens
        surely_valid = query.surely_valid_until  # licences lapsing later need no zone math
        found: list[tuple[float, AgentRecord]] = []
        best: list[float] = []  # geodesic km of the `want` nearest found, sorted
        cutoff = math.inf  # best[want - 1] once `want` are found
        bound = math.inf  # sphere km past which no candidate can make the queue
        lowest_dot = -2.0  # below this dot (beyond the bound) no candidate can make the queue
        inner, seen = -1.0, 0
        outer = FIRST_RING_KM * math.sqrt(want) if limit else FULL_EARTH_KM * 2
        while True:
            ring = self._ring(bucket, facts, inner, outer)
            positions, dots, kms = ring[0], ring[1], ring[2]
            seen += len(positions)
            slots = range(len(positions))
            if batched:
                query.near, query.slot, query.fetched_to = (bucket, ring, gates), -1, 0
            if gates is not None and len(positions) > SIFT_FROM:
                slots = sifted(bucket, ring, query)
            for slot in slots:
                position, dot = positions[slot], dots[slot]
                if dot < lowest_dot:
                    return self._ranked(found, query, want)
                if gates is not None:  # a closed shared schedule: nobody here is available
                    shared = gates[position]
                    if shared is not None:
                        is_open = opens.get(shared)
                        if is_open is None:
                            is_open = query.schedule_open(shared)
                        if not is_open:
                            continue
                km = kms[slot]
                first, end = starts[position], starts[position + 1]
                if batched:  # the first agent here to need its offers fetches for those near
                    query.slot = slot
                for member in range(first, end):
                    record, until = records[member], untils[member]
                    check = dynamic
                    if gates is not None and (shared := record.gate) is not None:
                        is_open = opens.get(shared)
                        if is_open is None:
                            is_open = query.schedule_open(shared)
                        if not is_open:
                            continue
                        check = rest  # available: the schedule just said so
                    if (
                        until is not None
                        and until < surely_valid
                        and query.local_date(record) > until
                    ):
                        continue
                    if check is not None and not check(record, query):
                        continue
                    if km < 0.0:
                        km = kms[slot] = geodesic_km(
                            facts.lat, facts.lon, point_lats[position], point_lons[position]
                        )
                    found.append((km, record))
                    if km < cutoff:  # the want-th nearest so far moves in
                        bisect.insort(best, km)
                        if len(best) > want:
                            best.pop()
                        if len(best) == want:
                            cutoff = best[-1]
                            # The metre of slack absorbs rounding in the sphere distance.
                            bound = cutoff * (1 + SPHERE_ERROR) + 0.001
                            lowest_dot = dot_at(bound)
            if bound <= outer or seen == bucket.groups or outer > FULL_EARTH_KM:
                return self._ranked(found, query, want)
            # Few found so far: the agents are sparse here, widen faster.
            inner, outer = outer, outer * (2.0 if len(found) * 4 >= want else 4.0)

    def _ring(self, bucket: Bucket, facts: ConsumerFacts, inner: float, outer: float) -> tuple:
        """The bucket's ring search: (positions, dots, geodesic km per slot,
        -1 until computed, the sieve of a long ring or None).

        Consumers of one ZIP walk the same rings: small rings are kept per
        (bucket, consumer ZIP) in flat arrays, so a ZIP's next consumer reads
        no grid cells, computes no dot products and reuses the geodesic
        distances. At most RING_CACHE_POINTS groups are kept; when full, all
        are dropped and refilled. A bucket's rings go with it when an agent
        joins or leaves it.
        """
        key = (facts.zip, inner, outer)
        ring = bucket.rings.get(key)
        if ring is not None:
            return ring
        positions, dots = bucket.index.ring(facts.vector, facts.lat, facts.lon, inner, outer)
        count = len(positions)
        if count > RING_CACHE_LARGEST or not self.ring_cache_points:
            return positions, dots, [-1.0] * count, None
        positions = array("i", positions)  # 32-bit, as the buckets' own
        ring = (
            positions,
            array("d", dots),
            array("d", _UNKNOWN_KM * count),
            sieve(bucket, positions) if count > SIFT_FROM else None,
        )
        if self._ring_points + count > self.ring_cache_points:
            self.forget_rings()
        bucket.rings[key] = ring
        self._ring_points += count
        return ring

    def _ranked(
        self, found: list[tuple[float, AgentRecord]], query: Query, want: int | None
    ) -> list[tuple[float, AgentRecord]]:
        """The first `want` (all when None), nearest first; the rest of the
        rule file's order only breaks ties.

        Distance always comes first (the rule file insists), so only agents at
        the same distance, as a rule at one ZIP, need the tie-break keys, which
        may ask the store when each was last offered a referral.
        """
        by_distance = sorted(found, key=itemgetter(0))
        ranked = []
        tie_key = None
        for _, tied in itertools.groupby(by_distance, key=itemgetter(0)):
            if want is not None and len(ranked) >= want:
                break  # farther ties cannot make the queue: no keys for them
            tied = list(tied)
            if len(tied) > 1:
                tie_key = tie_key or self._tie_break(query)
                tied.sort(key=tie_key)
            ranked.extend(tied)
        return ranked[:want]

    def why(
        self,
        npn: str,
        consumer: Consumer,
        at: datetime,
        *,
        offered: Iterable[str] = (),
        offers: OfferLedger | None = None,
    ) -> dict:
        """Every rule's verdict for one agent: why did this agent (not) get the referral?"""
        record = self._records.get(npn)
        if record is None:
            raise InputError(f"no agent with NPN {npn!r}", field="npn")
        return verdicts.why(record, self.policy.rules, _query(consumer, at, offered, offers))

    def naive_match(
        self,
        consumer: Consumer,
        at: datetime,
        *,
        limit: int | None = None,
        offered: Iterable[str] = (),
        offers: OfferLedger | None = None,
    ) -> MatchResult:
        """The same queue by brute force: every rule on every agent, then sort.

        The benchmark's baseline and the tests' oracle: no index, no search.
        """
        query = _query(consumer, at, offered, offers)
        eligible = verdicts.eligible(self._records.values(), self.policy.rules, query)
        return MatchResult(_queue(self._ranked(eligible, query, limit)))


def _query(consumer: Consumer, at: datetime, offered: Iterable[str], offers) -> Query:
    return Query(ConsumerFacts.of(consumer), at, frozenset(offered), offers)


def _queue(ranked: list[tuple[float, AgentRecord]]) -> tuple[QueueEntry, ...]:
    return tuple(QueueEntry(record.npn, round(km, 3)) for km, record in ranked)
