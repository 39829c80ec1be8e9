"""The JSON wire format: files and lines in, models out.

Every record goes through the one converter (converter.py), whose errors
name the field path. Agent lines and stored agent texts go through
fast_agents.py (msgspec) first; a line it is not sure of is read the
reference way here, so the same records pass and every message is the same.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TypeVar

from hod_core.domain import limits
from hod_core.domain.models import Agent
from hod_core.errors import InputError
from hod_core.wire import fast_agents
from hod_core.wire.bulk import gc_paused
from hod_core.wire.converter import converter, structure, unstructure

T = TypeVar("T")


def read_json(path: str | Path, cls: type[T]) -> T:
    """One JSON object from a file (e.g. a consumer request), at most one record's size."""
    path = Path(path)
    data = limits.read_bytes(path, limits.MAX_RECORD_BYTES, source=path.name)
    text = limits.decode(data, source=path.name)
    parsed = limits.parse_json(text, source=path.name)
    return structure(parsed, cls, source=path.name)  # checks limits where it names fields


def read_jsonl(path: str | Path, cls: type[T], *, fast: bool = True) -> Iterator[tuple[int, T]]:
    """(line number, object) for each non-blank line of a JSONL file, streamed.

    Agents take fast_agents' path first (about 3.5x faster); a line it is not
    sure of is read by `read_record`, so what is accepted and every message
    stay the same. `fast=False` reads every line by `read_record` (the
    benchmark's and the tests' reference)."""
    path = Path(path)
    fast = fast and cls is Agent
    texts: dict[str, str] = {}  # repeated texts, shared across the file's agents
    for number, data in limits.read_lines(path, source=path.name):
        if fast:
            try:
                record = fast_agents.agent_from_line(data, texts)
            except fast_agents.NotSure:
                pass
            else:
                yield number, record
                continue
        record = read_record(data, cls, source=path.name, line=number)
        if record is not None:
            yield number, record


def read_record(
    data: bytes, cls: type[T], *, source: str = "", line: int | None = None
) -> T | None:
    """One line's bytes -> a model (None for a blank line), by the JSON module and
    cattrs: strict UTF-8, no key given twice, and on failure the detailed message."""
    text = limits.decode(data, source=source, line=line)
    if not text.strip():
        return None
    parsed = limits.parse_json(text, source=source, line=line)
    return structure(parsed, cls, source=source, line=line)


def agent_from_json(data: bytes | str, *, source: str = "", line: int | None = None) -> Agent:
    """One agent from its JSON text, as `read_jsonl` reads a line: fast_agents
    first, else the JSON module and cattrs (the same agent, the same errors).

    For stores reading back the agents they wrote: about 3x faster than
    `structure(json.loads(text), Agent)`, and nothing is taken on trust."""
    raw = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data
    try:
        return fast_agents.agent_from_line(raw)
    except fast_agents.NotSure:
        pass
    if isinstance(data, str):
        return structure(
            limits.parse_json(data, source=source, line=line), Agent, source=source, line=line
        )
    agent = read_record(data, Agent, source=source, line=line)
    if agent is None:
        raise InputError("empty: expected JSON", source=source, line=line)
    return agent


def read_agents(path: str | Path) -> Iterator[tuple[int, Agent]]:
    """(line number, agent) of an agents JSONL file, streamed; one NPN, one line:
    the same NPN again is an error naming both lines."""
    first_line: dict[str, int] = {}
    for line, agent in read_jsonl(path, Agent):
        if agent.npn in first_line:
            raise InputError(
                f"duplicate NPN {agent.npn} (first on line {first_line[agent.npn]})",
                field="npn",
                source=Path(path).name,
                line=line,
            )
        first_line[agent.npn] = line
        yield line, agent


def read_jsonl_all(path: str | Path, cls: type[T], *, fast: bool = True) -> list[tuple[int, T]]:
    """Every (line number, object) of a JSONL file, read as one bulk load."""
    with gc_paused():
        return list(read_jsonl(path, cls, fast=fast))


__all__ = [
    "agent_from_json",
    "converter",
    "read_agents",
    "read_json",
    "read_jsonl",
    "read_jsonl_all",
    "read_record",
    "structure",
    "unstructure",
]
