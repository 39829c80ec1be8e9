"""fast_agents against the reference reading (JSON module + cattrs), line by line.

fast_agents may refuse a line (NotSure: the reference then reads it), but
whatever it accepts the reference accepts too, as the same Agent, field by
field and type by type. Lines are valid agents, agents with one field
changed to a hostile value, removed, added or given twice, written compact,
spaced or with every character escaped, and the hostile lines of
test_hostile.py. Files are read end to end both ways: same agents, same error.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from enum import Enum

import attrs
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from hod_core import wire
from hod_core.domain.models import Agent, License
from hod_core.errors import InputError
from hod_core.testing.synthetic import Synthesizer
from hod_core.wire import fast_agents

from .conftest import agent_data

NOT_SURE = "not sure"


def reference(data: bytes):
    try:
        return wire.read_record(data, Agent, source="agents.jsonl", line=7)
    except InputError as exc:
        return f"error: {exc}"


def fast(data: bytes):
    try:
        return fast_agents.agent_from_line(data)
    except fast_agents.NotSure:
        return NOT_SURE


def same(a, b) -> bool:
    """Equal and of the same types all the way down (1 is not True, 2026.0 is not 2026)."""
    if type(a) is not type(b):
        return False
    if attrs.has(type(a)):
        return all(same(getattr(a, f.name), getattr(b, f.name)) for f in attrs.fields(type(a)))
    if isinstance(a, tuple | list):
        return len(a) == len(b) and all(map(same, a, b))
    if isinstance(a, dict):
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    if isinstance(a, frozenset):
        return a == b and all(type(x) is str for x in a | b)
    assert isinstance(a, str | int | bool | date | datetime | Enum | type(None)), type(a)
    return a == b


def agree(data: bytes) -> str:
    """Assert the two readings agree on `data`; say which path took it."""
    quick, slow = fast(data), reference(data)
    if quick is NOT_SURE:
        return "reference"
    assert isinstance(slow, Agent), (data[:300], slow)
    assert same(quick, slow), (data[:300], quick, slow)
    assert same(wire.agent_from_json(data), slow)
    assert same(wire.agent_from_json(data.decode()), slow)
    return "fast"


# -- writing JSON with objects as lists of pairs (so a key can come twice) ------


class Obj(list):
    """A JSON object as (key, value) pairs."""


def to_obj(value):
    if isinstance(value, dict):
        return Obj((k, to_obj(v)) for k, v in value.items())
    if isinstance(value, list):
        return [to_obj(v) for v in value]
    return value


def write(value, style: str) -> str:
    comma, colon = {"compact": (",", ":"), "spaced": (", ", ": "), "loose": (" ,\t", " :\r ")}.get(
        style, (", ", ": ")
    )
    if isinstance(value, Obj):
        return (
            "{" + comma.join(f"{write(k, style)}{colon}{write(v, style)}" for k, v in value) + "}"
        )
    if isinstance(value, list):
        return "[" + comma.join(write(v, style) for v in value) + "]"
    if isinstance(value, str) and style == "escaped":
        return '"' + "".join(f"\\u{ord(c):04x}" for c in value) + '"'
    return json.dumps(value, ensure_ascii=style != "utf8")


def paths(value, at=()):
    yield at
    if isinstance(value, Obj):
        for i, (_, child) in enumerate(value):
            yield from paths(child, (*at, i))
    elif isinstance(value, list):
        for i, child in enumerate(value):
            yield from paths(child, (*at, i))


def container(doc, path):
    for step in path[:-1]:
        doc = doc[step][1] if isinstance(doc, Obj) else doc[step]
    return doc


HOSTILE = [
    None, True, False, 0, 1, -1, 2026, 2026.0, 1.5, 2**53, -(2**53), 10**30,
    "", " ", "x", " x", "x ", "tx", "TX", "Tx", "ES", "es", "en", "0", "01", "1000001",
    "12345678901", "77030", "7703", "+12222222222", "(222) 222-2222", "+1222222222",
    "+12122222222", "jane@example.com", "j@e", "jané@example.com", "Jané", "Ja\u202ene",
    "a\x00b", "a\nb", "a\tb", "a:b", 'a":b', "\\", "a\\", "é" * 101, "a" * 201, "a\x7f",
    "2027-06-30", "2027-6-30", "1899-12-31", "2201-01-01", "2026-11-23T15:00:00Z",
    "2026-11-23T15:00:00", "2026-11-23t15:00:00.1234567+01:00", "08:00", "24:00", "25:00",
    "America/Chicago", "Mars/Base", "email", "email_text_app", "Health", " Health",
    "Accident & Health", [], [""], ["en"], ["EN"], ["TX"], ["tx"], ["TX", "TX"], {}, {"a": 1},
    ["08:00", "20:00"], [["08:00", "20:00"]], {"mon": [["08:00", "20:00"]]}, "\ud800",
    {"start": "12:00", "end": "12:30"}, {"from": "2026-11-20T00:00:00Z", "to": None},
]  # fmt: skip
values = st.one_of(
    st.sampled_from(HOSTILE),
    st.text(max_size=8),
    st.integers(-(2**60), 2**60),
    st.lists(st.sampled_from(["TX", "en", "es", "tx", "", 1, None]), max_size=3),
)
SYNTH = Synthesizer(seed=7)
AGENTS = [agent_data(), *(SYNTH.agent(str(5_000_000 + i)) for i in range(40))]
AGENTS[3]["reinstated_at"] = "2026-11-01T09:30:00-06:00"
AGENTS[4]["timezone"] = "America/Chicago"
AGENTS[5]["state_preferences"] = ["TX", "OK"]
AGENTS[6]["availability"] = {
    "weekly": {"mon": [["08:00", "12:00"], ["13:00", "17:00"]]},
    "today": {"date": "2026-11-23", "on": False},
    "out_of_office": [{"from": "2026-12-24T00:00:00Z", "to": None}],
}


@st.composite
def lines(draw) -> bytes:
    doc = to_obj(draw(st.sampled_from(AGENTS)))
    for _ in range(draw(st.integers(0, 2))):
        path = draw(st.sampled_from(list(paths(doc))[1:]))
        where, step = container(doc, path), path[-1]
        change = draw(st.sampled_from(["set", "drop", "twice", "add"]))
        if isinstance(where, Obj):
            key, old = where[step]
            if change == "set":
                where[step] = (key, to_obj(draw(values)))
            elif change == "drop":
                del where[step]
            elif change == "twice":
                where.insert(
                    draw(st.integers(0, len(where))),
                    (key, draw(st.sampled_from([old, to_obj(draw(values))]))),
                )
            else:
                where.append(
                    (draw(st.sampled_from(["bogus", "npn", "state", "mon"])), to_obj(draw(values)))
                )
        elif change in ("set", "add"):
            where[step] = to_obj(draw(values))
        else:
            del where[step]
    style = draw(st.sampled_from(["json", "compact", "spaced", "loose", "escaped", "utf8"]))
    return (write(doc, style) + draw(st.sampled_from(["\n", "", "\r\n", " \n"]))).encode(
        "utf-8", "surrogatepass"
    )


@settings(max_examples=400, deadline=None, suppress_health_check=list(HealthCheck))
@given(lines())
def test_whatever_fastwire_accepts_the_reference_reads_as_the_same_agent(data):
    event(agree(data))


def test_canonical_agents_take_the_fast_path_in_every_layout():
    for agent in AGENTS:
        for style in ("json", "compact", "spaced", "utf8", "escaped"):
            assert agree((write(to_obj(agent), style) + "\n").encode()) == "fast", (agent, style)
    assert (
        agree(
            (
                json.dumps(agent_data(first_name="José", street_address="1 Calle Día")) + "\n"
            ).encode()
        )
        == "fast"
    )


LINE = json.dumps(agent_data())
HOSTILE_LINES = [
    LINE.replace('"npn": "17294003"', '"npn": "1000001", "npn": "1000099"'),
    LINE.replace('"active": true', '"active": true, "active": false'),
    LINE.replace('"plan_year": 2026', '"plan_year": 2026, "plan_year": 2026'),
    LINE.replace('"weekly": null', '"weekly": null, "weekly": null'),
    LINE.replace('"weekly": null', '"weekly": {"mon": [], "mon": []}'),
    LINE.replace('"npn": "17294003"', '"npn" : "1", "npn":"17294003"'),
    LINE.replace('"npn": "17294003"', '"npn"\t:"1", "npn":"17294003"'),
    LINE.replace('"npn": "17294003"', '"npn": "1", "n\\u0070n": "17294003"'),
    LINE.replace('"first_name": "Jane"', '"first_name": "J:\\u0061ne", "first_name": "Jane"'),
    LINE.replace('"street_address": "1 Main St"', '"street_address": "1:2", "street_address": "1"'),
    LINE.replace('"zip"', '"x": ' + "[" * 30 + "]" * 30 + ', "zip"'),
    LINE.replace('"zip"', '"x": ' + "[" * 30_000 + "]" * 30_000 + ', "zip"'),
    LINE.replace('"weekly": null', '"weekly": ' + "[" * 30_000 + "]" * 30_000),
    LINE.replace('"plan_year": 2026', '"plan_year": ' + "7" * 5000),
    LINE.replace('"plan_year": 2026', '"plan_year": 2026.0'),
    LINE.replace('"plan_year": 2026', '"plan_year": true'),
    LINE.replace('"active": true', '"active": 1'),
    LINE.replace('"display_option": 1', '"display_option": 1.0'),
    LINE.replace('"display_option": 1', '"display_option": true'),
    LINE.replace('"Jane"', '"Ja\\u202ene"'),
    LINE.replace('"Jane"', '"Ja\\u0000ne"'),
    LINE.replace('"Jane"', '" Jane "'),
    LINE.replace('"Jane"', '"\\ud800"'),
    LINE.replace('"npn": "17294003"', '"npn": "017294003"'),
    LINE.replace('"TX"', '"tx"'),
    LINE.replace('"es"', '"ES"'),
    LINE.replace('"2027-06-30"', '"2027-06-31"'),
    LINE.replace('"2027-06-30"', '"1899-12-31"'),
    LINE.replace('"+12222222222"', '"(222) 222-2222"'),
    LINE.replace("null}}", "NaN}}"),
    LINE + " x",
    "\ufeff" + LINE,
    "   ",
    "",
]


@pytest.mark.parametrize("line", HOSTILE_LINES)
def test_hostile_lines_agree(line):
    agree(line.encode("utf-8", "surrogatepass") + b"\n")


# Availability texts: fast_agents reads them with msgspec and the models' own
# constructors; each must read as the reference reads it, or go to it.
HOURS = (
    '{"weekly": {"mon": [["08:00", "12:00"], ["13:00", "24:00"]], "sat": [["09:00", "15:00"]]}, '
    '"breaks": [{"days": ["sat"], "start": "12:00", "end": "12:30"}, '
    '{"start": "10:00", "end": "10:15"}], '
    '"today": {"date": "2026-11-28", "on": true, "since": "2026-11-28T14:00:00+00:00", '
    '"until": "2026-11-28T17:00:00+00:00"}, '
    '"out_of_office": [{"from": "2026-12-07T00:00:00+00:00", "to": "2026-12-16T00:00:00-05:00"}, '
    '{"from": "2027-01-02T09:30:00Z"}]}'
)
READ_FAST = [
    HOURS,
    "{}",
    '{"weekly": null}',
    '{"weekly": {}}',
    '{"breaks": [], "out_of_office": []}',
    '{"weekly": {"sun": [], "mon": [["00:00", "24:00"]]}}',  # days in any order
    '{"breaks": [{"days": null, "start": "12:00", "end": "13:00"}]}',
    '{"today": {"date": "2026-11-28", "on": false}}',
    '{"today": {"date": "2026-11-28", "on": true, "since": null, "until": null}}',
    '{"today": null}',
    '{"out_of_office": [{"from": "2026-12-07T00:00:00+00:00", "to": null}]}',
]
READ_EITHER_WAY = [
    HOURS.replace('"sat": [', '"mon": [["01:00", "02:00"]], "sat": ['),  # a day twice
    HOURS.replace('"start": "10:00"', '"start": "10:00", "start": "10:05"'),
    HOURS.replace('"on": true', '"on": true, "on": false'),
    HOURS.replace('{"from": "2027', '{"to": null, "to": null, "from": "2027'),
    HOURS.replace('{"weekly"', '{"breaks": [], "weekly"'),  # breaks twice
    HOURS.replace('"mon":', '"mon" :'),
    HOURS.replace('"mon":', '"m\\u006fn":'),
    HOURS.replace('"12:30"', '"12:\\u0033\\u0030"'),
    HOURS.replace('"12:30"', '"12:00"'),  # a break of no length
    HOURS.replace('["09:00", "15:00"]', '["15:00", "09:00"]'),  # ends before it starts
    HOURS.replace('["09:00", "15:00"]', '["09:00"]'),
    HOURS.replace('["09:00", "15:00"]', '["09:00", "15:00", "16:00"]'),
    HOURS.replace('["09:00", "15:00"]', '{"start": "09:00", "end": "15:00"}'),
    HOURS.replace('"15:00"', '"24:01"'),
    HOURS.replace('"15:00"', '"3pm"'),
    HOURS.replace('"15:00"', "900"),
    HOURS.replace('"sat": [', '"funday": ['),
    HOURS.replace('"days": ["sat"]', '"days": ["sat", "sat"]'),
    HOURS.replace('"days": ["sat"]', '"days": "sat"'),
    HOURS.replace('"on": true', '"on": 1'),
    HOURS.replace('"2026-11-28"', '"2026-11-31"'),
    HOURS.replace('"until": "2026-11-28T17:00:00+00:00"', '"until": "2026-11-28T13:00:00+00:00"'),
    HOURS.replace('"to": "2026-12-16T00:00:00-05:00"', '"to": "2026-12-01T00:00:00Z"'),
    HOURS.replace("T09:30:00Z", "T09:30:00"),  # no offset
    HOURS.replace('"from": "2027', '"from": null, "x": "2027'),
    HOURS.replace('"breaks": [', '"breaks": null, "x": ['),
    HOURS.replace('"weekly"', '"note": 1, "weekly"'),
    HOURS.replace('"until"', '"zone": "UTC", "until"'),
    HOURS.replace('{"from": "2027', '{"extra": 1, "from": "2027'),
    '{"weekly": {"mon": ' + "[" * 3000 + "]" * 3000 + "}}",
    '{"weekly": {"mon": [' + '["08:00", "09:00"], ' * 300 + '["10:00", "11:00"]]}}',
]


@pytest.mark.parametrize("hours", READ_FAST + READ_EITHER_WAY)
def test_availability_reads_as_the_reference_reads_it(hours):
    line = LINE.replace('{"weekly": null}', hours)
    assert line != LINE or hours == '{"weekly": null}'
    taken = agree(line.encode() + b"\n")
    if hours in READ_FAST:
        assert taken == "fast", hours


@pytest.mark.parametrize(
    "data", [b'{"npn": "\xff"}', b"\xed\xa0\x80", LINE.encode()[:-20], b"[]", b"null"]
)
def test_bytes_that_are_not_an_agent_agree(data):
    assert agree(data) == "reference"


def read_both(path):
    results = []
    for fast_path in (True, False):
        try:
            results.append(wire.read_jsonl_all(path, Agent, fast=fast_path))
        except InputError as exc:
            results.append(str(exc))
    return results


def test_files_read_the_same_both_ways(tmp_path):
    path = tmp_path / "agents.jsonl"
    good = [json.dumps(SYNTH.agent(str(7_000_000 + i))) for i in range(300)]
    path.write_text("\n".join(good) + "\n\n")
    quick, slow = read_both(path)
    assert len(quick) == 300 and [n for n, _ in quick] == [n for n, _ in slow]
    assert all(same(a, b) for (_, a), (_, b) in zip(quick, slow, strict=True))
    for bad in HOSTILE_LINES[:8]:
        path.write_text("\n".join([*good[:5], bad, *good[5:9]]) + "\n")
        quick, slow = read_both(path)
        assert quick == slow and quick.startswith("agents.jsonl:6: "), quick


def test_a_file_shares_the_street_addresses_its_agents_repeat(tmp_path):
    path = tmp_path / "agents.jsonl"
    office = {"street_address": "1 Agency Plaza", "last_name": "Garcia"}
    lines = [agent_data(npn=str(7_100_000 + i), **office) for i in range(3)]
    lines.append(agent_data(npn="7100009", street_address="2 Elm St", last_name="Lee"))
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    quick, slow = read_both(path)
    assert all(same(a, b) for (_, a), (_, b) in zip(quick, slow, strict=True))
    agents = [agent for _, agent in quick]
    assert agents[0].street_address is agents[1].street_address is agents[2].street_address
    assert agents[3].street_address == "2 Elm St" and agents[3].last_name == "Lee"


def test_the_same_npn_twice_names_both_lines(tmp_path):
    path = tmp_path / "agents.jsonl"
    path.write_text("\n".join([LINE, json.dumps(agent_data(npn="1")), LINE]) + "\n")
    with pytest.raises(
        InputError, match=r"^agents.jsonl:3: npn: duplicate NPN 17294003 \(first on line 1\)$"
    ):
        list(wire.read_agents(path))


def test_the_models_have_no_check_that_fastwire_would_skip():
    """fast_agents fills the models' slots itself, after checking every value the way
    their converters do: a validator or post-init added to them must be added there too."""
    for cls in (Agent, License):
        assert not hasattr(cls, "__attrs_post_init__"), cls
        assert all(field.validator is None for field in attrs.fields(cls)), cls
    agent = fast_agents.agent_from_line(LINE.encode())
    assert all(hasattr(agent, field.name) for field in attrs.fields(Agent))
    assert all(hasattr(agent.licenses[0], field.name) for field in attrs.fields(License))


def test_what_wire_writes_is_read_back_by_the_fast_path():
    """A store writes `unstructure(agent)`; reading it back should not need the slow path."""
    for data in AGENTS:
        agent = wire.structure(data, Agent)
        written = json.dumps(wire.unstructure(agent), ensure_ascii=False, separators=(",", ":"))
        assert same(fast_agents.agent_from_line(written.encode()), agent)
        assert same(wire.agent_from_json(written), agent)
