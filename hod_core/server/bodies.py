"""Request bodies in: JSON or a form post, bounded, as plain data for the wire format.

The byte limit (`max_body_bytes`) is enforced as the body arrives, by the
guard middleware; the JSON is then read by the library's one bounded reader
(`hod_core.domain.limits`): strict UTF-8, no duplicate keys, bounded depth, entries
and numbers. Whatever is wrong is an `InputError` (422), never a 500.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request

from hod_core.domain import limits
from hod_core.errors import InputError

FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
MAX_FORM_FIELDS = 50


async def read_json(request: Request) -> Any:
    """The JSON body of `request`, parsed with limits."""
    if _content_type(request) in FORM_TYPES:  # its stream may be read already, as a form
        raise InputError("expected JSON (Content-Type: application/json), not a form")
    most = request.app.state.hod.settings.max_body_bytes
    return limits.parse_json_bytes(await request.body(), most=most)


async def read_object(request: Request) -> dict[str, Any]:
    """A JSON object body (use as a dependency: `body: dict = Depends(read_object)`)."""
    data = await read_json(request)
    if not isinstance(data, dict):
        raise InputError("expected a JSON object")
    return data


async def read_data(request: Request) -> dict[str, Any]:
    """A JSON object, or a form post's fields as one (the consumer's page posts a form)."""
    if _content_type(request) not in FORM_TYPES:
        return await read_object(request)
    form = await request.form(max_files=0, max_fields=MAX_FORM_FIELDS)
    data: dict[str, Any] = {}
    for key, value in form.multi_items():
        if not isinstance(value, str):
            raise InputError("file uploads are not accepted", field=_safe_key(key))
        if key in data:
            raise InputError("given more than once", field=_safe_key(key))
        data[key] = value
    return limits.check_structure(data)


def _content_type(request: Request) -> str:
    return request.headers.get("content-type", "").split(";")[0].strip().lower()


def _safe_key(key: str) -> str:
    """A form's key as a field name, if it looks like one (a key could be anything typed)."""
    return key if key.isidentifier() and len(key) <= 40 else ""
