"""Distances: WGS84 geodesic for what is reported and ranked, a sphere for search.

The spherical distance (mean Earth radius) is within 0.6% of the geodesic one
anywhere on Earth; the search uses it with `SPHERE_ERROR` as a safety margin
and ranks and reports the exact geodesic distance from pyproj.
"""

from __future__ import annotations

import math

import numpy as np
from pyproj import Geod

WGS84 = Geod(ellps="WGS84")
EARTH_RADIUS_KM = 6371.0088  # IUGG mean radius
SPHERE_ERROR = 0.01  # bound on |sphere - geodesic| / geodesic, with room to spare


def geodesic_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """WGS84 geodesic distance in kilometres (Karney's algorithm, via pyproj)."""
    if lat1 == lat2 and lon1 == lon2:
        return 0.0
    return WGS84.inv(lon1, lat1, lon2, lat2)[2] / 1000.0


def unit_vectors(lats: np.ndarray, lons: np.ndarray) -> np.ndarray:
    """Points on the unit sphere, n x 3: chord length orders like arc length."""
    lat, lon = np.radians(lats), np.radians(lons)
    cos_lat = np.cos(lat)
    return np.column_stack((cos_lat * np.cos(lon), cos_lat * np.sin(lon), np.sin(lat)))


def unit_vector(lat: float, lon: float) -> tuple[float, float, float]:
    """One point on the unit sphere (plain math: numpy is slow on one point)."""
    phi, lam = math.radians(lat), math.radians(lon)
    return (math.cos(phi) * math.cos(lam), math.cos(phi) * math.sin(lam), math.sin(phi))


def cap_box(lat: float, lon: float, radius_km: float) -> list[tuple[float, float, float, float]]:
    """Lon/lat boxes (1 or 2, split at the antimeridian) covering a spherical cap."""
    angle = radius_km / EARTH_RADIUS_KM
    if angle >= math.pi:
        return [(-180.0, -90.0, 180.0, 90.0)]
    dlat = math.degrees(angle)
    south, north = lat - dlat, lat + dlat
    if north >= 90.0 or south <= -90.0:
        return [(-180.0, max(south, -90.0), 180.0, min(north, 90.0))]
    dlon = math.degrees(math.asin(min(1.0, math.sin(angle) / math.cos(math.radians(lat)))))
    if dlon >= 180.0 - 1e-9:
        return [(-180.0, south, 180.0, north)]
    west, east = lon - dlon, lon + dlon
    if west < -180.0:
        return [(west + 360.0, south, 180.0, north), (-180.0, south, east, north)]
    if east > 180.0:
        return [(west, south, 180.0, north), (-180.0, south, east - 360.0, north)]
    return [(west, south, east, north)]
