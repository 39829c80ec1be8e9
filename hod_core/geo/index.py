"""A static set of points searched outward from an origin, ring by ring.

Candidates come from a shapely STRtree (a packed R-tree) queried with the
lon/lat box around a spherical cap; their exact spherical distances are then
computed with numpy. Small sets skip the tree: scanning them is faster.
"""

from __future__ import annotations

import math

import numpy as np
import shapely

from .distance import EARTH_RADIUS_KM, cap_box, sphere_km, unit_vectors

SMALL_SET = 64  # below this, a numpy scan beats building and querying a tree


class PointIndex:
    def __init__(self, lats: list[float], lons: list[float]):
        self.size = len(lats)
        lat_array, lon_array = np.asarray(lats, dtype=float), np.asarray(lons, dtype=float)
        self.vectors = unit_vectors(lat_array, lon_array)
        self.tree = (
            shapely.STRtree(shapely.points(lon_array, lat_array)) if self.size > SMALL_SET else None
        )
        self.spacing_km = _typical_spacing(lat_array, lon_array)

    def ring(
        self, origin: np.ndarray, lat: float, lon: float, inner_km: float, outer_km: float
    ) -> tuple[np.ndarray, np.ndarray]:
        """Positions (and km) of the points with inner < distance <= outer, nearest first."""
        if self.tree is None:
            candidates = np.arange(self.size)
        else:
            boxes = cap_box(lat, lon, outer_km)
            found = [self.tree.query(shapely.box(*b)) for b in boxes]
            candidates = found[0] if len(found) == 1 else np.unique(np.concatenate(found))
        km = sphere_km(origin, self.vectors[candidates])
        keep = (km > inner_km) & (km <= outer_km)
        candidates, km = candidates[keep], km[keep]
        order = np.argsort(km, kind="stable")
        return candidates[order], km[order]


def _typical_spacing(lats: np.ndarray, lons: np.ndarray) -> float:
    """Rough distance between neighbouring points: sqrt(area / count)."""
    if len(lats) < 2:
        return 50.0
    height = (lats.max() - lats.min()) * 111.2
    width = (lons.max() - lons.min()) * 111.2 * math.cos(math.radians(float(lats.mean())))
    return max(1.0, math.sqrt(max(height * width, 1.0) / len(lats)))


FULL_EARTH_KM = math.pi * EARTH_RADIUS_KM
