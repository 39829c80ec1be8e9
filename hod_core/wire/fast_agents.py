"""A fast reader for agent records that accepts only what `wire` accepts.

Reading 100k agents through the JSON module and the cattrs converter takes
about 5 s, nearly all of it per-field Python calls. Here msgspec decodes a
line in C into a strict mirror of the wire shape (`_Line`): exact JSON
types (`true` is not 1, `2026.0` is not 2026), no unknown key, the codes
only in their canonical spelling, and the agent's own text fields checked
together by one pattern (`_SCALARS`) that takes a subset of what the
validators in `validate` take, spelled as they would return it. Values
that thousands of agents repeat (participation, availability, lines of
authority, expiry dates) are checked once each and shared, as `wire` shares
them: by the wire's own converter, or for availability by msgspec into the
wire's shape and the models' own constructors (`_hours`).

Anything this path is not sure of (a spelling `wire` would normalise, a
key given twice, a bad value of any kind) raises `NotSure`, and `wire`
reads that line the reference way: the record is accepted or refused by
the same code, with the same message. So this path may refuse more than
`wire`, never less, and builds an equal `Agent`; tests/test_wire_fast.py
compares the two on valid, mutated and hostile records.
"""

from __future__ import annotations

import re
import sys
from typing import Annotated, Literal

import msgspec

from hod_core.domain import limits, validate
from hod_core.domain.codes import ISO_639_1, US_STATES
from hod_core.domain.models import (
    Agent,
    Availability,
    Break,
    ContactMethod,
    DisplayOption,
    License,
    OutOfOffice,
    Participation,
    TodayOverride,
)
from hod_core.wire.converter import converter, interval

_UNSET = msgspec.UNSET
# The characters every text field refuses, as the body of a [...] class.
_FORBIDDEN = limits.FORBIDDEN_CHARS.pattern[1:-1]
if limits.FORBIDDEN_CHARS.pattern != f"[{_FORBIDDEN}]" or "]" in _FORBIDDEN:
    raise ImportError("limits.FORBIDDEN_CHARS is not one [...] class: update fast_agents")
# Canonical spellings only: "tx" or "ES" go to wire, which normalises them.
_State = Literal[tuple(sorted(validate.state(s) for s in US_STATES))]
_Language = Literal[tuple(sorted(validate.language(c) for c in ISO_639_1))]
# A name as validate.name returns it: stripped already, so it is unchanged.
_NAME = rf"[^\s{_FORBIDDEN}](?:[^{_FORBIDDEN}]{{0,{limits.NAME_CHARS - 2}}}[^\s{_FORBIDDEN}])?"
# npn, names, email, phone, zip and street address joined by NUL (which
# each of them refuses) and checked in one call instead of seven. The email
# part is a subset of validate.email's: ASCII only, so characters are bytes.
_SCALARS = re.compile(
    r"(?:0|[1-9][0-9]{0,9})"
    rf"\0{_NAME}\0{_NAME}"
    rf"\0(?=[^\0]{{1,{limits.EMAIL_CHARS}}}\0)"
    rf"[A-Za-z0-9._%+-]{{1,{limits.EMAIL_LOCAL_CHARS}}}@[A-Za-z0-9.-]+\.[A-Za-z0-9-]+"
    r"\0\+1[2-9][0-9]{2}[2-9][0-9]{6}"
    r"\0[0-9]{5}"
    rf"\0[^{_FORBIDDEN}]{{0,{limits.STREET_ADDRESS_CHARS}}}"  # (None and UNSET pass too)
)
_Items = msgspec.Meta(max_length=limits.MAX_ITEMS)


class _License(msgspec.Struct, forbid_unknown_fields=True, gc=False):
    state: _State
    lines_of_authority: Annotated[tuple[str, ...], _Items]
    active: bool = _UNSET
    expires_on: str | None = _UNSET


class _Participation(msgspec.Struct, forbid_unknown_fields=True, frozen=True, gc=False):
    plan_year: int
    hod_training: bool
    npn_on_ffm_list: bool
    terms_accepted: bool


class _Line(msgspec.Struct, forbid_unknown_fields=True, gc=False):
    """One agents JSONL line as decoded; UNSET marks a key the line leaves out."""

    npn: str
    first_name: str
    last_name: str
    email: str
    phone: str
    zip: str
    home_state: _State
    display_option: DisplayOption
    licenses: Annotated[list[_License], _Items]
    languages: Annotated[tuple[_Language, ...], msgspec.Meta(min_length=1), _Items]
    contact_method: ContactMethod
    participation: _Participation
    street_address: str | None = _UNSET
    state_preferences: Annotated[list[_State], _Items] | None = _UNSET
    suspended: bool = _UNSET
    reinstated_at: str | None = _UNSET
    timezone: str | None = _UNSET
    availability: msgspec.Raw = _UNSET  # read by wire, once per distinct text


_DECODER = msgspec.json.Decoder(_Line)
# A line's keys: the required fields, plus each optional one it gives (counted
# by name in agent_from_line: cheaper than a tuple of every field per line).
_OPTIONAL = _Line.__struct_fields__[len(_Line.__struct_fields__) - len(_Line.__struct_defaults__) :]
_REQUIRED = len(_Line.__struct_fields__) - len(_OPTIONAL)
if _OPTIONAL != (
    "street_address",
    "state_preferences",
    "suspended",
    "reinstated_at",
    "timezone",
    "availability",
):
    raise ImportError("fast_agents._Line's optional fields do not match agent_from_line's count")
_PARTICIPATION_KEYS = len(_Participation.__struct_fields__)


class NotSure(Exception):
    """This path cannot vouch for the line: let wire read it."""


def _by_wire(cls: type, value):
    """`value` as the one converter reads it (the wire's own checks), or NotSure."""
    try:
        return converter.structure(value, cls)
    except Exception:  # noqa: BLE001 - any doubt: wire reads the whole line
        raise NotSure from None


class _Shared(dict):
    """Values many agents repeat, each read once by wire and then shared;
    bounded, whatever a file holds."""

    def __init__(self, read, most: int):
        super().__init__()
        self.read = read
        self.most = most

    def __missing__(self, key):
        value = self.read(key)
        if len(self) >= self.most:
            self.clear()
        self[key] = value
        return value


class _Break(msgspec.Struct, forbid_unknown_fields=True, gc=False):
    start: str
    end: str
    days: Annotated[list[str], _Items] | None = _UNSET


class _Today(msgspec.Struct, forbid_unknown_fields=True, gc=False):
    date: str
    on: bool
    since: str | None = _UNSET
    until: str | None = _UNSET


class _Away(msgspec.Struct, forbid_unknown_fields=True, gc=False, rename={"end": "to"}):
    start: str = msgspec.field(name="from")
    end: str | None = _UNSET


class _Hours(msgspec.Struct, forbid_unknown_fields=True, gc=False):
    """An availability as decoded, in the wire's shape."""

    weekly: dict[str, Annotated[list[tuple[str, str]], _Items]] | None = _UNSET
    breaks: Annotated[list[_Break], _Items] = _UNSET
    today: _Today | None = _UNSET
    out_of_office: Annotated[list[_Away], _Items] = _UNSET


_HOURS_DECODER = msgspec.json.Decoder(_Hours)


def _read_availability(text: bytes) -> tuple[Availability, int, int]:
    """Weekly hours, with the counts of '":' and of ':' in their text (see _no_key_twice)."""
    try:
        availability = _hours(text)
        if availability is None:
            data = limits.parse_json(text.decode())  # the parser wire uses: a key twice is refused
            availability = converter.structure(data, Availability)
    except Exception:  # noqa: BLE001 - any doubt: wire reads the whole line
        raise NotSure from None
    return availability, text.count(b'":'), text.count(b":")


def _hours(text: bytes) -> Availability | None:
    """An availability by msgspec and the models' own constructors and checks
    (a fifth of the time), or None when the text may hold a key twice
    (msgspec keeps the last; wire refuses) or is not in the wire's shape."""
    try:
        hours = _HOURS_DECODER.decode(text)
    except Exception:  # noqa: BLE001 - not this shape (or not JSON): the other path decides
        return None
    weekly, breaks, today, away = hours.weekly, hours.breaks, hours.today, hours.out_of_office
    keys = _present(weekly, breaks, today, away)
    if type(weekly) is dict:
        keys += len(weekly)
        weekly = {day: tuple(map(_INTERVALS.__getitem__, spans)) for day, spans in weekly.items()}
    elif weekly is _UNSET:
        weekly = None
    breaks = () if breaks is _UNSET else breaks
    away = () if away is _UNSET else away
    keys += sum(2 + (b.days is not _UNSET) for b in breaks)
    keys += sum(1 + (a.end is not _UNSET) for a in away)
    if type(today) is _Today:
        keys += 2 + _present(today.since, today.until)
        today = TodayOverride(
            validate.iso_date(today.date),
            today.on,
            _instant_or_none(today.since),
            _instant_or_none(today.until),
        )
    elif today is _UNSET:
        today = None
    # Without a backslash a '":' ends a key and nothing else: as many as decoded, none twice.
    if b"\\" in text or text.count(b'":') != keys:
        return None
    return Availability(
        weekly=weekly,
        breaks=[
            Break(
                validate.minutes_of_day(b.start),
                validate.minutes_of_day(b.end),
                None if b.days is _UNSET else b.days,
            )
            for b in breaks
        ],
        today=today,
        out_of_office=[
            OutOfOffice(validate.rfc3339(a.start), _instant_or_none(a.end)) for a in away
        ],
    )


def _present(*values) -> int:
    return sum(value is not _UNSET for value in values)


def _instant_or_none(value: str | None | msgspec.UnsetType):
    return None if value is None or value is _UNSET else validate.rfc3339(value)


def _read_lines_of_authority(names: tuple) -> tuple[tuple[str, ...], int]:
    try:
        checked = tuple([validate.line_of_authority(name) for name in names])
    except Exception:  # noqa: BLE001
        raise NotSure from None
    return checked, sum(name.count(":") for name in names)


def _read_date(text: str):
    try:
        return validate.iso_date(text)
    except Exception:  # noqa: BLE001
        raise NotSure from None


_AVAILABILITY = _Shared(_read_availability, 20_000)
_INTERVALS = _Shared(lambda span: interval(*span), 4_096)  # span: ("HH:MM", "HH:MM")
_PARTICIPATION = _Shared(lambda p: _by_wire(Participation, msgspec.to_builtins(p)), 1_000)
_LINES_OF_AUTHORITY = _Shared(_read_lines_of_authority, 4_096)
_DATES = _Shared(_read_date, 8_192)
_LANGUAGES = _Shared(lambda codes: codes, 1_000)  # checked by the decoder; one tuple per choice
_NO_AVAILABILITY = (Availability(), 0, 0)
_new = object.__new__
_set = object.__setattr__  # the models are frozen; these values are checked already


def _licenses(decoded: list[_License]) -> tuple[tuple[License, ...], int, int]:
    """The License objects, how many keys their JSON objects hold and how
    many ':' their text values hold."""
    made = []
    keys = 2 * len(decoded)
    colons = 0
    loas, dates = _LINES_OF_AUTHORITY, _DATES
    for one in decoded:
        licence = _new(License)
        _set(licence, "state", one.state)
        names, in_names = loas[one.lines_of_authority]
        _set(licence, "lines_of_authority", names)
        colons += in_names
        active, expires = one.active, one.expires_on
        if active is _UNSET:
            active = True
        else:
            keys += 1
        if expires is _UNSET:
            expires = None
        else:
            keys += 1
            if expires is not None:
                expires = dates[expires]  # a date has no ':'
        _set(licence, "active", active)
        _set(licence, "expires_on", expires)
        made.append(licence)
    return tuple(made), keys, colons


def _no_key_twice(data: bytes, keys: int, colons: int, availability: tuple) -> bool:
    """Whether the line holds no more keys than were decoded (`keys`, outside
    the weekly hours): msgspec keeps the last of a key given twice; wire refuses.

    Without a backslash, a string's bytes are its text: every ':' of the
    line is then a key's, or in a text value (`colons` of them, counted
    in the decoded values), or in the weekly hours' own text. With escapes,
    every key ends in '":' unless a quote is followed by a blank, and a '":'
    inside a string only adds to that count."""
    _, quoted, plain = availability
    if b"\\" not in data:
        return data.count(b":") == keys + colons + plain
    blank = b'" ' in data or b'"\t' in data or b'"\r' in data
    return not blank and data.count(b'":') == keys + quoted


def agent_from_line(data: bytes, texts: dict[str, str] | None = None) -> Agent:
    """The Agent on one line of JSON, or NotSure (then wire decides, and words any error).

    `texts`, kept by the caller across one file's lines, shares the street
    addresses agents repeat (an agency's office): one string each, where
    100k agents would otherwise hold 100k."""
    try:
        line = _DECODER.decode(data)
    except Exception:  # noqa: BLE001 - DecodeError, RecursionError (deep nesting): wire says
        raise NotSure from None
    street = line.street_address
    joined = f"{line.npn}\0{line.first_name}\0{line.last_name}\0{line.email}\0{line.phone}\0{line.zip}\0{street}"
    if _SCALARS.fullmatch(joined) is None:
        raise NotSure
    licenses, keys, colons = _licenses(line.licenses)
    raw = line.availability
    availability = _NO_AVAILABILITY if raw is _UNSET else _AVAILABILITY[bytes(raw)]
    keys += _REQUIRED + _PARTICIPATION_KEYS + (street is not _UNSET) + (raw is not _UNSET)
    keys += line.state_preferences is not _UNSET
    keys += line.suspended is not _UNSET
    colons += joined.count(":")
    at, zone = line.reinstated_at, line.timezone
    keys += (at is not _UNSET) + (zone is not _UNSET)
    if type(at) is str:
        colons += at.count(":")
        at = _checked(_instant, at)
    else:
        at = None
    if type(zone) is str:
        colons += zone.count(":")
        zone = _checked(validate.zone_name, zone)
    else:
        zone = None
    if not _no_key_twice(data, keys, colons, availability):
        raise NotSure
    agent = _new(Agent)
    _set(agent, "npn", line.npn)
    _set(agent, "first_name", sys.intern(line.first_name))  # first names repeat: one object each
    _set(agent, "last_name", line.last_name)
    _set(agent, "email", line.email)
    _set(agent, "phone", line.phone)
    _set(agent, "zip", sys.intern(line.zip))
    _set(agent, "home_state", line.home_state)
    _set(agent, "display_option", line.display_option)
    _set(agent, "licenses", licenses)
    _set(agent, "languages", _LANGUAGES[line.languages])
    _set(agent, "contact_method", line.contact_method)
    _set(agent, "participation", _PARTICIPATION[line.participation])
    if street is _UNSET:
        street = None
    elif texts is not None:
        street = texts.setdefault(street, street)
    _set(agent, "street_address", street)
    preferences = line.state_preferences  # a list, None or UNSET
    _set(agent, "state_preferences", frozenset(preferences) if type(preferences) is list else None)
    _set(agent, "suspended", False if line.suspended is _UNSET else line.suspended)
    _set(agent, "reinstated_at", at)
    _set(agent, "timezone", zone)
    _set(agent, "availability", availability[0])
    return agent


def _checked(check, value):
    try:
        return check(value)
    except Exception:  # noqa: BLE001
        raise NotSure from None


def _instant(text: str):
    return validate.instant(validate.rfc3339(text))
