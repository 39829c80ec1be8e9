"""A static set of points searched outward from an origin, ring by ring.

Candidates come from a shapely STRtree (a packed R-tree) queried with the
lon/lat box around a spherical cap, then are kept or dropped by the dot
product of unit vectors (monotone in great-circle distance). A match asks
for few points at a time, so small candidate sets are handled in plain
Python, where numpy's per-call overhead would dominate; larger ones in numpy.
"""

from __future__ import annotations

import math
from array import array

import numpy as np
import shapely

from .distance import EARTH_RADIUS_KM, cap_box, unit_vectors

SMALL_SET = 64  # below this many points, scanning all beats a tree
SMALL_BATCH = 48  # below this many candidates, plain Python beats numpy
FULL_EARTH_KM = math.pi * EARTH_RADIUS_KM


class PointIndex:
    def __init__(self, lats: list[float], lons: list[float]):
        self.size = len(lats)
        lat_array, lon_array = np.asarray(lats, dtype=float), np.asarray(lons, dtype=float)
        self.vectors = unit_vectors(lat_array, lon_array)
        self.flat = array("d", self.vectors.tobytes())  # x0 y0 z0 x1 ...: compact, plain floats
        self.tree = (
            shapely.STRtree(shapely.points(lon_array, lat_array)) if self.size > SMALL_SET else None
        )
        self._everyone = np.arange(self.size)

    def ring(
        self,
        origin: tuple[float, float, float],
        lat: float,
        lon: float,
        inner_km: float,
        outer_km: float,
    ) -> tuple[list[int], list[float]]:
        """Positions and km of the points with inner < distance <= outer, nearest first."""
        if self.tree is None or outer_km >= FULL_EARTH_KM:
            candidates = self._everyone
        else:
            boxes = cap_box(lat, lon, outer_km)
            if len(boxes) == 1:
                candidates = self.tree.query(shapely.box(*boxes[0]))
            else:
                candidates = np.unique(
                    np.concatenate([self.tree.query(shapely.box(*b)) for b in boxes])
                )
        # distance <= outer  <=>  dot >= cos(outer);  distance > inner  <=>  dot < cos(inner)
        lowest = (
            math.cos(min(outer_km, FULL_EARTH_KM) / EARTH_RADIUS_KM)
            if outer_km < FULL_EARTH_KM
            else -2.0
        )
        highest = math.cos(inner_km / EARTH_RADIUS_KM) if inner_km >= 0 else 2.0
        if len(candidates) <= SMALL_BATCH:
            return self._ring_small(origin, candidates.tolist(), lowest, highest)
        dots = self.vectors[candidates] @ np.asarray(origin)
        keep = (dots >= lowest) & (dots < highest)
        candidates, dots = candidates[keep], dots[keep]
        order = np.argsort(-dots, kind="stable")
        dots = np.minimum(dots[order], 1.0)
        return candidates[order].tolist(), (np.arccos(dots) * EARTH_RADIUS_KM).tolist()

    def _ring_small(self, origin, candidates: list[int], lowest: float, highest: float):
        ox, oy, oz = origin
        flat = self.flat
        kept = []
        for position in candidates:
            at = 3 * position
            dot = flat[at] * ox + flat[at + 1] * oy + flat[at + 2] * oz
            if lowest <= dot < highest:
                kept.append((-dot, position))
        kept.sort()
        acos, radius = math.acos, EARTH_RADIUS_KM
        return [p for _, p in kept], [acos(min(-d, 1.0)) * radius for d, _ in kept]
