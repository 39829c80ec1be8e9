"""ZIP data, distances and the spatial index."""

import math
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hod_core.errors import InputError
from hod_core.geo import zips
from hod_core.geo.distance import EARTH_RADIUS_KM, SPHERE_ERROR, cap_box, geodesic_km, unit_vector
from hod_core.geo.index import PointIndex


def test_zip_lookup_gives_centroid_state_and_zone():
    place = zips.lookup("48371")
    assert (place.state, place.zone) == ("MI", "America/Detroit")
    assert 42.5 < place.lat < 43.1 and -83.6 < place.lon < -83.0


def test_zero_or_missing_centroids_are_kept_unlocated():
    table = zips.zip_table()
    assert len(table) > 40_000
    assert not any(p.lat == 0.0 or p.lon == 0.0 for p in table.values())
    unlocated = [p for p in table.values() if not p.located]
    assert 100 < len(unlocated) < 1500
    assert not zips.lookup("09001").located  # military APO


def test_zip_table_finds_only_five_ascii_digits_it_ships():
    table = zips.zip_table()
    assert "48371" in table and zips.lookup("00501").state == "NY"  # leading zeros kept
    for code in ("4837", "483711", "4837a", "\uff14\uff18\uff13\uff17\uff11", "", 48371, None):
        assert code not in table and zips.lookup(code) is None
    assert "99999" not in table  # five digits, not a shipped ZIP
    places = list(table.values())
    assert len({p.zip for p in places}) == len(table)
    assert all(zips.lookup(place.zip) == place for place in places[::997])


def test_centroid_is_the_lookup_of_a_located_zip_and_refuses_the_rest():
    table = zips.zip_table()
    place = zips.lookup("48371")
    assert table.centroid("48371") == (place.lat, place.lon, place.zone)
    for code, reason in (
        ("09001", "no location"),
        ("99999", "unknown ZIP"),
        ("x", "unknown ZIP"),
        ("4837a", "unknown ZIP"),
    ):
        with pytest.raises(InputError, match=reason) as caught:
            table.centroid(code)
        assert caught.value.field == "zip"


def test_every_zone_in_the_table_is_a_valid_iana_name():
    import zoneinfo

    zones = {p.zone for p in zips.zip_table().values() if p.zone}
    assert zones <= zoneinfo.available_timezones()


def test_geodesic_distance_matches_known_value():
    # JFK to LAX on WGS84: 3,983 km (Karney). A sphere would say about 3,975.
    assert abs(geodesic_km(40.6413, -73.7781, 33.9416, -118.4085) - 3983.0) < 2.0
    assert geodesic_km(30.0, -95.0, 30.0, -95.0) == 0.0


def test_sphere_error_bound_holds():
    rng = random.Random(5)
    for _ in range(500):
        a, b = (
            (rng.uniform(-60, 70), rng.uniform(-180, 180)),
            (rng.uniform(-60, 70), rng.uniform(-180, 180)),
        )
        geo = geodesic_km(*a, *b)
        if geo < 1:
            continue
        u, v = unit_vector(*a), unit_vector(*b)
        sphere = (
            math.acos(max(-1.0, min(1.0, sum(x * y for x, y in zip(u, v, strict=True)))))
            * EARTH_RADIUS_KM
        )
        assert abs(sphere - geo) <= SPHERE_ERROR * geo


def test_cap_box_splits_at_the_antimeridian():
    boxes = cap_box(51.9, 179.5, 200)
    assert len(boxes) == 2
    assert all(-180 <= b[0] <= b[2] <= 180 for b in boxes)
    assert cap_box(89.5, 0, 200)[0][0] == -180.0  # near the pole: every longitude


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    size=st.sampled_from([10, 200]),
    inner=st.floats(0, 500),
    width=st.floats(1, 3000),
)
def test_ring_returns_exactly_the_points_between_radii_nearest_first(seed, size, inner, width):
    rng = random.Random(seed)
    lats = [rng.uniform(20, 65) for _ in range(size)]
    lons = [
        rng.choice([rng.uniform(-170, -60), rng.uniform(170, 180), rng.uniform(-180, -175)])
        for _ in range(size)
    ]
    index = PointIndex(lats, lons)
    origin_lat, origin_lon = rng.uniform(25, 60), rng.uniform(-179, -65)
    origin = unit_vector(origin_lat, origin_lon)
    positions, dots = index.ring(origin, origin_lat, origin_lon, inner, inner + width)
    km = [math.acos(max(-1.0, min(1.0, d))) * EARTH_RADIUS_KM for d in dots]
    expected = []
    for i in range(index.size):
        point = index.flat[3 * i : 3 * i + 3]
        dot = sum(a * b for a, b in zip(point, origin, strict=True))
        distance = math.acos(max(-1.0, min(1.0, dot))) * EARTH_RADIUS_KM
        if inner + 1e-6 < distance <= inner + width - 1e-6:
            expected.append(i)
    assert set(expected) <= set(positions)
    assert km == sorted(km)
    assert all(inner - 1e-6 <= d <= inner + width + 1e-6 for d in km)
