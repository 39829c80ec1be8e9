"""ZIP code -> centroid, state and IANA time zone, from the table shipped here.

The table (`data/zips.tsv.gz`) is built offline by `tools/build_zip_data.py`
from the `zipcodes` package (MIT; coordinates from GeoNames, CC BY 4.0; ZIP
list from USPS), with missing or invalid zones filled by timezonefinder. A ZIP
whose centroid was (0, 0) or blank is kept with no location: it is reported,
never placed off the coast of Africa.
"""

from __future__ import annotations

import gzip
import math
from array import array
from collections.abc import Collection, Iterable, Iterator
from functools import cache
from importlib import resources

import numpy as np
from attrs import frozen

from ..errors import InputError

_CODES = 100_000  # five digits: a ZIP's number is its row's slot


@frozen
class ZipPlace:
    zip: str
    state: str
    lat: float | None
    lon: float | None
    zone: str | None

    @property
    def located(self) -> bool:
        return self.lat is not None


class ZipTable:
    """About 42k ZIPs in flat arrays, one row each, found by the ZIP's number.

    A dict of tuples took about 10 MB; these arrays take about 1.2 MB, which
    counts when a server holds 100k agents (and the lookup is as fast).
    """

    def __init__(self, rows: Iterable[tuple[str, str, float | None, float | None, str | None]]):
        self._row_of = array("i", [-1]) * _CODES  # ZIP number -> row, -1: no such ZIP
        self._numbers = array("i")
        self._lats, self._lons = array("d"), array("d")  # NaN: not located
        self._states: list[str] = []
        self._zones: list[str | None] = [None]
        state_of, zone_of = {}, {None: 0}
        self._state_index, self._zone_index = array("B"), array("H")
        for code, state, lat, lon, zone in rows:
            self._row_of[int(code)] = len(self._numbers)
            self._numbers.append(int(code))
            self._lats.append(math.nan if lat is None else lat)
            self._lons.append(math.nan if lon is None else lon)
            if state not in state_of:
                state_of[state] = len(self._states)
                self._states.append(state)
            if zone not in zone_of:
                zone_of[zone] = len(self._zones)
                self._zones.append(zone)
            self._state_index.append(state_of[state])
            self._zone_index.append(zone_of[zone])

    def __len__(self) -> int:
        return len(self._numbers)

    def __contains__(self, code: str) -> bool:
        return self._row(code) >= 0

    def _row(self, code) -> int:
        if type(code) is str and len(code) == 5 and code.isascii() and code.isdigit():
            return self._row_of[int(code)]
        return -1

    def _place(self, row: int) -> ZipPlace:
        lat = self._lats[row]
        located = lat == lat  # NaN is the only value unequal to itself
        return ZipPlace(
            f"{self._numbers[row]:05d}",
            self._states[self._state_index[row]],
            lat if located else None,
            self._lons[row] if located else None,
            self._zones[self._zone_index[row]],
        )

    def get(self, code: str) -> ZipPlace | None:
        row = self._row(code)
        return None if row < 0 else self._place(row)

    def values(self):
        return map(self._place, range(len(self._numbers)))

    def centroid(self, code: str) -> tuple[float, float, str | None]:
        """(lat, lon, zone) of a ZIP that must have a location: the matcher's
        read, with no ZipPlace made. InputError (field zip) as `locate`."""
        row = self._row(code)
        lat = self._lats[row] if row >= 0 else math.nan
        if lat != lat:
            locate(code)  # raises, with the reason worded
        return lat, self._lons[row], self._zones[self._zone_index[row]]

    def centroids(self, codes: Collection[str]) -> tuple[np.ndarray, np.ndarray]:
        """The latitudes and longitudes of ZIPs known to be located (the
        matcher's ZIP groups, whose agents were placed): no ZipPlace, no check."""
        rows = np.frombuffer(self._row_of, np.int32)[np.fromiter(map(int, codes), int, len(codes))]
        return np.frombuffer(self._lats)[rows], np.frombuffer(self._lons)[rows]


@cache
def zip_table() -> ZipTable:
    """Every shipped ZIP, loaded once per process (about 50 ms)."""
    with resources.files(__package__).joinpath("data", "zips.tsv.gz").open("rb") as packed:
        return ZipTable(_rows(gzip.open(packed, "rt", encoding="utf-8")))


def _rows(lines: Iterable[str]) -> Iterator[tuple]:
    """The table's rows as read, one at a time (no list of 42k of them)."""
    for line in lines:
        if line.startswith("#"):
            continue
        code, state, lat, lon, zone = line.rstrip("\n").split("\t")
        yield code, state, float(lat) if lat else None, float(lon) if lon else None, zone or None


def lookup(code: str) -> ZipPlace | None:
    return zip_table().get(code)


def locate(code: str) -> ZipPlace:
    """The place of a ZIP that must have a location; InputError (field zip) if not."""
    place = zip_table().get(code)
    if place is None:
        raise InputError(f"unknown ZIP {code!r}: not in the shipped ZIP data", field="zip")
    if not place.located:
        raise InputError(
            f"ZIP {code!r} has no location in the shipped ZIP data (military or unlocated ZIP)",
            field="zip",
        )
    return place
