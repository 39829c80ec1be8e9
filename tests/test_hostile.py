"""Hostile input (P1, P3): every reader bounded, every refusal one short
line, nothing stored, no consumer contact data in an error. The named cases
first, then a fuzz test that drives the CLI and the router with worse."""

import contextlib
import importlib.util
import io
import json
import os
import tracemalloc
from datetime import datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hod_core import wire
from hod_core.cli import MAX_LINE, main
from hod_core.domain import limits
from hod_core.domain.models import Agent, Consumer
from hod_core.errors import InputError
from hod_core.extend.plugins import load_adapter
from hod_core.lifecycle.router import Router
from hod_core.stores.memory.memory_store import MemoryStore
from hod_core.testing.doubles import FakeClock, Outbox

from .conftest import BASE_CONSUMER, agent_data

AT = "2026-11-23T15:00:00-06:00"
AGENT_LINE = json.dumps(agent_data())


def hod(*argv) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(argv))
    return code, out.getvalue(), err.getvalue()


def refused(*argv) -> str:
    """The one line `hod` prints when it refuses its input (exit 2, nothing on stdout)."""
    code, out, err = hod(*argv)
    assert code == 2 and out == "", (code, out, err[:300])
    assert err.startswith("hod: ") and err.count("\n") == 1, err[:300]
    assert len(err) <= MAX_LINE + 1 and err[:-1].isprintable(), err
    return err


def match(tmp_path, agents: bytes | str = AGENT_LINE + "\n", consumer=None, *extra) -> list[str]:
    agents_file, consumer_file = tmp_path / "agents.jsonl", tmp_path / "consumer.json"
    write = Path.write_bytes if isinstance(agents, bytes) else Path.write_text
    write(agents_file, agents)
    consumer = json.dumps(BASE_CONSUMER) if consumer is None else consumer
    (Path.write_bytes if isinstance(consumer, bytes) else Path.write_text)(consumer_file, consumer)
    return ["match", "--agents", str(agents_file), "--consumer", str(consumer_file), *extra]


def consumer_text(**changes) -> str:
    return json.dumps({**BASE_CONSUMER, **changes})


# -- 1. never a traceback, never unbounded memory --------------------------------


@pytest.mark.parametrize(
    ("agents", "consumer", "expected"),
    [
        (None, "[" * 60_000, "consumer.json: nested deeper than 16 levels"),
        (
            AGENT_LINE.replace('"zip"', '"x": ' + "[" * 30_000 + "]" * 30_000 + ', "zip"') + "\n",
            None,
            "agents.jsonl:1: nested deeper than 16 levels",
        ),
        (
            AGENT_LINE.replace('"plan_year": 2026', '"plan_year": ' + "7" * 5000) + "\n",
            None,
            "agents.jsonl:1: a number larger than 9007199254740991",
        ),
        (
            AGENT_LINE.replace('"plan_year": 2026', '"plan_year": ' + "7" * 4000) + "\n",
            None,
            "agents.jsonl:1: participation.plan_year: a whole number beyond",
        ),
        (None, consumer_text(zip="7" * 1_000_000), "consumer.json: file larger than 64 KiB"),
        (None, consumer_text(zip="7" * 60_000), "consumer.json: zip: ZIP must be 5 digits"),
        (b"\xff" + AGENT_LINE.encode(), None, "agents.jsonl:1: not UTF-8: byte 0xff at column 1"),
        (None, b'{"first_name": "Ana\xc3"}', "consumer.json:1: not UTF-8: byte 0xc3"),
        (None, consumer_text().replace("}", ', "zip": NaN}'), "NaN is not a JSON number"),
    ],
)
def test_hostile_files_are_refused_in_one_line(tmp_path, agents, consumer, expected):
    err = refused(
        *match(tmp_path, AGENT_LINE + "\n" if agents is None else agents, consumer), "--at", AT
    )
    assert expected in err


@pytest.mark.parametrize("option", ["--at", "--last-offered"])
@pytest.mark.parametrize(
    "instant", ["9999-12-31T23:59:59-01:00", "0001-01-01T00:00:00+01:00", "1899-12-31T23:00:00Z"]
)
def test_instants_beyond_the_sane_years_are_refused_not_overflowed(tmp_path, option, instant):
    value = instant if option == "--at" else f"17294003={instant}"
    extra = [option, value] if option == "--at" else ["--at", AT, option, value]
    assert "outside years 1900 to 2200" in refused(*match(tmp_path), *extra)


def test_rule_files_not_utf8_or_too_deep_are_refused_naming_the_file(tmp_path):
    latin1 = tmp_path / "latin1.toml"
    latin1.write_bytes(b"[policy]\n# r\xe8gles\nplan_year = 2026\n")
    deep = tmp_path / "deep.toml"
    deep.write_text("x = " + "[" * 3000 + "]" * 3000 + "\n")
    wide = tmp_path / "wide.toml"
    wide.write_text("x = " + "[" * 20 + "]" * 20 + "\n")
    for argv in (["rules", "check"], [*match(tmp_path), "--at", AT, "--policy"]):
        assert f"hod: {latin1}:2: cannot read rule file: not UTF-8: byte 0xe8" in refused(
            *argv, str(latin1)
        )
        assert f"hod: {deep}: nested deeper than 16 levels" in refused(*argv, str(deep))
        assert f"hod: {wide}: x" in refused(*argv, str(wide))


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="needs /dev/zero")
def test_endless_input_is_read_only_up_to_the_limit(tmp_path):
    tracemalloc.start()
    try:
        with pytest.raises(InputError, match="zero:1: line longer than 64 KiB"):
            list(wire.read_jsonl("/dev/zero", Agent))
        with pytest.raises(InputError, match="zero: file larger than 64 KiB"):
            wire.read_json("/dev/zero", Consumer)
        with pytest.raises(InputError, match="file larger than 1 MiB"):
            limits.read_bytes("/dev/zero", limits.MAX_RULE_FILE_BYTES)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 4 * limits.MAX_RULE_FILE_BYTES  # a few buffers, not the stream
    assert "zero:1: line longer than 64 KiB" in refused(
        "match", "--agents", "/dev/zero", "--consumer", "/dev/zero", "--at", AT
    )


def test_endless_blank_lines_end_at_the_line_limit(tmp_path):
    path = tmp_path / "blank.jsonl"
    path.write_text("\n" * 50)
    lines = limits.read_lines(path, file_lines=10)
    with pytest.raises(InputError, match=r"blank.jsonl:11: more than 10 lines"):
        list(lines)
    with pytest.raises(InputError, match="blank.jsonl: file larger than 40 bytes"):
        list(limits.read_lines(path, file_bytes=40))


def test_a_megabyte_value_comes_back_as_a_short_excerpt(tmp_path):
    agent = agent_data(timezone="Europe/" + "x" * 60_000)
    err = refused(*match(tmp_path, json.dumps(agent) + "\n"), "--at", AT)
    assert 'timezone: unknown IANA time zone "Europe/xxxxxxxxxxxxxxxxxxxxxxx..." (60,007' in err
    with pytest.raises(InputError) as caught:
        wire.structure({**BASE_CONSUMER, "language": "x" * 1_000_000}, Consumer)
    assert len(str(caught.value)) < 120
    assert "10000" not in str(InputError("bad {value}", value=10**5000))


# -- 2. refuse what is ambiguous ------------------------------------------------------


def test_duplicate_keys_are_refused_naming_the_key(tmp_path):
    twice = AGENT_LINE.replace('"npn": "17294003"', '"npn": "1000001", "npn": "1000099"')
    assert "agents.jsonl:1: npn: key given twice in one object" in refused(
        *match(tmp_path, twice + "\n"), "--at", AT
    )
    nested = consumer_text().replace('"zip"', '"zip": "77002", "zip"')
    assert "consumer.json: zip: key given twice" in refused(
        *match(tmp_path, consumer=nested), "--at", AT
    )
    with pytest.raises(InputError, match="^body: language: key given twice"):
        limits.parse_json_bytes(b'{"language": "es", "language": "en"}', source="body")


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda a: a["participation"].update(terms_accepted=1), "expected true or false, got 1"),
        (lambda a: a["licenses"][0].update(active=1), "expected true or false, got 1"),
        (lambda a: a["participation"].update(plan_year=2026.0), "expected a whole number"),
        (lambda a: a["participation"].update(plan_year=True), "expected a whole number"),
        (lambda a: a.update(display_option=True), "display option must be one of"),
        (lambda a: a.update(display_option=1.0), "got 1.0"),
        (lambda a: a["licenses"][0].update(bogus=None, expires_on=None), "unknown field"),
    ],
)
def test_the_verdict_on_a_record_never_depends_on_the_records_before_it(change, expected):
    bad = agent_data(npn="1000002")
    change(bad)
    first = agent_data(npn="1000001")
    first["licenses"][0]["expires_on"] = bad["licenses"][0].get("expires_on")
    for before in ([], [first, first]):  # alone, then after valid agents sharing its values
        for data in before:
            wire.structure(data, Agent)
        with pytest.raises(InputError, match=expected):
            wire.structure(bad, Agent)


def test_one_spelling_per_npn(tmp_path):
    padded = json.dumps(agent_data(npn="01000001"))
    assert 'npn: NPN must not start with 0 (write it without padding), got "01000001"' in refused(
        *match(tmp_path, padded + "\n"), "--at", AT
    )
    same = "\n".join(
        [json.dumps(agent_data(npn="1000001")), AGENT_LINE, json.dumps(agent_data(npn="1000001"))]
    )
    assert "agents.jsonl:3: npn: duplicate NPN 1000001 (first on line 1)" in refused(
        *match(tmp_path, same + "\n"), "--at", AT
    )


@pytest.mark.parametrize(
    "written", ["20271231", "2026-W48-1", "2027-365", "+2027-06-30", "2027-06-30T00:00:00Z"]
)
def test_dates_are_yyyy_mm_dd_only(written):
    data = agent_data()
    data["licenses"][0]["expires_on"] = written
    with pytest.raises(InputError, match="licenses\\[0\\].expires_on: not a date YYYY-MM-DD"):
        wire.structure(data, Agent)


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("20261123T150000Z", "not an RFC 3339 date-time"),
        ("2026-W48-1T15:00:00Z", "not an RFC 3339 date-time"),
        ("2026-11-23T15:00Z", "not an RFC 3339 date-time"),
        ("2026-11-23T15:00:00123Z", "not an RFC 3339 date-time"),
        ("2026-11-23T15:00:00.1234567890Z", "not an RFC 3339 date-time"),
        ("2026-11-23T15:00:00+01:00:30", "not an RFC 3339 date-time"),
        ("2026-11-23T15:00:00", "date-time needs a UTC offset"),
        ("2026-11-23T25:00:00Z", "not a valid date-time"),
    ],
)
def test_instants_are_rfc3339_only(written, expected):
    data = agent_data(availability={"out_of_office": [{"from": written}]})
    with pytest.raises(InputError, match=f"out_of_office\\[0\\].from: {expected}"):
        wire.structure(data, Agent)


def test_rfc3339_forms_that_are_accepted():
    for written in (
        "2026-11-23t21:00:00z",
        "2026-11-23T21:00:00.123456789Z",
        "2026-11-23T15:00:00-06:00",
    ):
        data = agent_data(availability={"out_of_office": [{"from": written}]})
        ooo = wire.structure(data, Agent).availability.out_of_office[0]
        assert ooo.start.isoformat().startswith("2026-11-23T21:00:00")


@pytest.mark.parametrize(
    "bad",
    [
        "Ma\x00ria",
        "\x1b[31mMaria",
        "Maria\u202e",
        "Ma\u2066ria",
        "Ma\nria",
        "\ud800Maria",
        "M\x85aria",
    ],
)
@pytest.mark.parametrize("field", ["first_name", "last_name", "street_address", "email"])
def test_control_and_bidi_characters_are_refused_in_every_text_field(bad, field):
    value = bad if field != "email" else bad.replace("Maria", "maria@example.com")
    with pytest.raises(
        InputError, match=f"^{field}: .* contains a control or bidi character"
    ) as caught:
        wire.structure(agent_data(**{field: value}), Agent)
    assert caught.value.render().isprintable()
    data = agent_data()
    data["licenses"][0]["lines_of_authority"] = [bad]
    with pytest.raises(InputError, match="lines_of_authority\\[0\\]: .* control or bidi"):
        wire.structure(data, Agent)


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("email", "a" * 65 + "@example.com", "longer than 64 bytes"),
        ("email", "a@" + "b" * 250 + ".com", "longer than 254 characters"),
        ("first_name", "A" * 101, "longer than 100 characters"),
        ("street_address", "1" * 201, "longer than 200 characters"),
        ("phone", "+1 713 555 0100" + " " * 30, "longer than 40 characters"),
    ],
)
def test_text_fields_have_lengths(field, value, expected):
    with pytest.raises(InputError, match=expected):
        wire.structure(agent_data(**{field: value}), Agent)


# -- 3. no personal data in errors ------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("email", "zq.secret@example", "email: not an email address"),
        ("email", 7135550199, "email: expected a string, got a number"),
        ("phone", "zq-secret-phone", "phone: not a phone number"),
        ("phone", ["+17135550199"], "phone: expected a string, got a list"),
        ("first_name", {"zq": "secret"}, "first_name: expected a string, got an object"),
        ("last_name", "zq\x1bsecret", "last_name: a name contains a control or bidi character"),
        ("first_name", "zqsecret" * 20, "first_name: a name longer than 100 characters"),
    ],
)
def test_errors_about_a_consumers_contact_data_never_quote_it(tmp_path, field, value, expected):
    err = refused(*match(tmp_path, consumer=consumer_text(**{field: value})), "--at", AT)
    assert f"consumer.json: {expected}" in err
    assert "zq" not in err and "secret" not in err and "7135550199" not in err


def test_an_agents_own_fields_may_be_quoted():
    with pytest.raises(InputError, match='timezone: unknown IANA time zone "Mars/Olympus"'):
        wire.structure(agent_data(timezone="Mars/Olympus"), Agent)


# -- CLI polish ---------------------------------------------------------------------------


def test_cli_errors_are_prefixed_once_and_there_is_a_version():
    assert refused() == "hod: the following arguments are required: command (see hod --help)\n"
    assert refused("match", "--limit", "x").startswith("hod: match: ")
    assert hod("--version")[:2] == (0, f"hod {__import__('hod_core').__version__}\n")


# -- the fuzz test: CLI and API, hostile input of any shape ---------------------------------

MARK = "zqsecret"  # in every private value the fuzz gives, so a leak is easy to see

hostile_text = st.one_of(
    st.text(max_size=30),
    st.text(
        alphabet=st.sampled_from("\x00\x1b\x7f\x85\u202e\u2066\u2028\ufeff\ud800a9@.-: "),
        max_size=20,
    ),
    st.integers(1, 5000).map(lambda n: "x" * n * 20),
    st.sampled_from(["01000001", "2026-W48-1", "20271231", "1e400", "tx", "es", "77002", "24:00"]),
)
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(15, 4000).map(lambda digits: 10**digits),
    st.floats(allow_nan=True, allow_infinity=True),
    hostile_text,
)
json_values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)


class Opaque:
    """Not JSON: what a careless host might pass."""


python_values = st.recursive(
    scalars | st.binary(max_size=8) | st.builds(Opaque) | st.just(datetime(2026, 11, 23)),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.tuples(inner, inner)
        | st.frozensets(st.integers(), max_size=3)
        | st.dictionaries(
            st.one_of(st.text(max_size=4), st.integers(), st.none()), inner, max_size=3
        )
    ),
    max_leaves=8,
)


def nest(depth: int) -> str:
    return "[" * depth + "]" * depth


raw_json = st.one_of(
    json_values.map(json.dumps),
    st.integers(17, 40_000).map(nest),
    st.integers(4000, 6000).map(lambda n: "9" * n),
    st.sampled_from(["NaN", "-Infinity", '"\\ud800"', '"a\\u0000b"', "1e999"]),
)


def placed(base: dict, path: list, text: str) -> str:
    """`base` as JSON text with the value at `path` replaced by raw JSON `text`."""
    marker = "\x00HOLE\x00"
    data = json.loads(json.dumps(base))
    where = data
    for step in path[:-1]:
        where = where[step]
    where[path[-1]] = marker
    return json.dumps(data).replace(json.dumps(marker), text, 1)


AGENT_PATHS = [
    ["npn"], ["first_name"], ["email"], ["phone"], ["zip"], ["display_option"], ["languages"],
    ["licenses"], ["licenses", 0, "state"], ["licenses", 0, "active"], ["licenses", 0, "expires_on"],
    ["participation", "plan_year"], ["participation", "terms_accepted"], ["timezone"],
    ["availability"], ["availability", "weekly"], ["street_address"], ["extra"],
]  # fmt: skip
CONSUMER_PATHS = [[k] for k in BASE_CONSUMER] + [["extra"]]
PRIVATE = {"first_name", "last_name", "phone", "email"}


def marked(text: str) -> str:
    """Raw JSON with MARK at the start of every string in it (keys too)."""
    try:
        value = json.loads(text)
    except (ValueError, RecursionError):
        return text
    stack, mark = [value], lambda s: MARK + s
    while stack:
        item = stack.pop()
        if isinstance(item, list):
            item[:] = [mark(v) if isinstance(v, str) else v for v in item]
            stack.extend(item)
        elif isinstance(item, dict):
            pairs = [(mark(k), mark(v) if isinstance(v, str) else v) for k, v in item.items()]
            item.clear()
            item.update(pairs)
            stack.extend(item.values())
    return json.dumps(mark(value) if isinstance(value, str) else value)


def mangled(raw: bytes, cut: int, junk: bytes) -> bytes:
    return raw[:cut] + junk + raw[cut:]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    target=st.sampled_from(["agents", "consumer"]),
    agent_path=st.sampled_from(AGENT_PATHS),
    consumer_path=st.sampled_from(CONSUMER_PATHS),
    text=raw_json,
    cut=st.integers(0, 400),
    junk=st.sampled_from([b"", b"", b"\xff", b"\xc3", b"\n", b'"', b"{", b"\x00"]),
)
def test_fuzz_the_cli_gives_json_or_one_clean_line(
    tmp_path_factory, target, agent_path, consumer_path, text, cut, junk
):
    folder = tmp_path_factory.mktemp("fuzz")
    if target == "agents":
        agents = mangled(
            placed(agent_data(), agent_path, text).encode("utf-8", "surrogatepass"), cut, junk
        )
        consumer = json.dumps(BASE_CONSUMER).encode()
    else:
        agents = (AGENT_LINE + "\n").encode()
        consumer = placed(BASE_CONSUMER, consumer_path, marked(text))
        consumer = mangled(consumer.encode("utf-8", "surrogatepass"), cut, junk)
    code, out, err = hod(*match(folder, agents, consumer), "--at", AT, "--explain")
    if code == 0:
        assert "queue" in json.loads(out) and err == ""
        return
    assert code == 2 and out == "" and err.startswith("hod: ") and err.count("\n") == 1, err[:300]
    assert len(err) <= MAX_LINE + 1 and err[:-1].isprintable(), err
    if target == "consumer" and consumer_path[0] in PRIVATE:
        assert MARK not in err, err
        assert not (len(text) >= 6 and text.isdigit() and text in err), err


def stores(tmp_path_factory):
    yield "memory", MemoryStore()
    if importlib.util.find_spec("hod_store_sqlite"):  # not installed in every test env
        path = tmp_path_factory.mktemp("sqlite") / "hod.sqlite3"
        yield "sqlite", load_adapter("store_sqlite", {"path": str(path)})


def stored(store) -> tuple[int, int]:
    agents = list(store.hod_store_agents(after=0))
    return len(agents), len(store.hod_store_events(referral_id=None, after=0, limit=1_000_000))


@pytest.fixture(scope="module")
def routers(tmp_path_factory):
    clock = FakeClock(datetime.fromisoformat("2026-11-23T10:00:00-06:00"))
    built = [
        (name, store, Router([store, clock, Outbox()], delivery_threads=0))
        for name, store in stores(tmp_path_factory)
    ]
    yield built
    for _, store, _ in built:
        with contextlib.suppress(Exception):
            store.close()


def _with(base: dict, path: list | None, value):
    if path is None:
        return value
    data = json.loads(json.dumps(base))
    where = data
    for step in path[:-1]:
        where = where[step]
    where[path[-1]] = value
    return data


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    kind=st.sampled_from(["consumer", "agent"]),
    agent_path=st.sampled_from([None, *AGENT_PATHS]),
    consumer_path=st.sampled_from([None, *CONSUMER_PATHS]),
    value=python_values,
)
def test_fuzz_the_api_raises_input_error_and_stores_nothing(
    routers, kind, agent_path, consumer_path, value
):
    for name, store, router in routers:
        before = stored(store)
        try:
            if kind == "agent":
                router.put_agent(_with(agent_data(npn="1000777"), agent_path, value))
            else:
                private = consumer_path is not None and consumer_path[0] in PRIVATE
                if private and isinstance(value, str):
                    value = MARK + value
                router.request_contact(_with(BASE_CONSUMER, consumer_path, value))
        except InputError as exc:
            line = exc.render()
            assert stored(store) == before, name
            assert "\n" not in line and len(line) <= 190 and line.isprintable(), line
            if kind == "consumer" and consumer_path and consumer_path[0] in PRIVATE:
                assert MARK not in line, line
