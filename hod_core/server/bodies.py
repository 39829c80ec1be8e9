"""Request bodies in: JSON or a form post, bounded, as plain data for the wire format.

The byte limit (`max_body_bytes`) is enforced as the body arrives, by the
guard middleware; here the body is decoded with a bounded parser: nesting
depth, duplicate keys, numbers too long to convert, bad UTF-8 all become an
`InputError` (422), never a RecursionError or a 500.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import Request

from ..errors import InputError

MAX_DEPTH = 32  # the deepest wire shape (an agent's availability) is 5 levels
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


async def read_json(request: Request) -> Any:
    """The JSON body of `request`, parsed with limits."""
    if _content_type(request) in FORM_TYPES:  # its stream may be read already, as a form
        raise InputError("expected JSON (Content-Type: application/json), not a form")
    return parse_json_bytes(await request.body())


def _content_type(request: Request) -> str:
    return request.headers.get("content-type", "").split(";")[0].strip().lower()


async def read_object(request: Request) -> dict[str, Any]:
    """A JSON object body (use as a dependency: `body: dict = Depends(read_object)`)."""
    data = await read_json(request)
    if not isinstance(data, dict):
        raise InputError("expected a JSON object")
    return data


async def read_data(request: Request) -> dict[str, Any]:
    """A JSON object, or a form post's fields as one (the consumer's page posts a form)."""
    if _content_type(request) in FORM_TYPES:
        form = await request.form(max_files=0, max_fields=50)
        data: dict[str, Any] = {}
        for key, value in form.multi_items():
            if not isinstance(value, str):
                raise InputError("file uploads are not accepted", field=_safe_key(key))
            if key in data:
                raise InputError("given more than once", field=_safe_key(key))
            data[key] = value
        return data
    return await read_object(request)


def parse_json_bytes(raw: bytes) -> Any:
    """JSON from bytes: UTF-8, at most MAX_DEPTH deep, no duplicate keys."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"the body is not UTF-8 (byte {exc.start})") from None
    if not text.strip():
        raise InputError("the body is empty: expected JSON")
    if text.count("[") + text.count("{") > MAX_DEPTH:  # else it cannot be too deep
        _check_depth(text)
    try:
        return json.loads(text, object_pairs_hook=_no_duplicates)
    except InputError:
        raise
    except json.JSONDecodeError as exc:
        raise InputError(f"not valid JSON: {exc.msg} (column {exc.colno})") from None
    except (ValueError, RecursionError):  # a number beyond int's digit limit, or too deep
        raise InputError("not valid JSON: a value is too large") from None


def _check_depth(text: str) -> None:
    depth = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                raise InputError(f"JSON nested deeper than {MAX_DEPTH} levels")
        elif char in "]}":
            depth -= 1


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for key, value in pairs:
        if key in data:
            raise InputError("the same key appears twice in one object", field=_safe_key(key))
        data[key] = value
    return data


def _safe_key(key: str) -> str:
    return key if key.isidentifier() and len(key) <= 40 else ""
