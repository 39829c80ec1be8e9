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
from collections.abc import Collection
from functools import cache
from importlib import resources

import numpy as np
from attrs import frozen

from hod_core.errors import InputError

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

    These arrays take about 1.2 MB where a dict of tuples would take about
    10 MB, which counts when a server holds 100k agents (and the lookup is as
    fast).
    """

    def __init__(self, codes: list[str], states: list[str], lats, lons, zones: list[str]):
        """The table from its columns, as written: coordinates and zones may be ''."""
        self._numbers = array("i", map(int, codes))
        self._row_of = array("i", [-1]) * _CODES  # ZIP number -> row, -1: no such ZIP
        for row, number in enumerate(self._numbers):
            self._row_of[number] = row
        self._lats = array("d", [float(x) if x else math.nan for x in lats])  # NaN: not located
        self._lons = array("d", [float(x) if x else math.nan for x in lons])
        self._states, self._state_index = _numbered(states, "B")
        zone_names, self._zone_index = _numbered(zones, "H")
        self._zones = [name or None for name in zone_names]  # '': no zone

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
    """Every shipped ZIP, loaded once per process (about 25 ms)."""
    packed = resources.files(__package__).joinpath("data", "zips.tsv.gz").read_bytes()
    text = gzip.decompress(packed).decode("utf-8")
    if text.startswith("#"):
        text = text[text.index("\n") + 1 :]
    cells = text.rstrip("\n").replace("\n", "\t").split("\t")  # zip, state, lat, lon, zone
    return ZipTable(*(cells[column::5] for column in range(5)))


def _numbered(values: list[str], code: str) -> tuple[list, array]:
    """The distinct values (in order of first use) and each row's number among them."""
    distinct = list(dict.fromkeys(values))
    number_of = {value: number for number, value in enumerate(distinct)}
    return distinct, array(code, map(number_of.__getitem__, values))


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
