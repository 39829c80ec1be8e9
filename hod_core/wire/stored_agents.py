"""Agents read back from a store that wrote them, without validating them a second time.

A store writes an agent in the wire format (`unstructure`) only once it is
a `hod_core.domain.models.Agent`, which exists only once its converters have
passed. Running the validating converter again on every start-up costs
about 28 us per agent (2.8 s of a 100k-agent router's start); this decoder
rebuilds each stored body from its JSON as it was written (the same field
values, types and shared objects, without the checks: 3-4 us per agent).
The SQLite and PostgreSQL stores read their `agents` tables with it.

Use it only on bodies the store itself wrote from `Agent`s: never on input
from outside (a file, a request), which goes through `structure`. A store
offers a setting to validate every stored agent again instead
(`validate_on_load`: after an upgrade that checks agents more strictly, or
for a row edited by hand).

Safe by construction, and by fallback:
- The decoder knows every field of every class it builds, and checks that
  at import: if the models gain or lose a field, `TRUSTED` is False and
  every body goes through the validating converter (one log line).
- A body the decoder cannot rebuild (a key missing, as in a body written
  before a field existed; an unknown display option; a malformed date) goes
  through the validating converter, which fills defaults or refuses it with
  the field named. A row edited by hand into another valid-looking shape is
  trusted as the store's own: `validate_on_load` checks it.
- A test holds the two paths equal on synthetic agents and on agents with
  every optional field set (tests/test_wire_stored_agents.py).

Repeated parts (participation, hours) are shared objects, as `hod_core.wire`
shares them: one per distinct JSON text. Licences are not: at 100k agents
seven in ten are distinct (their expiry dates), and looking them up costs
more than building them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, date, datetime
from functools import lru_cache

import attrs
import orjson

from hod_core.domain.models import (
    Agent,
    Availability,
    Break,
    ContactMethod,
    DisplayOption,
    Interval,
    License,
    OutOfOffice,
    Participation,
    TodayOverride,
)
from hod_core.wire.files import structure

log = logging.getLogger(__name__)

_new = object.__new__
_DISPLAY = {option.value: option for option in DisplayOption}
_CONTACT = {method.value: method for method in ContactMethod}
SHARED_MOST = 50_000  # distinct parts kept per kind; a bulk of unique ones starts over
_CHANGED: list[str] = []  # models whose fields are not the ones this module sets


def _setters(cls: type, names: str) -> list:
    """The slot setters of `cls`'s fields, in the order of `names`, which must
    be all of its fields: else `cls` is noted as changed, and nothing trusted."""
    names = names.split()
    if {f.name for f in attrs.fields(cls)} != set(names):
        _CHANGED.append(cls.__name__)
        return [None] * len(names)
    return [getattr(cls, name).__set__ for name in names]  # past frozen's __setattr__


@lru_cache(maxsize=8192)
def _date(text: str | None) -> date | None:
    return None if text is None else date.fromisoformat(text)


@lru_cache(maxsize=8192)
def _instant(text: str | None) -> datetime | None:
    """Stored instants: kept in UTC, as the validating converter keeps them."""
    return None if text is None else datetime.fromisoformat(text).astimezone(UTC)


@lru_cache(maxsize=1024)
def _minutes(hhmm: str) -> int:
    hours, minutes = hhmm.split(":")
    return int(hours) * 60 + int(minutes)


_L_STATE, _L_LINES, _L_ACTIVE, _L_EXPIRES = _setters(
    License, "state lines_of_authority active expires_on"
)


def _license(d: dict) -> License:
    obj = _new(License)
    _L_STATE(obj, d["state"])
    _L_LINES(obj, tuple(d["lines_of_authority"]))
    _L_ACTIVE(obj, d["active"])
    _L_EXPIRES(obj, _date(d["expires_on"]))
    return obj


_P_YEAR, _P_TRAINING, _P_FFM, _P_TERMS = _setters(
    Participation, "plan_year hod_training npn_on_ffm_list terms_accepted"
)


def _participation(d: dict) -> Participation:
    obj = _new(Participation)
    _P_YEAR(obj, d["plan_year"])
    _P_TRAINING(obj, d["hod_training"])
    _P_FFM(obj, d["npn_on_ffm_list"])
    _P_TERMS(obj, d["terms_accepted"])
    return obj


_I_START, _I_END = _setters(Interval, "start end")
_B_START, _B_END, _B_DAYS = _setters(Break, "start end days")
_T_DATE, _T_ON, _T_SINCE, _T_UNTIL = _setters(TodayOverride, "date on since until")
_O_START, _O_END = _setters(OutOfOffice, "start end")
_V_WEEKLY, _V_BREAKS, _V_TODAY, _V_OOO = _setters(Availability, "weekly breaks today out_of_office")


def _interval(pair: list) -> Interval:
    obj = _new(Interval)
    _I_START(obj, _minutes(pair[0]))
    _I_END(obj, _minutes(pair[1]))
    return obj


def _break(d: dict) -> Break:
    obj = _new(Break)
    _B_START(obj, _minutes(d["start"]))
    _B_END(obj, _minutes(d["end"]))
    _B_DAYS(obj, None if d["days"] is None else frozenset(d["days"]))
    return obj


def _today(d: dict | None) -> TodayOverride | None:
    if d is None:
        return None
    obj = _new(TodayOverride)
    _T_DATE(obj, _date(d["date"]))
    _T_ON(obj, d["on"])
    _T_SINCE(obj, _instant(d["since"]))
    _T_UNTIL(obj, _instant(d["until"]))
    return obj


def _out_of_office(d: dict) -> OutOfOffice:
    obj = _new(OutOfOffice)
    _O_START(obj, _instant(d["from"]))
    _O_END(obj, _instant(d["to"]))
    return obj


def _availability(d: dict) -> Availability:
    weekly = d["weekly"]
    if weekly is not None:
        weekly = {day: tuple(map(_interval, spans)) for day, spans in weekly.items()}
    obj = _new(Availability)
    _V_WEEKLY(obj, weekly)
    _V_BREAKS(obj, tuple(map(_break, d["breaks"])))
    _V_TODAY(obj, _today(d["today"]))
    _V_OOO(obj, tuple(map(_out_of_office, d["out_of_office"])))
    return obj


def _shared(build: Callable[[dict], object]) -> Callable[[dict], object]:
    """One object per distinct part, keyed by its JSON text (orjson: exact types)."""
    cache: dict[bytes, object] = {}

    def get(d: dict):
        key = _dumps(d)
        hit = cache.get(key)
        if hit is None:
            if len(cache) >= SHARED_MOST:
                cache.clear()
            hit = cache[key] = build(d)
        return hit

    return get


_dumps = orjson.dumps
(
    _A_NPN,
    _A_FIRST,
    _A_LAST,
    _A_EMAIL,
    _A_PHONE,
    _A_ZIP,
    _A_HOME,
    _A_DISPLAY,
    _A_LICENSES,
    _A_LANGUAGES,
    _A_CONTACT,
    _A_PARTICIPATION,
    _A_STREET,
    _A_PREFERENCES,
    _A_SUSPENDED,
    _A_REINSTATED,
    _A_TIMEZONE,
    _A_AVAILABILITY,
) = _setters(
    Agent,
    "npn first_name last_name email phone zip home_state display_option licenses languages"
    " contact_method participation street_address state_preferences suspended reinstated_at"
    " timezone availability",
)
TRUSTED = not _CHANGED
if _CHANGED:
    log.warning(
        "the models' fields changed (%s); stored agents are validated again on load",
        ", ".join(_CHANGED),
    )


class StoredAgentDecoder:
    """A store's own JSON body -> Agent, trusted where the shape is the one written.
    One decoder per load: its shared parts live as long as the load.
    `trusted=False` validates every body (a store's `validate_on_load`)."""

    def __init__(self, trusted: bool = True):
        self.trusted = trusted and TRUSTED
        self._participation = _shared(_participation)
        self._availability = _shared(_availability)
        self.validated = 0  # bodies that went through the validating converter

    def __call__(self, body: str | bytes) -> Agent:
        return self.of_data(orjson.loads(body))

    def of_data(self, data: dict) -> Agent:
        """The agent of a body already parsed (a driver's decoded JSON column)."""
        if self.trusted:
            try:
                return self._trusted(data)
            except (KeyError, TypeError, ValueError, AttributeError):
                pass  # not the shape this code writes: validate it, and name the problem
        self.validated += 1
        return structure(data, Agent)

    def _trusted(self, d: dict) -> Agent:
        prefs = d["state_preferences"]
        obj = _new(Agent)
        _A_NPN(obj, d["npn"])
        _A_FIRST(obj, d["first_name"])
        _A_LAST(obj, d["last_name"])
        _A_EMAIL(obj, d["email"])
        _A_PHONE(obj, d["phone"])
        _A_ZIP(obj, d["zip"])
        _A_HOME(obj, d["home_state"])
        _A_DISPLAY(obj, _DISPLAY[d["display_option"]])
        _A_LICENSES(obj, tuple(map(_license, d["licenses"])))
        _A_LANGUAGES(obj, tuple(d["languages"]))
        _A_CONTACT(obj, _CONTACT[d["contact_method"]])
        _A_PARTICIPATION(obj, self._participation(d["participation"]))
        _A_STREET(obj, d["street_address"])
        _A_PREFERENCES(obj, None if prefs is None else frozenset(prefs))
        _A_SUSPENDED(obj, d["suspended"])
        _A_REINSTATED(obj, _instant(d["reinstated_at"]))
        _A_TIMEZONE(obj, d["timezone"])
        _A_AVAILABILITY(obj, self._availability(d["availability"]))
        return obj
