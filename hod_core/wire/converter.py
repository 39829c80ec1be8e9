"""The one cattrs converter between JSON data and the models, and its errors.

Structuring runs on a fast converter first; only when that fails is the input
structured again with cattrs' detailed validation (field_errors.py), so that the one error a
person sees names the exact field path (`availability.weekly.mon[0]`) without
paying for path tracking on every good record.

Types are strict, for files and for the Python API alike: JSON values only
(a subclass of str, int, list or dict counts as one; a tuple, set, bytes or
any other object does not), `true` is not a number and `1` is not `true`.
Bad input of any shape becomes one `InputError`, never a TypeError.

Files are read in files.py; fast_agents.py reads agent lines faster and asks
this converter about the values many agents share.
"""

from __future__ import annotations

import math
from datetime import date, datetime
from typing import Any, TypeVar, get_args, get_origin

import cattrs
from cattrs.gen import make_dict_structure_fn, make_dict_unstructure_fn, override

from hod_core.domain import limits, validate
from hod_core.domain.models import (
    Availability,
    Break,
    ContactMethod,
    DisplayOption,
    Interval,
    License,
    OutOfOffice,
    Participation,
    member,
)
from hod_core.errors import InputError
from hod_core.wire.field_errors import explain

T = TypeVar("T")


def _strict(kind: type, name: str):
    def structure(value, _type):
        # The common case first (an exact str, bool or int), then subclasses;
        # bool is an int in Python, but JSON true is not a number here.
        if type(value) is kind or (
            isinstance(value, kind) and (kind is bool or not isinstance(value, bool))
        ):
            return value
        raise InputError(f"expected {name}, got {{value}}", value=value)

    return structure


def _whole_number(value, _type) -> int:
    if abs(_strict(int, "a whole number")(value, _type)) > limits.MAX_INT:
        raise InputError(f"a whole number beyond +-{limits.MAX_INT}")
    return value


def _number(value, _type) -> float:
    number = float(_strict(int | float, "a number")(value, _type))
    if not math.isfinite(number):
        raise InputError("not a finite number")
    return number


def _interval(value, _type) -> Interval:
    if not isinstance(value, list) or len(value) != 2:
        raise InputError('expected ["HH:MM", "HH:MM"], got {value}', value=value)
    return interval(*value)


def interval(start: str, end: str) -> Interval:
    """An interval from its wire texts "HH:MM" (fast_agents builds them so too)."""
    return Interval(validate.minutes_of_day(start), validate.minutes_of_day(end))


def _break(value, _type) -> Break:
    times = {}
    for key in ("start", "end"):
        try:
            times[key] = validate.minutes_of_day(_get(value, key))
        except InputError as exc:
            raise exc.located(prefix=key) from None
    extra = set(value) - {"start", "end", "days"}
    if extra:
        raise InputError(f"unknown field(s): {', '.join(sorted(extra))}")
    return Break(days=value.get("days"), **times)


def make_converter(*, detailed: bool) -> cattrs.Converter:
    conv = cattrs.Converter(detailed_validation=detailed, forbid_extra_keys=True)
    conv.register_structure_hook(str, _strict(str, "a string"))
    conv.register_structure_hook(bool, _strict(bool, "true or false"))
    conv.register_structure_hook(int, _whole_number)
    conv.register_structure_hook(float, _number)
    conv.register_structure_hook(date, lambda v, _: validate.iso_date(v))
    conv.register_structure_hook(datetime, lambda v, _: validate.rfc3339(v))
    conv.register_unstructure_hook(date, date.isoformat)
    conv.register_unstructure_hook(datetime, datetime.isoformat)
    conv.register_structure_hook(Interval, _interval)
    conv.register_unstructure_hook(
        Interval, lambda i: [validate.hhmm(i.start), validate.hhmm(i.end)]
    )
    conv.register_structure_hook(Break, _break)
    # Lists that become sets: keep them lists until the model validates them,
    # so an error can name the position (state_preferences[1]).
    conv.register_structure_hook_func(lambda t: t == frozenset[str], lambda v, _: _list(v))
    # A JSON string is iterable in Python: without this, "en" would become ("e", "n").
    if detailed:  # cattrs' own, which names the index of a bad item
        conv.register_structure_hook_func(
            lambda t: get_origin(t) is tuple, lambda v, t: conv._structure_tuple(_list(v), t)
        )
    else:
        conv.register_structure_hook_factory(
            lambda t: get_origin(t) is tuple, lambda t: _fast_tuple(conv, t)
        )
    for enum_type, what in ((DisplayOption, "display option"), (ContactMethod, "contact method")):
        conv.register_structure_hook(enum_type, lambda v, _, e=enum_type, w=what: member(e, w)(v))
    conv.register_unstructure_hook(
        Break,
        lambda b: {
            "days": None if b.days is None else sorted(b.days),
            "start": validate.hhmm(b.start),
            "end": validate.hhmm(b.end),
        },
    )
    conv.register_unstructure_hook(ContactMethod, lambda m: m.value)
    # Sets go out as sorted lists, also where a field is "a set or null".
    conv.register_unstructure_hook_func(
        lambda t: frozenset in (get_origin(t), t) or frozenset[str] in getattr(t, "__args__", ()),
        lambda v: v if v is None else sorted(v),
    )
    ooo = {"start": override(rename="from"), "end": override(rename="to")}
    conv.register_structure_hook(
        OutOfOffice,
        make_dict_structure_fn(OutOfOffice, conv, _cattrs_forbid_extra_keys=True, **ooo),
    )
    conv.register_unstructure_hook(OutOfOffice, make_dict_unstructure_fn(OutOfOffice, conv, **ooo))
    if not detailed:
        _share_repeated_values(conv)
    return conv


def _fast_tuple(conv: cattrs.Converter, tuple_type: Any):
    """A hook for tuple[X, ...] that looks X's hook up once, not per item.

    Lists of strings (languages, lines of authority) go to the model as
    they are: its converter checks every item anyway."""
    item_type, *rest = get_args(tuple_type)
    if rest != [Ellipsis]:
        return lambda v, t: conv._structure_tuple(_list(v), t)
    if item_type is str:
        return lambda v, _: _list(v)
    hook = conv.get_structure_hook(item_type)
    return lambda v, _: tuple([hook(item, item_type) for item in _list(v)])


def _share_repeated_values(conv: cattrs.Converter) -> None:
    """Return one shared object for values that many agents repeat.

    At national scale most agents share a handful of weekly-hours templates
    and the same few licences and participation records; the models are
    frozen, so sharing them is safe and cuts memory several-fold. Only the
    fast converter shares: a value that fails validation is never cached.

    A key holds every key name and the type of every value that is not a
    string, so that only the same JSON finds a cached object: `1` is not
    `true`, `2026.0` is not `2026`, a tuple is not a list, and a record's
    verdict never depends on the records read before it. Large values (a
    key of None) are not shared: the cache holds templates, not whole files.
    """
    keys = {
        # repr tells 1, 1.0, True and (..) from [..] apart
        Availability: lambda v: key if len(key := repr(v)) <= 4096 else None,
        License: _license_key,
        Participation: lambda v: (tuple(v), tuple(v.values()), tuple(map(type, v.values()))),
    }
    for cls, key_of in keys.items():
        conv.register_structure_hook(cls, _shared(conv.get_structure_hook(cls), key_of))


def _license_key(v: dict) -> tuple | None:
    """Only the canonical shape is shared: a list of a few lines of authority,
    a true/false `active`, no unknown key."""
    loa, active = v["lines_of_authority"], v.get("active", True)
    expected = 2 + ("active" in v) + ("expires_on" in v)
    if type(loa) is not list or len(loa) > 16 or type(active) is not bool or len(v) != expected:
        return None
    return v["state"], tuple(loa), active, v.get("expires_on")


def _shared(structure_fn, key_of, most: int = 50_000):
    cache: dict = {}

    def structure(value, cls):
        try:
            key = key_of(value)
            hit = None if key is None else cache.get(key)
        except (KeyError, TypeError, AttributeError, ValueError, RecursionError):
            key = None  # malformed: let validation speak
        if key is None:
            return structure_fn(value, cls)
        if hit is None:
            hit = structure_fn(value, cls)
            if len(cache) >= most:
                cache.clear()
            cache[key] = hit
        return hit

    return structure


def _list(value: Any) -> list:
    if not isinstance(value, list):
        raise InputError("expected a list, got {value}", value=value)
    if len(value) > limits.MAX_ITEMS:
        raise InputError(f"more than {limits.MAX_ITEMS} entries")
    return value


def _get(mapping: Any, key: str):
    if not isinstance(mapping, dict):
        raise InputError("expected an object, got {value}", value=mapping)
    if key not in mapping:
        raise InputError(f"required field {key!r} missing")
    return mapping[key]


converter = make_converter(detailed=False)
_detailed = make_converter(detailed=True)


def structure(data: Any, cls: type[T], *, source: str = "", line: int | None = None) -> T:
    """Build a model from JSON data; on failure one InputError naming the field."""
    try:
        return converter.structure(data, cls)
    except Exception:  # noqa: BLE001 - bad input of any shape becomes InputError
        raise explain(_detailed, data, cls, source=source, line=line) from None


def unstructure(obj: Any) -> Any:
    return converter.unstructure(obj)


__all__ = ["converter", "make_converter", "structure", "unstructure"]
