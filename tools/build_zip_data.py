"""Rebuild hod_core/geo/data/zips.tsv.gz from the `zipcodes` package.

Run by maintainers only (`pip install -e .[zipdata]`); the table it writes is
shipped inside hod_core so nothing is read from the network or from these two
packages at run time.

Cleaning rules (each counted in the summary this script prints):
- a centroid of (0, 0), or a missing coordinate, is written as empty: the ZIP
  is known but has no location, and must never be placed off Africa;
- a time zone that is missing or not a valid IANA name (the data has a few,
  e.g. "Napakiak") is filled offline from the coordinates by timezonefinder.
"""

import gzip
import sys
import zoneinfo
from pathlib import Path

import zipcodes
from timezonefinder import TimezoneFinder

OUT = Path(__file__).resolve().parents[1] / "hod_core" / "geo" / "data" / "zips.tsv.gz"


def _coordinate(text: str) -> float | None:
    try:
        value = float(text)
    except (TypeError, ValueError):
        return None
    return value if value != 0.0 else None


def main() -> int:
    zones = zoneinfo.available_timezones()
    finder = TimezoneFinder()
    counts = {"zips": 0, "no_location": 0, "zone_filled": 0, "no_zone": 0}
    rows = []
    for record in sorted(zipcodes.list_all(), key=lambda r: r["zip_code"]):
        lat, lon = _coordinate(record["lat"]), _coordinate(record["long"])
        if lat is None or lon is None:
            lat = lon = None
            counts["no_location"] += 1
        zone = record["timezone"] if record["timezone"] in zones else ""
        if not zone and lat is not None:
            zone = finder.timezone_at(lat=lat, lng=lon) or ""
            counts["zone_filled"] += bool(zone)
        counts["no_zone"] += not zone
        counts["zips"] += 1
        where = "" if lat is None else f"{lat:.4f}\t{lon:.4f}"
        rows.append("\t".join([record["zip_code"], record["state"], where or "\t", zone]))
    version = getattr(zipcodes, "__version__", "?")
    header = f"# zip\tstate\tlat\tlon\ttz  (from zipcodes {version}; see README)\n"
    with gzip.open(OUT, "wt", encoding="utf-8", compresslevel=9) as out:
        out.write(header)
        out.write("\n".join(rows) + "\n")
    print(counts, "->", OUT, file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
