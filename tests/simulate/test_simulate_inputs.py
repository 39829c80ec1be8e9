"""Bad demand and behaviour files: one line naming file:line and field, exit 2;
and `hod export demand` writes what `--demand` reads, with no contact data."""

from __future__ import annotations

import json

import pytest

from hod_core.cli import main
from hod_core.lifecycle.router import Router
from hod_core.simulate.behaviour import load_behaviour
from hod_core.simulate.demand import export_demand, read_demand
from hod_core.stores.memory.memory_store import MemoryStore
from hod_core.testing.plugin import FakeClock

from ..conftest import BASE_CONSUMER, MONDAY_10AM_HOUSTON, agent_data

GOOD = '{"at": "2026-11-23T16:00:00Z", "zip": "77002", "language": "es"}\n'


@pytest.fixture
def agents(tmp_path):
    path = tmp_path / "agents.jsonl"
    path.write_text(json.dumps(agent_data(npn="100")) + "\n")
    return path


def error_of(capsys, *args) -> str:
    assert main(["simulate", *map(str, args)]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and len(captured.err.strip().splitlines()) == 1
    return captured.err.strip()


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (
            '{"at": "2026-11-23T16:00:00Z", "zip": "77002", "language": "es", '
            '"phone": "+17135550100"}',
            "demand.jsonl:2: phone: unknown field",
        ),
        (
            '{"at": "2026-11-23T16:00:00", "zip": "77002", "language": "es"}',
            "demand.jsonl:2: at: date-time needs a UTC offset",
        ),
        ('{"zip": "77002", "language": "es"}', "demand.jsonl:2: at: required field missing"),
        (
            '{"at": "2026-11-23T16:00:00Z", "zip": "00000", "language": "es"}',
            "demand.jsonl:2: zip: unknown ZIP",
        ),
        (
            '{"at": "2026-11-23T16:00:00Z", "zip": "77002", "language": "xx"}',
            "demand.jsonl:2: language: unknown language code",
        ),
        (
            '{"at": "2026-11-23T16:00:00Z", "zip": "77002", "state": "FL", "language": "es"}',
            "demand.jsonl:2: state: state FL is not the state of ZIP 77002",
        ),
        (
            '{"at": "2026-11-23T16:00:00Z", "zip": 77002, "language": "es"}',
            "demand.jsonl:2: zip: must be text",
        ),
        ("[1, 2]", "demand.jsonl:2: a request must be a JSON object"),
        ("{not json", "demand.jsonl:2: not valid JSON"),
    ],
)
def test_a_bad_demand_line_is_named_by_file_line_and_field(
    tmp_path, agents, capsys, line, expected
):
    demand = tmp_path / "demand.jsonl"
    demand.write_text(GOOD + line + "\n")
    assert error_of(capsys, "--agents", agents, "--demand", demand).startswith(f"hod: {expected}")


def test_a_contact_field_is_refused_without_quoting_it(tmp_path, agents, capsys):
    demand = tmp_path / "demand.jsonl"
    demand.write_text(
        '{"at": "2026-11-23T16:00:00Z", "zip": "77002", "language": "es", '
        '"email": "ana@example.com"}\n'
    )
    message = error_of(capsys, "--agents", agents, "--demand", demand)
    assert "demand.jsonl:1: email: unknown field" in message and "ana@" not in message


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "[all]\naccept = 0.5\nreject = 0.2\nignore = 0.2\n",
            "b.toml:4: all.ignore: accept + reject + ignore must be 1, got 0.9",
        ),
        ("[all]\naccept = 1.5\nreject = 0\nignore = 0\n", "b.toml:2: all.accept: must be between"),
        ("[all]\naccept = 1\n", "b.toml:1: all.ignore: give accept, reject and ignore together"),
        (
            "[all]\nmedian_minutes = 5\np90_minutes = 2\n",
            "b.toml:3: all.p90_minutes: must be at least median_minutes",
        ),
        ("[all]\nmedain_minutes = 5\n", "b.toml:2: all.medain_minutes: unknown key"),
        ('[all]\nmedian_minutes = "5"\n', "b.toml:2: all.median_minutes: must be a number"),
        (
            '[agent."17294003"]\nignore = 1\naccept = 0\nreject = 0\n\n'
            '[agent."42"]\np90_minutes = 0.5\n',
            "b.toml:7: agent.42.p90_minutes: must be at least median_minutes",
        ),
        ('[agent."12x"]\nignore = 1\n', "b.toml:1: agent.12x"),
        ("[everyone]\naccept = 1\n", "b.toml:1: everyone: unknown table"),
        ("[all\n", "b.toml:1: not valid TOML"),
    ],
)
def test_a_bad_behaviour_file_is_named_by_file_line_and_field(
    tmp_path, agents, capsys, text, expected
):
    behaviour = tmp_path / "b.toml"
    behaviour.write_text(text)
    message = error_of(capsys, "--agents", agents, "--synthetic", 1, "--behaviour", behaviour)
    assert message.startswith(f"hod: {expected}")


def test_a_behaviour_file_overrides_everyone_and_one_agent(tmp_path):
    path = tmp_path / "b.toml"
    path.write_text(
        "[all]\nmedian_minutes = 3\np90_minutes = 3\n\n"
        '[agent."100"]\naccept = 0\nreject = 1\nignore = 0\n'
    )
    behaviours = load_behaviour(path)
    assert behaviours.of("100").reject == 1 and behaviours.of("100").median_minutes == 3
    assert behaviours.of("200").accept == 0.6 and behaviours.of("200").median_minutes == 3
    assert behaviours.answer(1, 0, "100").action == "reject"
    assert behaviours.answer(1, 0, "100").after.total_seconds() == 180


def test_other_bad_arguments(tmp_path, agents, capsys):
    assert "--synthetic: must be a whole number" in error_of(
        capsys, "--agents", agents, "--synthetic", "0"
    )
    assert "missing.jsonl: file not found" in error_of(
        capsys, "--agents", agents, "--demand", tmp_path / "missing.jsonl"
    )
    demand = tmp_path / "demand.jsonl"
    demand.write_text(GOOD)
    assert "--day goes with --synthetic" in error_of(
        capsys, "--agents", agents, "--demand", demand, "--day", "2026-12-01"
    )
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n")
    assert "empty.jsonl: no requests" in error_of(capsys, "--agents", agents, "--demand", empty)


def test_export_demand_writes_what_simulate_reads_and_no_contact_data(tmp_path):
    clock = FakeClock(MONDAY_10AM_HOUSTON)
    store = MemoryStore()
    router = Router([store, clock], channels=(), delivery_threads=0)
    router.put_agent(agent_data(npn="100"))
    for minutes, zip_code in ((0, "77002"), (5, "77030"), (9, "77004")):
        clock.at = MONDAY_10AM_HOUSTON.replace(minute=minutes)
        router.request_contact({**BASE_CONSUMER, "zip": zip_code})
    out = tmp_path / "exported.jsonl"
    assert export_demand(store, out) == (3, 0)
    text = out.read_text()
    assert "Ana" not in text and "713" not in text and "example.com" not in text
    assert [json.loads(line) for line in text.splitlines()] == [
        {"at": "2026-11-23T16:00:00Z", "zip": "77002", "state": "TX", "language": "es"},
        {"at": "2026-11-23T16:05:00Z", "zip": "77030", "state": "TX", "language": "es"},
        {"at": "2026-11-23T16:09:00Z", "zip": "77004", "state": "TX", "language": "es"},
    ]
    assert [r.zip for r in read_demand(out)] == ["77002", "77030", "77004"]


def test_an_agent_the_router_cannot_place_is_named_by_line(tmp_path, capsys):
    agents = tmp_path / "agents.jsonl"
    rows = [agent_data(npn="100"), agent_data(npn="200", zip="09001")]  # a military ZIP
    agents.write_text("".join(json.dumps(r) + "\n" for r in rows))
    message = error_of(capsys, "--agents", agents, "--synthetic", 1)
    assert message.startswith("hod: agents.jsonl:2: zip: ZIP '09001' has no location")


def test_export_demand_from_a_store_adapter_on_the_command_line(tmp_path, capsys):
    sqlite = pytest.importorskip("hod_store_sqlite")
    store = sqlite.SqliteStore(tmp_path / "hod.sqlite3")
    clock = FakeClock(MONDAY_10AM_HOUSTON)
    router = Router([store, clock], channels=(), delivery_threads=0)
    router.put_agent(agent_data(npn="100"))
    router.request_contact(BASE_CONSUMER)
    router.close()
    store.close()
    out = tmp_path / "day.jsonl"
    assert main(["export", "demand", "--out", str(out), "--setting", f"data_dir={tmp_path}"]) == 0
    assert capsys.readouterr().err.strip() == f"{out}: 1 request written"
    assert json.loads(out.read_text()) == {
        "at": "2026-11-23T16:00:00Z",
        "zip": "77002",
        "state": "TX",
        "language": "es",
    }
    assert main(["export", "demand", "--out", str(out), "--store", "no_such_store"]) == 2
    assert "--store: no adapter named 'no_such_store'" in capsys.readouterr().err


def test_a_progress_bar_on_stderr_and_the_json_still_last_on_stdout(agents, tmp_path, capsys):
    demand = tmp_path / "demand.jsonl"
    demand.write_text(GOOD)
    assert (
        main(["simulate", "--agents", str(agents), "--demand", str(demand), "--progress", "--json"])
        == 0
    )
    captured = capsys.readouterr()
    assert "policy 1/1 [#########################] 100% 1/1" in captured.err
    assert json.loads(captured.out.splitlines()[-1])["runs"][0]["figures"]["requests"] == 1
