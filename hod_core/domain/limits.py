"""How much any reader takes in, and how bytes become plain data (rule P3).

Every input passes through here: an agents JSONL file, a consumer's JSON, a
rule file's TOML, the dicts a host hands the Python API and the server's
request bodies. One number bounds each kind of input (the constants
below); reaching one is an `InputError` naming the file and line. Readers
stop at a limit: none loads a whole stream first, so `/dev/zero` or an
endless pipe costs a few kilobytes, not the machine's memory.

The limits are far above any real record (the largest plausible agent, with
licences in every state, is about 15 KB and 6 levels deep) and far below
what would hurt a process that reads them.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator, Mapping
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

from hod_core.errors import InputError, kind_of

KIB = 1024
MIB = 1024 * KIB

# -- sizes of what is read ---------------------------------------------------
MAX_RECORD_BYTES = 64 * KIB  # one agent line, a consumer file, one request body
MAX_AGENTS_FILE_BYTES = 1024 * MIB  # ten times the national roster, ~1 KB an agent
MAX_AGENTS_FILE_LINES = 1_000_000  # blank lines count: an endless "\n" stream ends too
MAX_RULE_FILE_BYTES = 1 * MIB  # the shipped rule file is 7 KB
# -- shape of one record -----------------------------------------------------
MAX_DEPTH = 16  # nesting levels; the deepest wire shape (weekly hours) has 5
MAX_ITEMS = 1000  # entries in one list or object
MAX_VALUES = 20_000  # values in one record, all levels together
MAX_INT = 2**53 - 1  # integers JSON parsers everywhere read exactly (RFC 7493)
MIN_YEAR, MAX_YEAR = 1900, 2200  # dates and instants; UTC conversion never overflows
# -- text fields -------------------------------------------------------------
NAME_CHARS = 100  # a first or last name
STREET_ADDRESS_CHARS = 200  # two postal address lines' worth
LINE_OF_AUTHORITY_CHARS = 100
EMAIL_CHARS = 254  # RFC 5321: a 256-octet path less its angle brackets
EMAIL_LOCAL_CHARS = 64  # RFC 5321 section 4.5.3.1.1
PHONE_CHARS = 40  # E.164's 15 digits with spaces, brackets and an extension

# Refused in every text field: C0 and C1 controls (NUL, line breaks, the ESC
# of ANSI sequences), bidi marks, embeddings, overrides and isolates, line
# and paragraph separators, the BOM, noncharacters and lone surrogates (a
# JSON "\ud800" escape, which no UTF-8 store or mail can encode).
FORBIDDEN_CHARS = re.compile(
    "[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069"
    "\ufeff\ufffe\uffff\ud800-\udfff]"
)

JSON_SCALARS = (str, int, float, bool, type(None))
TOML_SCALARS = (*JSON_SCALARS, datetime, date, time)


def forbidden_char(text: str) -> str | None:
    """The first refused character of `text`, as U+XXXX, or None."""
    found = FORBIDDEN_CHARS.search(text)
    return None if found is None else f"U+{ord(found.group()):04X}"


# -- reading bytes -----------------------------------------------------------
def read_bytes(path: str | Path, most: int, *, source: str = "") -> bytes:
    """A whole (small) file, refused once it passes `most` bytes."""
    with _opened(path, source) as stream:
        data = _read(stream.read, most + 1, source)
    if len(data) > most:
        raise InputError(f"file larger than {_size(most)}", source=source or str(path))
    return data


def read_lines(
    path: str | Path,
    *,
    source: str = "",
    line_bytes: int = MAX_RECORD_BYTES,
    file_bytes: int = MAX_AGENTS_FILE_BYTES,
    file_lines: int = MAX_AGENTS_FILE_LINES,
) -> Iterator[tuple[int, bytes]]:
    """(line number, bytes) for each line, streamed; no line longer than `line_bytes`."""
    source = source or str(path)
    total = 0
    with _opened(path, source) as stream:
        readline, most = stream.readline, line_bytes + 1  # bound once, not per line
        for number in range(1, file_lines + 2):
            data = _read(readline, most, source)
            if not data:
                return
            if number > file_lines:
                raise InputError(f"more than {file_lines:,} lines", source=source, line=number)
            total += len(data)
            if total > file_bytes:
                raise InputError(f"file larger than {_size(file_bytes)}", source=source)
            if len(data) > line_bytes and not data.endswith(b"\n"):
                raise InputError(
                    f"line longer than {_size(line_bytes)}", source=source, line=number
                )
            yield number, data


def _opened(path: str | Path, source: str):
    try:
        return Path(path).open("rb")
    except FileNotFoundError:
        raise InputError("file not found", source=str(path)) from None
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror or exc}", source=str(path)) from None


def _read(read, most: int, source: str) -> bytes:
    """`read(most)` (a stream's read or readline); a failing disk as InputError."""
    try:
        return read(most)
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror or exc}", source=source) from None


def _size(count: int) -> str:
    if count % MIB == 0:
        return f"{count // MIB} MiB"
    return f"{count // KIB} KiB" if count % KIB == 0 else f"{count:,} bytes"


def decode(data: bytes, *, source: str = "", line: int | None = None) -> str:
    """Strict UTF-8; a bad byte is reported with its line (and offset in it)."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        start = data.rfind(b"\n", 0, exc.start) + 1
        at = (line or 1) + data.count(b"\n", 0, exc.start)
        message = f"not UTF-8: byte {data[exc.start]:#04x} at column {exc.start - start + 1}"
        raise InputError(message, source=source, line=at) from None


# -- JSON ----------------------------------------------------------------------
def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """json's object hook: a key given twice is an error, never "last one wins"."""
    obj = dict(pairs)
    if len(obj) != len(pairs):
        seen: set[str] = set()
        twice = next(k for k, _ in pairs if k in seen or seen.add(k))
        raise InputError("key given twice in one object", field=twice)
    return obj


def _constant(name: str):
    raise InputError(f"{name} is not a JSON number")


_DECODER = json.JSONDecoder(object_pairs_hook=_object, parse_constant=_constant)


def parse_json(text: str, *, source: str = "", line: int | None = None) -> Any:
    """JSON text -> plain data: no duplicate keys, no NaN, no number past int's digits.

    Nesting is bounded by the record's size and by the parser's recursion
    guard; `check_structure` bounds depth and values where that matters.
    """
    try:
        return _DECODER.decode(text)
    except InputError as exc:
        raise exc.located(source=source, line=line) from None
    except json.JSONDecodeError as exc:
        at = line + exc.lineno - 1 if line else exc.lineno
        raise InputError(
            f"not valid JSON: {exc.msg} (column {exc.colno})", source=source, line=at
        ) from None
    except RecursionError:
        raise InputError(
            f"nested deeper than {MAX_DEPTH} levels", source=source, line=line
        ) from None
    except ValueError:  # an integer past Python's 4300-digit conversion limit
        raise InputError(f"a number larger than {MAX_INT}", source=source, line=line) from None


def parse_json_bytes(
    data: bytes, *, source: str = "", line: int | None = None, most: int = MAX_RECORD_BYTES
) -> Any:
    """A request body or file's bytes -> checked plain data (see `check_structure`).

    For callers holding bytes of unknown origin, such as the server's
    request bodies: bounded in size, strict UTF-8, then parsed and checked.
    """
    if len(data) > most:
        raise InputError(f"larger than {_size(most)}", source=source, line=line)
    text = decode(data, source=source, line=line)
    if not text.strip():
        raise InputError("empty: expected JSON", source=source, line=line)
    value = parse_json(text, source=source, line=line)
    try:
        return check_structure(value, source=source, line=line)
    except InputError as exc:  # named by its top field only: keys inside may be contact data
        top = re.match(r"[^.\[]*", exc.field).group()
        raise InputError(exc.message, field=top, source=source, line=line) from None


# -- already-parsed data --------------------------------------------------------
def check_structure(
    value: Any,
    *,
    source: str = "",
    line: int | None = None,
    scalars: tuple[type, ...] = JSON_SCALARS,
    depth: int = MAX_DEPTH,
) -> Any:
    """`value` itself if it is plain data within the limits, else an InputError
    naming the first offending field path.

    Plain data: objects (any Mapping) with string keys, lists, and `scalars`
    (JSON's by default), subclasses included, as the wire format takes them;
    a tuple, set, bytes or other object is refused. Checked: depth,
    entries per list or object, values in all, text size, integer range,
    finite numbers. Iterative, so no input is deep enough to exhaust the stack.
    """
    stack: list[tuple[Any, int, tuple]] = [(value, 1, ())]
    seen = 0
    while stack:
        item, level, path = stack.pop()
        seen += 1
        problem = _problem(item, level, seen, scalars, depth)
        if problem:
            raise InputError(problem, field=_path(path), source=source, line=line)
        if isinstance(item, Mapping):
            for key, child in item.items():
                if not isinstance(key, str):
                    raise InputError(
                        f"object keys must be strings, found {kind_of(key)}",
                        field=_path(path),
                        source=source,
                        line=line,
                    )
                stack.append((child, level + 1, (*path, key)))
        elif isinstance(item, list):
            stack.extend((child, level + 1, (*path, i)) for i, child in enumerate(item))
    return value


def _problem(item: Any, level: int, seen: int, scalars: tuple[type, ...], depth: int) -> str:
    if level > depth:
        return f"nested deeper than {depth} levels"
    if seen > MAX_VALUES:
        return f"more than {MAX_VALUES:,} values in one record"
    if isinstance(item, Mapping | list):
        return f"more than {MAX_ITEMS} entries" if len(item) > MAX_ITEMS else ""
    if not isinstance(item, scalars):
        return f"not a JSON value (found {kind_of(item)})"
    if isinstance(item, str) and len(item) > MAX_RECORD_BYTES:
        return f"text longer than {MAX_RECORD_BYTES:,} characters"
    if isinstance(item, int) and abs(item) > MAX_INT:
        return f"a whole number beyond +-{MAX_INT}"
    if isinstance(item, float) and not math.isfinite(item):
        return "not a finite number"
    return ""


def _path(parts: tuple) -> str:
    text = "".join(f"[{p}]" if type(p) is int else f".{p}" for p in parts).lstrip(".")
    return text if len(text) <= 80 else text[:77] + "..."
