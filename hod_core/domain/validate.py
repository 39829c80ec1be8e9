"""Field validators and normalisers used where a value enters the models.

Each raises `InputError`; the wire layer adds the field path and the
file:line, so these stay short. A message quotes a bad value through the
`{value}` placeholder, so it is cut short and hidden where the field is
private. Errors about names, emails and phone numbers never quote the value
at all: those are contact data wherever they appear (rule P1).
"""

from __future__ import annotations

import re
import sys
import zoneinfo
from datetime import UTC, date, datetime
from functools import cache, lru_cache
from itertools import product

import phonenumbers

from hod_core.domain import limits
from hod_core.domain.codes import ISO_639_1, US_STATES, WEEKDAYS
from hod_core.errors import InputError

# One spelling per NPN, a number's own: decimal without leading zeros. Padding
# would make "01000001" and "1000001" two agents, so it is refused.
_NPN = re.compile(r"0|[1-9][0-9]{0,9}")
_PADDED_NPN = re.compile(r"0[0-9]{1,9}")
_ZIP = re.compile(r"[0-9]{5}")
_HHMM = re.compile(r"([01][0-9]|2[0-3]):([0-5][0-9])|24:00")
# A NANP number in E.164: +1, area code and exchange each starting 2-9.
_NANP_E164 = re.compile(r"\+1[2-9][0-9]{2}[2-9][0-9]{6}")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_DATE = re.compile(r"([0-9]{4})-[0-9]{2}-[0-9]{2}")
# RFC 3339 section 5.6 (T and Z in either case); fractions past microseconds are cut.
_INSTANT = re.compile(
    r"(([0-9]{4})-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2})"
    r"(\.[0-9]{1,6})?(?:(?<=\.[0-9]{6})[0-9]{1,3})?"  # up to 9 digits, cut to 6
    r"([Zz]|[+-][0-9]{2}:[0-9]{2})"
)
_WITHOUT_OFFSET = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]+)?)?"
)
_YEARS = f"years {limits.MIN_YEAR} to {limits.MAX_YEAR}"


def npn(value: str) -> str:
    if isinstance(value, str) and _NPN.fullmatch(value):
        return value
    if isinstance(value, str) and _PADDED_NPN.fullmatch(value):
        raise InputError(
            "NPN must not start with 0 (write it without padding), got {value}", value=value
        )
    raise InputError("NPN must be 1 to 10 digits as a string, got {value}", value=value)


# Codes repeat across every agent; interning keeps one string object per code
# instead of one per occurrence (tens of MB at 100k agents).


def zip_code(value: str) -> str:
    if not isinstance(value, str) or not _ZIP.fullmatch(value):
        raise InputError("ZIP must be 5 digits as a string, got {value}", value=value)
    return sys.intern(str(value))


def _spellings(codes: frozenset[str]) -> dict[str, str]:
    """Every letter case of every code -> the code: "tx", "Tx", "tX", "TX" -> "TX"."""
    return {
        "".join(letters): sys.intern(code)
        for code in codes
        for letters in product(*((c.lower(), c.upper()) for c in code))
    }


_STATE_SPELLINGS = _spellings(US_STATES)
_LANGUAGE_SPELLINGS = _spellings(ISO_639_1)


def state(value: str) -> str:
    """A USPS state code; "tx" is read as "TX"."""
    code = _STATE_SPELLINGS.get(value) if isinstance(value, str) else None
    if code is None:
        raise InputError(
            "unknown state code {value} (expected a USPS code such as TX)", value=value
        )
    return code


def language(value: str) -> str:
    """An ISO 639-1 code; "ES" is read as "es"."""
    code = _LANGUAGE_SPELLINGS.get(value) if isinstance(value, str) else None
    if code is None:
        raise InputError(
            "unknown language code {value} (expected ISO 639-1, e.g. en, es)", value=value
        )
    return code


def text(value: str, what: str, most: int) -> str:
    """A free-text field: a string of at most `most` characters, none of them
    a control or bidi character (rule P3: they would reach emails, texts and pages)."""
    if not isinstance(value, str):
        raise InputError(f"{what} must be text, got {{value}}", value=value)
    if len(value) > most:
        raise InputError(f"{what} longer than {most} characters ({len(value):,})")
    if limits.FORBIDDEN_CHARS.search(value):
        raise InputError(
            f"{what} contains a control or bidi character ({limits.forbidden_char(value)})"
        )
    return value


# Lines of authority are a few dozen names repeated across every licence:
# each distinct one is checked once (and interned) per process.
_LINES_OF_AUTHORITY: dict[str, str] = {}


def line_of_authority(value: str) -> str:
    known = _LINES_OF_AUTHORITY.get(value) if type(value) is str else None
    if known is not None:
        return known
    text(value, "a line of authority", limits.LINE_OF_AUTHORITY_CHARS)
    if not value.strip():
        raise InputError("a line of authority is a non-empty name, got {value}", value=value)
    if len(_LINES_OF_AUTHORITY) >= 4096:  # bounded, whatever a file holds
        _LINES_OF_AUTHORITY.clear()
    known = _LINES_OF_AUTHORITY[value] = sys.intern(str(value))
    return known


def weekday(value: str) -> str:
    if value not in WEEKDAYS:
        raise InputError(
            f"unknown weekday {{value}} (expected one of {', '.join(WEEKDAYS)})", value=value
        )
    return value


def name(value: str) -> str:
    if not text(value, "a name", limits.NAME_CHARS).strip():
        raise InputError("a name must not be empty")
    return value.strip()


def street_address(value: str | None) -> str | None:
    return None if value is None else text(value, "a street address", limits.STREET_ADDRESS_CHARS)


def email(value: str) -> str:
    """An address SMTP can carry (RFC 5321 lengths); never quoted in errors."""
    text(value, "an email address", limits.EMAIL_CHARS)
    if not _EMAIL.fullmatch(value):
        raise InputError("not an email address (expected name@example.com)")
    if len(value.encode()) > limits.EMAIL_CHARS:
        raise InputError(f"an email address longer than {limits.EMAIL_CHARS} bytes (RFC 5321)")
    if len(value.rpartition("@")[0].encode()) > limits.EMAIL_LOCAL_CHARS:
        raise InputError(
            f"the part before @ is longer than {limits.EMAIL_LOCAL_CHARS} bytes (RFC 5321)"
        )
    return value


def phone(value: str) -> str:
    """Normalise to E.164; numbers without a country code are read as US."""
    if type(value) is str and _NANP_E164.fullmatch(value):
        return value  # the common, canonical case: skip the parser
    text(value, "a phone number", limits.PHONE_CHARS)
    try:
        parsed = phonenumbers.parse(value, "US")
    except phonenumbers.NumberParseException:
        parsed = None
    if parsed is None or not phonenumbers.is_possible_number(parsed):
        raise InputError("not a phone number")
    normalised = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    if normalised.startswith("+1") and not _NANP_E164.fullmatch(normalised):
        raise InputError("not a valid US phone number (area code and exchange start with 2-9)")
    return normalised


@cache
def _zone_names() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def zone_name(value: str | None) -> str | None:
    if value is not None and (type(value) is not str or value not in _zone_names()):
        raise InputError("unknown IANA time zone {value} (e.g. America/Chicago)", value=value)
    return None if value is None else sys.intern(str(value))


def minutes_of_day(value: str) -> int:
    """'HH:MM' (00:00 to 24:00) -> minutes since local midnight."""
    if not isinstance(value, str) or not _HHMM.fullmatch(value):
        raise InputError("not a local time HH:MM (00:00 to 24:00): {value}", value=value)
    hours, minutes = value.split(":")
    return int(hours) * 60 + int(minutes)


def hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def iso_date(value: str) -> date:
    """A calendar date written YYYY-MM-DD, nothing else (no 20271231, no 2026-W48-1)."""
    if type(value) is not str or not _DATE.fullmatch(value):
        raise InputError("not a date YYYY-MM-DD: {value}", value=value)
    return _date(value)


@lru_cache(maxsize=8192)
def _date(value: str) -> date:
    """Dates repeat (licence expiries): one object per distinct date."""
    if not limits.MIN_YEAR <= int(value[:4]) <= limits.MAX_YEAR:
        raise InputError(f"date outside {_YEARS}: {{value}}", value=value)
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InputError("not a date YYYY-MM-DD: {value}", value=value) from None


def instant(value: str | datetime) -> datetime:
    """An RFC 3339 date-time with a UTC offset (or an aware datetime), kept in UTC."""
    if isinstance(value, datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            raise InputError("date-time needs a UTC offset")
        if not limits.MIN_YEAR <= value.year <= limits.MAX_YEAR:
            raise InputError(f"date-time outside {_YEARS}")
        return value.astimezone(UTC)
    return rfc3339(value)


def rfc3339(value: str) -> datetime:
    """`2026-11-23T15:00:00-06:00` or `...Z` (RFC 3339), kept in UTC."""
    shape = _INSTANT.fullmatch(value) if type(value) is str else None
    if shape is None:
        if type(value) is str and _WITHOUT_OFFSET.fullmatch(value):
            raise InputError(
                "date-time needs a UTC offset (e.g. -05:00 or Z): {value}", value=value
            )
        raise InputError(
            "not an RFC 3339 date-time (YYYY-MM-DDTHH:MM:SS and Z or +-HH:MM): {value}",
            value=value,
        )
    if not limits.MIN_YEAR <= int(shape[2]) <= limits.MAX_YEAR:
        raise InputError(f"date-time outside {_YEARS}: {{value}}", value=value)
    written = f"{shape[1]}{shape[3] or ''}{shape[4]}".upper()
    try:
        parsed = datetime.fromisoformat(written)
    except ValueError:  # a month 13, a 25th hour, an offset of 24 hours
        raise InputError("not a valid date-time: {value}", value=value) from None
    return parsed.astimezone(UTC)
