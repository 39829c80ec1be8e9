"""Points on the globe, searched outward from an origin, ring by ring.

A compact grid: points sorted by 0.25-degree cell (row by row, west to
east), with the sorted cell numbers in an array: one binary search finds a
grid row's first cell in a box, the row's next cells follow it. A small search box (a metro area) reads a few cells;
a large one is answered by one vectorised pass over all points. Candidates
are then kept or dropped by the dot product of unit vectors (monotone in
great-circle distance). Plain Python handles small candidate sets, where
numpy's per-call overhead would dominate; numpy handles large ones.

Not shapely's STRtree: at 100k agents this grid is faster per search and
needs about a quarter of the memory (benchmarks/spatial_index.py measures
both; docs/decisions.md).
"""

from __future__ import annotations

import math
from array import array
from bisect import bisect_left
from collections.abc import Sequence

import numpy as np

from hod_core.geo.distance import EARTH_RADIUS_KM, cap_box, unit_vectors

CELL_DEGREES = 0.25
MAX_CELL_READS = 48  # a box needing more cells than this is scanned with numpy
SMALL_BATCH = 48  # below this many candidates, plain Python beats numpy
FULL_EARTH_KM = math.pi * EARTH_RADIUS_KM
_COLUMNS = int(360 / CELL_DEGREES) + 2


def dot_at(km: float) -> float:
    """The unit-vector dot product of two points `km` apart on the sphere."""
    return math.cos(km / EARTH_RADIUS_KM) if km < FULL_EARTH_KM else -1.0


def _floats(values: Sequence[float]) -> array:
    floats = array("d")
    floats.frombytes(np.asarray(values, dtype=float).tobytes())
    return floats


class PointIndex:
    def __init__(self, lats: Sequence[float], lons: Sequence[float]):
        self.size = len(lats)
        # Plain arrays, read one point at a time (`lat_of[i]`), with numpy views
        # of the same memory for the whole-index passes.
        self.lat_of, self.lon_of = _floats(lats), _floats(lons)
        self.lats = np.frombuffer(self.lat_of, dtype=float)
        self.lons = np.frombuffer(self.lon_of, dtype=float)
        self.flat = array("d", unit_vectors(self.lats, self.lons).tobytes())  # x0 y0 z0 x1 ...
        self.vectors = np.frombuffer(self.flat, dtype=float).reshape(-1, 3)  # same memory
        cells = (np.floor((self.lats + 90.0) / CELL_DEGREES) * _COLUMNS).astype(np.int64)
        cells += np.floor((self.lons + 180.0) / CELL_DEGREES).astype(np.int64)
        order = np.argsort(cells, kind="stable")
        sorted_cells = cells[order]
        firsts = (
            np.flatnonzero(np.diff(sorted_cells, prepend=-1))
            if self.size
            else np.zeros(0, np.int64)
        )
        # 32-bit: positions and cell numbers stay far below 2**31 (about 1M
        # cells of CELL_DEGREES), and 100k agents' buckets hold 2 MB less.
        self.order = array("i", order.astype(np.int32).tobytes())  # positions, by cell
        # Run k holds order[starts[k]:starts[k + 1]], the points of cell cells[k].
        self.cells = array("i", sorted_cells[firsts].astype(np.int32).tobytes())
        self.starts = array("i", np.append(firsts, self.size).astype(np.int32).tobytes())

    def ring(
        self,
        origin: tuple[float, float, float],
        lat: float,
        lon: float,
        inner_km: float,
        outer_km: float,
    ) -> tuple[list[int], list[float]]:
        """The points with inner < distance <= outer, nearest first.

        Returns their positions and the dot products of their unit vectors
        with `origin` (1 = here; see `dot_at`): the caller compares dots,
        and nobody pays for an arccos it does not need.
        """
        # distance <= outer  <=>  dot >= cos(outer);  distance > inner  <=>  dot < cos(inner)
        lowest = math.cos(outer_km / EARTH_RADIUS_KM) if outer_km < FULL_EARTH_KM else -2.0
        highest = math.cos(inner_km / EARTH_RADIUS_KM) if inner_km >= 0 else 2.0
        candidates = (
            self._in_boxes(cap_box(lat, lon, outer_km)) if outer_km < FULL_EARTH_KM else None
        )
        if candidates is not None and len(candidates) <= SMALL_BATCH:
            return self._ring_small(origin, candidates, lowest, highest)
        if candidates is None:
            candidates = np.arange(self.size)
        else:
            candidates = np.asarray(candidates, dtype=np.intp)
        dots = self.vectors[candidates] @ np.asarray(origin)
        keep = (dots >= lowest) & (dots < highest)
        candidates, dots = candidates[keep], dots[keep]
        order = np.argsort(-dots, kind="stable")
        return candidates[order].tolist(), dots[order].tolist()

    def _in_boxes(self, boxes) -> list[int] | np.ndarray | None:
        """Positions inside lon/lat boxes: from the cells, or one numpy pass."""
        found: list[int] = []
        for west, south, east, north in boxes:
            rows = range(
                math.floor((south + 90.0) / CELL_DEGREES),
                math.floor((north + 90.0) / CELL_DEGREES) + 1,
            )
            first = math.floor((west + 180.0) / CELL_DEGREES)
            columns = range(first, math.floor((east + 180.0) / CELL_DEGREES) + 1)
            if len(rows) * len(columns) > MAX_CELL_READS:
                return self._scan(boxes)
            cells, order, starts = self.cells, self.order, self.starts
            runs = len(cells)
            for row in rows:
                base = row * _COLUMNS
                last = base + columns.stop - 1
                run = bisect_left(cells, base + columns.start)
                while run < runs and cells[run] <= last:
                    found.extend(order[starts[run] : starts[run + 1]])
                    run += 1
        return found

    def _scan(self, boxes) -> np.ndarray:
        inside = np.zeros(self.size, dtype=bool)
        for west, south, east, north in boxes:
            inside |= (
                (self.lats >= south)
                & (self.lats <= north)
                & (self.lons >= west)
                & (self.lons <= east)
            )
        return np.flatnonzero(inside)

    def _ring_small(self, origin, candidates, lowest: float, highest: float):
        ox, oy, oz = origin
        flat = self.flat
        kept = []
        for position in candidates:
            at = 3 * position
            dot = flat[at] * ox + flat[at + 1] * oy + flat[at + 2] * oz
            if lowest <= dot < highest:
                kept.append((-dot, position))
        kept.sort()
        return [p for _, p in kept], [-d for d, _ in kept]
