"""The matcher's buckets: the agents of one consumer key, grouped by ZIP.

A bucket holds its agents in flat lists ordered by ZIP group, a grid over
one point per group (`geo.index.PointIndex`), and what lets a match skip
agents without testing them one by one: each group's shared (zone,
schedule) gate and a bit per shared schedule for long rings. Ring searches
kept for consumers' ZIPs live here too, and go with the bucket.
"""

from __future__ import annotations

import itertools
from array import array
from datetime import date
from operator import attrgetter

import numpy as np

from hod_core.geo import zips
from hod_core.geo.index import PointIndex
from hod_core.matching.agent_records import AgentRecord
from hod_core.matching.availability import SharedSchedule
from hod_core.matching.match_facts import Query

SIFT_FROM = 16  # rings of more ZIP groups than this drop closed ones in one numpy pass
OTHERS_BIT = 63
OTHERS = 1 << OTHERS_BIT  # an agent whose availability is not a shared schedule's alone
_GATE = attrgetter("gate")


class Bucket:
    """The agents of one consumer key, grouped by ZIP, with a spatial index.

    Agents sit on ZIP centroids, so the index holds one point per ZIP and a
    match computes one distance per ZIP, however many agents share it. Group
    i is `records[starts[i]:starts[i + 1]]`, each with the day its placement
    lapses in `untils` (flat lists: no list or tuple object per group or agent).
    `gates[i]` is the (zone, schedule) every agent of group i shares when
    their availability is that schedule's alone (no override, no time off),
    else None: a match skips a closed group without looking at its agents.
    `rings` keeps recent ring searches by consumer ZIP (see `Matcher._ring`).
    """

    __slots__ = (
        "records",
        "untils",
        "starts",
        "groups",
        "size",
        "index",
        "gates",
        "schedules",
        "schedule_bits",
        "rings",
    )

    def __init__(self, members: dict[AgentRecord, date | None]):
        by_zip: dict[str, list[AgentRecord]] = {}
        for record in members:
            group = by_zip.get(record.zip)
            if group is None:
                by_zip[record.zip] = [record]
            else:
                group.append(record)
        self.records = records = list(itertools.chain.from_iterable(by_zip.values()))
        self.untils = list(map(members.__getitem__, records))
        self.starts = array("i", itertools.accumulate(map(len, by_zip.values()), initial=0))
        self.groups = len(by_zip)
        self.size = len(members)
        heads = [group[0] for group in by_zip.values()]
        self.index = PointIndex(*zips.zip_table().centroids(by_zip))  # a point per ZIP group
        self.gates = list(map(_GATE, heads))  # right for a group of one
        groups = list(by_zip.values())
        sizes = np.diff(np.frombuffer(self.starts, dtype=np.int32))
        for position in np.flatnonzero(sizes > 1).tolist():
            self.gates[position] = _gate(groups[position])
        # For long rings: bit i of schedule_bits[g] is set when an agent of
        # group g has shared schedule schedules[i]; OTHERS when one has none
        # (an override, time off) or the bucket has too many to number.
        gates = list(map(_GATE, records))
        shared = dict.fromkeys(gates)
        shared.pop(None, None)
        self.schedules = list(shared)[:OTHERS_BIT]
        bit_of = {schedule: 1 << number for number, schedule in enumerate(self.schedules)}
        bits = list(map(bit_of.get, gates, itertools.repeat(OTHERS)))
        self.schedule_bits = (
            np.bitwise_or.reduceat(np.array(bits, dtype=np.uint64), heads_at)
            if (heads_at := np.frombuffer(self.starts, dtype=np.int32)[:-1]).size
            else np.zeros(0, np.uint64)
        )
        self.rings: dict[tuple, tuple] = {}


def sieve(bucket: Bucket, positions) -> tuple[np.ndarray, int]:
    """A long ring's schedule bits, group by group, and the schedules met in it."""
    if isinstance(positions, array):
        positions = np.frombuffer(positions, dtype=np.int32)
    bits = bucket.schedule_bits[positions]
    return bits, int(np.bitwise_or.reduce(bits)) & ~OTHERS


def sifted(bucket: Bucket, ring: tuple, query: Query) -> list[int]:
    """The slots of a long ring whose group may hold an available agent: one
    vectorised pass instead of a Python test per closed group."""
    bits, present = ring[3] or sieve(bucket, ring[0])  # only the schedules met here count
    wanted, opens, schedules = OTHERS, query.opens, bucket.schedules
    while present:
        number = present.bit_length() - 1
        present ^= 1 << number
        shared = schedules[number]
        is_open = opens.get(shared)
        if is_open is None:
            is_open = query.schedule_open(shared)
        if is_open:
            wanted |= 1 << number
    return np.flatnonzero(bits & np.uint64(wanted)).tolist()


def _gate(group: list[AgentRecord]) -> SharedSchedule | None:
    shared = group[0].gate
    for record in group:
        if record.gate is not shared:
            return None
    return shared
