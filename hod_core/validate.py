"""Field validators and normalisers used where a value enters the models.

Each raises `InputError` with the offending value in the message; the wire
layer adds the field path and the file:line, so these stay short.
"""

from __future__ import annotations

import re
import sys
import zoneinfo
from datetime import UTC, date, datetime
from functools import cache, lru_cache

import phonenumbers

from .codes import ISO_639_1, US_STATES, WEEKDAYS
from .errors import InputError

_NPN = re.compile(r"[0-9]{1,10}")
_ZIP = re.compile(r"[0-9]{5}")
_HHMM = re.compile(r"([01][0-9]|2[0-3]):([0-5][0-9])|24:00")
# A NANP number in E.164: +1, area code and exchange each starting 2-9.
_NANP_E164 = re.compile(r"\+1[2-9][0-9]{2}[2-9][0-9]{6}")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


def npn(value: str) -> str:
    if not isinstance(value, str) or not _NPN.fullmatch(value):
        raise InputError(f"NPN must be 1 to 10 digits as a string, got {value!r}")
    return value


# Codes repeat across every agent; interning keeps one string object per code
# instead of one per occurrence (tens of MB at 100k agents).


def zip_code(value: str) -> str:
    if not isinstance(value, str) or not _ZIP.fullmatch(value):
        raise InputError(f"ZIP must be 5 digits as a string, got {value!r}")
    return sys.intern(value)


def state(value: str) -> str:
    """A USPS state code; "tx" is read as "TX"."""
    if not isinstance(value, str) or value.upper() not in US_STATES:
        raise InputError(f"unknown state code {value!r} (expected a USPS code such as TX)")
    return sys.intern(value.upper())


def language(value: str) -> str:
    """An ISO 639-1 code; "ES" is read as "es"."""
    if not isinstance(value, str) or value.lower() not in ISO_639_1:
        raise InputError(f"unknown language code {value!r} (expected ISO 639-1, e.g. en, es)")
    return sys.intern(value.lower())


def line_of_authority(value: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InputError(f"a line of authority is a non-empty name, got {value!r}")
    return sys.intern(value)


def weekday(value: str) -> str:
    if value not in WEEKDAYS:
        raise InputError(f"unknown weekday {value!r} (expected one of {', '.join(WEEKDAYS)})")
    return value


def name(value: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InputError(f"a name must not be empty, got {value!r}")
    return value.strip()


def email(value: str) -> str:
    if not isinstance(value, str) or not _EMAIL.fullmatch(value):
        raise InputError(f"not an email address: {value!r}")
    return value


def phone(value: str) -> str:
    """Normalise to E.164; numbers without a country code are read as US."""
    if not isinstance(value, str):
        raise InputError(f"phone must be a string, got {value!r}")
    if _NANP_E164.fullmatch(value):  # the common, canonical case: skip the parser
        return value
    try:
        parsed = phonenumbers.parse(value, "US")
    except phonenumbers.NumberParseException:
        parsed = None
    if parsed is None or not phonenumbers.is_possible_number(parsed):
        raise InputError(f"not a phone number: {value!r}")
    normalised = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    if normalised.startswith("+1") and not _NANP_E164.fullmatch(normalised):
        raise InputError(f"not a valid US phone number: {value!r}")
    return normalised


@cache
def _zone_names() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def zone_name(value: str | None) -> str | None:
    if value is not None and value not in _zone_names():
        raise InputError(f"unknown IANA time zone {value!r} (e.g. America/Chicago)")
    return None if value is None else sys.intern(value)


def minutes_of_day(value: str) -> int:
    """'HH:MM' (00:00 to 24:00) -> minutes since local midnight."""
    if not isinstance(value, str) or not _HHMM.fullmatch(value):
        raise InputError(f"not a local time HH:MM (00:00 to 24:00): {value!r}")
    hours, minutes = value.split(":")
    return int(hours) * 60 + int(minutes)


def hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def iso_date(value: str) -> date:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if not isinstance(value, str):
        raise InputError(f"not a date YYYY-MM-DD: {value!r}")
    return _date(value)


@lru_cache(maxsize=8192)
def _date(value: str) -> date:
    """Dates repeat (licence expiries): one object per distinct date."""
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InputError(f"not a date YYYY-MM-DD: {value!r}") from None


def instant(value: str) -> datetime:
    """An ISO 8601 date-time with a UTC offset, kept in UTC."""
    if isinstance(value, datetime):
        parsed = value
    else:
        try:
            parsed = datetime.fromisoformat(value)
        except (TypeError, ValueError):
            raise InputError(f"not an ISO 8601 date-time: {value!r}") from None
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        raise InputError(f"date-time needs a UTC offset (e.g. -05:00 or Z): {value!r}")
    return parsed.astimezone(UTC)
