"""The JSON wire format (SPEC section 7): one cattrs converter, both ways.

Structuring runs on a fast converter first; only when that fails is the input
structured again with cattrs' detailed validation, so that the one error a
person sees names the exact field path (`availability.weekly.mon[0]`) without
paying for path tracking on every good record.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any, TypeVar, get_origin

import cattrs
from cattrs.gen import make_dict_structure_fn, make_dict_unstructure_fn, override

from . import validate
from .bulk import gc_paused
from .errors import InputError
from .models import (
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

T = TypeVar("T")


def _strict(kind: type, name: str):
    def structure(value, _type):
        # bool is an int in Python; JSON true is not a number here.
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise InputError(f"expected {name}, got {json.dumps(value)}")
        return value

    return structure


def _interval(value, _type) -> Interval:
    if not isinstance(value, list | tuple) or len(value) != 2:
        raise InputError(f'expected ["HH:MM", "HH:MM"], got {json.dumps(value)}')
    return Interval(validate.minutes_of_day(value[0]), validate.minutes_of_day(value[1]))


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
    conv.register_structure_hook(int, _strict(int, "a whole number"))
    conv.register_structure_hook(float, lambda v, _: float(_strict(int | float, "a number")(v, _)))
    conv.register_structure_hook(date, lambda v, _: validate.iso_date(v))
    conv.register_structure_hook(datetime, lambda v, _: validate.instant(v))
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
    conv.register_structure_hook_func(
        lambda t: get_origin(t) is tuple, lambda v, t: conv._structure_tuple(_list(v), t)
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


def _share_repeated_values(conv: cattrs.Converter) -> None:
    """Return one shared object for values that many agents repeat.

    At national scale most agents share a handful of weekly-hours templates
    and the same few licences and participation records; the models are
    frozen, so sharing them is safe and cuts memory several-fold. Only the
    fast converter shares: a value that fails validation is never cached.
    """
    keys = {
        Availability: lambda v: json.dumps(v, sort_keys=True),
        License: lambda v: (
            v["state"],
            tuple(v["lines_of_authority"]),
            v.get("active", True),
            v.get("expires_on"),
            len(v),
        ),
        Participation: lambda v: tuple(sorted(v.items())),
    }
    for cls, key_of in keys.items():
        conv.register_structure_hook(cls, _shared(conv.get_structure_hook(cls), key_of))


def _shared(structure_fn, key_of, most: int = 50_000):
    cache: dict = {}

    def structure(value, cls):
        try:
            key = key_of(value)
            hit = cache.get(key)
        except (KeyError, TypeError, AttributeError, ValueError):  # malformed: let validation speak
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
        raise InputError(f"expected a list, got {json.dumps(value)}")
    return value


def _get(mapping: Any, key: str):
    if not isinstance(mapping, dict):
        raise InputError(f"expected an object, got {json.dumps(mapping)}")
    if key not in mapping:
        raise InputError(f"required field {key!r} missing")
    return mapping[key]


converter = make_converter(detailed=False)
_detailed = make_converter(detailed=True)

_KEY = re.compile(r"\['([^']*)'\]")
# Attribute names that differ from the wire's (from/to are Python keywords).
_WIRE_NAMES = (
    (re.compile(r"(out_of_office\[\d+\])\.start"), r"\1.from"),
    (re.compile(r"(out_of_office\[\d+\])\.end"), r"\1.to"),
)


def _format(exc: BaseException, _type) -> str:
    if isinstance(exc, InputError):
        return f"{exc.field}\0{exc.message}"
    if isinstance(exc, KeyError):
        return "\0required field missing"
    if isinstance(exc, cattrs.ForbiddenExtraKeysError):
        return f"\0unknown field(s): {', '.join(sorted(exc.extra_fields))}"
    return f"\0{exc}"


def _explain(exc: Exception, data: Any, cls: type, source: str, line: int | None) -> InputError:
    """Re-structure with detailed validation and name the first bad field path."""
    if not isinstance(data, dict):
        return InputError(f"expected a JSON object for {cls.__name__}", source=source, line=line)
    try:
        _detailed.structure(data, cls)
    except Exception as detailed:  # noqa: BLE001 - every structuring failure is reported
        exc = detailed
    first = cattrs.transform_error(exc, path="", format_exception=_format)[0]
    text, _, path = first.rpartition(" @ ")
    inner_field, _, message = text.partition("\0")
    path = _KEY.sub(r".\1", path).lstrip(".").replace("$", "")
    field = ".".join(p for p in (path.lstrip("."), inner_field) if p).replace(".[", "[")
    for pattern, wire_name in _WIRE_NAMES:
        field = pattern.sub(wire_name, field)
    if isinstance(exc_leaf(exc), TypeError | AttributeError):
        # A Python type error says little to a person: say what was found instead.
        found = _value_at(data, field)
        message = (
            f"wrong kind of value: {json.dumps(found)}" if found is not None else "must not be null"
        )
    return InputError(message or str(exc), field=field, source=source, line=line)


def exc_leaf(exc: BaseException) -> BaseException:
    """The first innermost exception of a cattrs exception group."""
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    return exc


_STEP = re.compile(r"\.?([^.\[\]]+)|\[(\d+)\]")


def _value_at(data: Any, field: str) -> Any:
    """The raw JSON value at a field path such as licenses[0].state (None if absent)."""
    for name, index in _STEP.findall(field):
        try:
            data = data[int(index)] if index else data[name]
        except (KeyError, IndexError, TypeError):
            return None
    return data


def structure(data: Any, cls: type[T], *, source: str = "", line: int | None = None) -> T:
    """Build a model from JSON data; on failure one InputError naming the field."""
    try:
        return converter.structure(data, cls)
    except Exception as exc:  # noqa: BLE001 - bad input of any shape becomes InputError
        raise _explain(exc, data, cls, source, line) from None


def unstructure(obj: Any) -> Any:
    return converter.unstructure(obj)


def parse_json(text: str, *, source: str = "", line: int | None = None) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        return _raise(f"not valid JSON: {exc.msg} (column {exc.colno})", source, line or exc.lineno)


def _raise(message: str, source: str, line: int | None):
    raise InputError(message, source=source, line=line)


def read_json(path: str | Path, cls: type[T]) -> T:
    """One JSON object from a file (e.g. a consumer request)."""
    path = Path(path)
    text = _read_text(path)
    return structure(parse_json(text, source=path.name), cls, source=path.name)


def read_jsonl(path: str | Path, cls: type[T]) -> Iterator[tuple[int, T]]:
    """(line number, object) for each non-blank line of a JSONL file, streamed."""
    path = Path(path)
    try:
        with path.open(encoding="utf-8") as lines:
            for number, text in enumerate(lines, start=1):
                if text.strip():
                    data = parse_json(text, source=path.name, line=number)
                    yield number, structure(data, cls, source=path.name, line=number)
    except FileNotFoundError:
        raise InputError("file not found", source=str(path)) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(
            f"cannot read: {getattr(exc, 'strerror', None) or exc}", source=str(path)
        ) from None


def read_jsonl_all(path: str | Path, cls: type[T]) -> list[tuple[int, T]]:
    """Every (line number, object) of a JSONL file, read as one bulk load."""
    with gc_paused():
        return list(read_jsonl(path, cls))


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError("file not found", source=str(path)) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read: {exc}", source=str(path)) from None


__all__ = ["converter", "read_json", "read_jsonl", "read_jsonl_all", "structure", "unstructure"]
