"""Why a record is not a model: one InputError naming the first bad field.

The wire format structures with a fast converter; only when that fails is
the input structured again here, with cattrs' detailed validation, to name
the exact field path (`availability.weekly.mon[0]`). Oversized, too deep or
non-JSON input is said first (limits), and a consumer's contact data is
never quoted: a field marked private (rule P1) shows only the kind of value.
"""

from __future__ import annotations

import re
import typing
from collections.abc import Mapping
from typing import Any, get_args

import attrs
import cattrs

from hod_core.domain import limits
from hod_core.errors import InputError

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


def explain(
    detailed: cattrs.Converter, data: Any, cls: type, *, source: str, line: int | None
) -> InputError:
    """Why `data` is not a `cls`: structured again by the `detailed` converter,
    the first bad field path and what is wrong with it, in one InputError."""
    try:
        limits.check_structure(data)  # too deep, too big, not JSON: say so first
    except InputError as exc:  # its path stops at a private field: no keys from inside
        field = _private_prefix(cls, exc.field) or exc.field
        return InputError(exc.message, field=field, source=source, line=line)
    except Exception:  # noqa: BLE001 - a mapping that fails to list its items
        return InputError("not plain JSON data", source=source, line=line)
    if not isinstance(data, Mapping):
        return InputError(f"expected a JSON object for {cls.__name__}", source=source, line=line)
    leaves: list[BaseException] = []

    def keep(leaf: BaseException, type_) -> str:
        leaves.append(leaf)
        return _format(leaf, type_)

    try:
        detailed.structure(data, cls)
    except Exception as failure:  # noqa: BLE001 - every structuring failure is reported
        first = cattrs.transform_error(failure, path="", format_exception=keep)[0]
    else:  # the fast converter refused what the detailed one takes: a bug, said plainly
        return InputError(f"cannot be read as {cls.__name__}", source=source, line=line)
    leaf = leaves[0]
    text, _, path = first.rpartition(" @ ")
    inner_field, _, message = text.partition("\0")
    path = _KEY.sub(r".\1", path).lstrip(".").replace("$", "")
    field = ".".join(p for p in (path.lstrip("."), inner_field) if p).replace(".[", "[")
    for pattern, wire_name in _WIRE_NAMES:
        field = pattern.sub(wire_name, field)
    private = _private_prefix(cls, field) is not None
    if isinstance(leaf, InputError):
        return InputError(
            leaf.template,
            field=field,
            source=source,
            line=line,
            value=leaf.value,
            private=leaf.private or private,
        )
    if isinstance(leaf, TypeError | AttributeError):
        # A Python type error says little to a person: say what was found instead.
        found = _value_at(data, field)
        if found is None:
            return InputError("must not be null", field=field, source=source, line=line)
        return InputError(
            "wrong kind of value: {value}",
            field=field,
            source=source,
            line=line,
            value=found,
            private=private,
        )
    return InputError(message or "not valid", field=field, source=source, line=line)


def _private_prefix(cls: Any, field: str) -> str | None:
    """The path to the private field (a consumer's contact data) on `field`'s path, if any."""
    steps = []
    for step in _STEP.finditer(field):
        steps.append(step.group())
        name = step.group(1)
        if name is None:
            continue
        found = attrs.fields_dict(cls).get(name) if attrs.has(cls) else None
        if found is None:
            return None
        if found.metadata.get("private"):
            return "".join(steps).lstrip(".")
        kind = typing.get_type_hints(cls).get(name)
        cls = next((t for t in (kind, *get_args(kind)) if attrs.has(t)), None)
    return None


_STEP = re.compile(r"\.?([^.\[\]]+)|\[(\d+)\]")


def _value_at(data: Any, field: str) -> Any:
    """The raw JSON value at a field path such as licenses[0].state (None if absent)."""
    for name, index in _STEP.findall(field):
        try:
            data = data[int(index)] if index else data[name]
        except (KeyError, IndexError, TypeError):
            return None
    return data
