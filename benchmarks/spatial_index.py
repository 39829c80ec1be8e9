"""Grid (hod_core.geo.index) against shapely's STRtree, on the matcher's real work.

    pip install shapely && python benchmarks/spatial_index.py

The design card names shapely for the spatial index "or whatever the
benchmark proves faster". This builds both over the same point sets, the
ZIP groups of every (state, language) bucket of 100k synthetic agents, and
times the query a match makes most (a ring of 10 km, then 40 and 160 km
around a consumer ZIP), plus the memory each needs. Both must return the
same points.
"""

from __future__ import annotations

import gc
import random
import statistics
import time

import numpy as np
import shapely

from hod_core import wire
from hod_core.domain.models import Agent
from hod_core.geo.distance import EARTH_RADIUS_KM, cap_box, unit_vector
from hod_core.geo.index import PointIndex
from hod_core.matching.matcher import Matcher
from hod_core.testing.synthetic import Synthesizer


class StrTreeRing:
    """The same ring search as PointIndex.ring, with shapely's STRtree for the box."""

    def __init__(self, lats, lons):
        self.lats, self.lons = np.asarray(lats), np.asarray(lons)
        lat, lon = np.radians(self.lats), np.radians(self.lons)
        self.vectors = np.column_stack(
            (np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat))
        )
        self.tree = shapely.STRtree(shapely.points(self.lons, self.lats))

    def ring(self, origin, lat, lon, inner_km, outer_km):
        found = [self.tree.query(shapely.box(*box)) for box in cap_box(lat, lon, outer_km)]
        candidates = found[0] if len(found) == 1 else np.unique(np.concatenate(found))
        dots = self.vectors[candidates] @ np.asarray(origin)
        low = np.cos(outer_km / EARTH_RADIUS_KM)
        high = np.cos(inner_km / EARTH_RADIUS_KM) if inner_km >= 0 else 2.0
        keep = (dots >= low) & (dots < high)
        candidates, dots = candidates[keep], dots[keep]
        order = np.argsort(-dots, kind="stable")
        return candidates[order].tolist(), dots[order].tolist()


def resident_mb() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * 4096 / 2**20


def main() -> None:
    synth = Synthesizer(seed=2026)
    matcher = Matcher(agents=[wire.structure(a, Agent) for a in synth.agents(100_000)])
    matcher.warm()
    buckets = [b for b in matcher._buckets.values() if b is not None]  # noqa: SLF001 - a benchmark
    heads = [[b.records[start] for start in b.starts[:-1]] for b in buckets]  # one per ZIP group
    points = [([r.lat for r in group], [r.lon for r in group]) for group in heads]
    print(f"{len(points)} buckets, {sum(len(p[0]) for p in points)} points")

    built = {}
    for name, kind in (("grid", PointIndex), ("strtree", StrTreeRing)):
        gc.collect()
        before, started = resident_mb(), time.perf_counter()
        built[name] = [kind(lats, lons) for lats, lons in points]
        for index in built[name]:  # STRtree builds lazily: force it
            index.ring(unit_vector(40.0, -90.0), 40.0, -90.0, -1.0, 1.0)
        print(
            f"{name:8} build {time.perf_counter() - started:5.2f} s, memory {resident_mb() - before:6.1f} MB"
        )

    rng = random.Random(1)
    cases = []
    for _ in range(3000):
        b = rng.randrange(len(points))
        lats, lons = points[b]
        i = rng.randrange(len(lats))
        cases.append((b, lats[i] + rng.uniform(-0.1, 0.1), lons[i] + rng.uniform(-0.1, 0.1)))
    for radius in (10.0, 40.0, 160.0):
        times = {}
        for name, indexes in built.items():
            spent = []
            for b, lat, lon in cases:
                origin = unit_vector(lat, lon)
                started = time.perf_counter_ns()
                indexes[b].ring(origin, lat, lon, -1.0, radius)
                spent.append(time.perf_counter_ns() - started)
            times[name] = statistics.median(spent) / 1000
        same = all(
            sorted(built["grid"][b].ring(unit_vector(lat, lon), lat, lon, -1.0, radius)[0])
            == sorted(built["strtree"][b].ring(unit_vector(lat, lon), lat, lon, -1.0, radius)[0])
            for b, lat, lon in cases[:300]
        )
        print(
            f"ring {radius:5.0f} km: grid {times['grid']:6.1f} us, strtree {times['strtree']:6.1f} us, "
            f"ratio {times['strtree'] / times['grid']:4.1f}x, same points: {same}"
        )


if __name__ == "__main__":
    main()
