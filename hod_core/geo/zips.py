"""ZIP code -> centroid, state and IANA time zone, from the table shipped here.

The table (`data/zips.tsv.gz`) is built offline by `tools/build_zip_data.py`
from the `zipcodes` package (MIT; coordinates from GeoNames, CC BY 4.0; ZIP
list from USPS), with missing or invalid zones filled by timezonefinder. A ZIP
whose centroid was (0, 0) or blank is kept with no location: it is reported,
never placed off the coast of Africa.
"""

from __future__ import annotations

import gzip
import sys
from functools import cache
from importlib import resources

from attrs import frozen

from ..errors import InputError


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
    """About 42k ZIPs held as one tuple each (a third of the memory of objects)."""

    def __init__(self, rows: dict[str, tuple]):
        self._rows = rows

    def __len__(self) -> int:
        return len(self._rows)

    def __contains__(self, code: str) -> bool:
        return code in self._rows

    def get(self, code: str) -> ZipPlace | None:
        row = self._rows.get(code)
        return None if row is None else ZipPlace(code, *row)

    def values(self):
        return (ZipPlace(code, *row) for code, row in self._rows.items())


@cache
def zip_table() -> ZipTable:
    """Every shipped ZIP, loaded once per process (about 50 ms)."""
    rows: dict[str, tuple] = {}
    data = resources.files(__package__).joinpath("data", "zips.tsv.gz").read_bytes()
    intern = sys.intern
    for line in gzip.decompress(data).decode("utf-8").splitlines():
        if line.startswith("#"):
            continue
        code, state, lat, lon, zone = line.split("\t")
        rows[code] = (
            intern(state),
            float(lat) if lat else None,
            float(lon) if lon else None,
            intern(zone) if zone else None,
        )
    return ZipTable(rows)


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
