"""`hod coverage` against a brute-force count (`naive_coverage`): every agent,
every hour of the week, every state and language, through the matcher's own
naive scan (the real rules, the real A1-A4 function at the real instant).
Agents are chosen to reach every path: out of office, today's overrides on and off, a licence
lapsing mid-week, a zone given apart from the ZIP, display options 3 and 4,
State Preferences, breaks, half-hour starts, suspension; plus synthetic ones.
"""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest

from hod_core import wire
from hod_core.cli import main
from hod_core.coverage.counts import count_coverage
from hod_core.coverage.naive import naive_coverage
from hod_core.domain.models import Agent
from hod_core.rules.policy import default_policy_text, load_policy, parse_policy
from hod_core.testing.synthetic import Synthesizer

from ..conftest import agent_data

ALL_DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
ROUND_THE_CLOCK = {d: [["00:00", "24:00"]] for d in ALL_DAYS}


def varied_agents() -> list[dict]:
    """Hand-made agents around the week of Monday 23 November 2026, then synthetic ones."""
    hand = [
        agent_data(  # Houston, en/es, always on, out of office Wed noon to Fri 09:00
            npn="101",
            availability={
                "weekly": ROUND_THE_CLOCK,
                "out_of_office": [
                    {"from": "2026-11-25T12:00:00-06:00", "to": "2026-11-27T09:00:00-06:00"}
                ],
            },
        ),
        agent_data(  # Miami, es, default hours with a lunch break, on Tuesday evening
            npn="102",
            zip="33130",
            home_state="FL",
            licensed=["FL", "GA"],
            languages=["es"],
            availability={
                "weekly": None,
                "breaks": [{"start": "12:00", "end": "12:30"}],
                "today": {
                    "date": "2026-11-24",
                    "on": True,
                    "since": "2026-11-24T18:00:00-05:00",
                    "until": "2026-11-24T22:00:00-05:00",
                },
            },
        ),
        agent_data(  # Phoenix, vi, home state only (option 3), licensed in AZ and TX
            npn="103",
            zip="85004",
            home_state="AZ",
            display_option=3,
            licensed=["AZ", "TX"],
            languages=["vi", "en"],
            availability={"weekly": {d: [["07:00", "22:00"]] for d in ALL_DAYS}},
        ),
        agent_data(  # Birmingham, AL licence lapsing Wednesday 25th, always on
            npn="104",
            zip="35203",
            home_state="AL",
            licenses=[
                {
                    "state": "AL",
                    "lines_of_authority": ["Health"],
                    "active": True,
                    "expires_on": "2026-11-25",
                },
                {
                    "state": "MS",
                    "lines_of_authority": ["Life"],
                    "active": True,
                    "expires_on": None,
                },
            ],
            languages=["en", "vi"],
            availability={"weekly": ROUND_THE_CLOCK},
        ),
        agent_data(  # switched off on Thursday from 10:00 (A2 off)
            npn="105",
            licensed=["TX", "OK"],
            availability={
                "weekly": None,
                "today": {"date": "2026-11-26", "on": False, "since": "2026-11-26T10:00:00-06:00"},
            },
        ),
        agent_data(  # a Texas ZIP, working on Los Angeles time
            npn="106",
            timezone="America/Los_Angeles",
            availability={"weekly": {d: [["09:00", "17:00"]] for d in ALL_DAYS[:5]}},
        ),
        agent_data(  # licensed in FL and TX, wants only Florida
            npn="107",
            licensed=["FL", "TX"],
            state_preferences=["FL"],
            availability={"weekly": {d: [["08:30", "17:00"]] for d in ALL_DAYS[:6]}},
        ),
        agent_data(npn="108", suspended=True),  # E3
        agent_data(npn="109", display_option=4),  # E4
        agent_data(  # out of office from Thursday with no end date
            npn="110",
            zip="32501",
            home_state="FL",
            licensed=["FL", "AL"],
            languages=["en"],
            availability={
                "weekly": {d: [["06:00", "23:00"]] for d in ALL_DAYS},
                "out_of_office": [{"from": "2026-11-26T00:00:00Z", "to": None}],
            },
        ),
        agent_data(npn="111", participation={"plan_year": 2025}),  # E1
    ]
    synthetic = Synthesizer(seed=11).agents(40, first_npn=5000)
    return hand + synthetic


def agents_of(rows: list[dict]) -> list[Agent]:
    return [wire.structure(row, Agent) for row in rows]


def assert_same(figures: dict, expected: dict) -> None:
    for state, by_language in expected.items():
        for language, counts in by_language.items():
            got = figures["coverage"][state][language]["counts"]
            assert got == counts, (state, language)


@pytest.fixture(scope="module")
def agents():
    return agents_of(varied_agents())


def test_coverage_equals_a_brute_force_count_over_every_hour(agents, policy):
    monday = date(2026, 11, 23)
    figures = count_coverage(agents, policy, date(2026, 11, 26), ["en", "es", "vi"])
    assert figures["inputs"]["week_of"] == "2026-11-23"  # the Monday of that Thursday's week
    assert_same(figures, naive_coverage(agents, policy, monday, ["en", "es", "vi"]))
    tx_en = figures["coverage"]["TX"]["en"]
    assert tx_en["max"] > 0 and tx_en["eligible"] > tx_en["min"]


@pytest.mark.parametrize(
    ("week_of", "sunday_2am"),
    [("2027-03-10", None), ("2026-10-28", "counted")],  # spring forward; fall back
    ids=["spring-forward", "fall-back"],
)
def test_a_dst_week_keeps_168_wall_clock_hours(agents, policy, week_of, sunday_2am):
    day = date.fromisoformat(week_of)
    monday = day - timedelta(days=day.weekday())
    figures = count_coverage(agents, policy, day, ["en", "es"])
    assert_same(figures, naive_coverage(agents, policy, monday, ["en", "es"]))
    sunday_0200 = 6 * 24 + 2
    texas = figures["coverage"]["TX"]["en"]["counts"]
    arizona = figures["coverage"]["AZ"]["en"]["counts"]  # Phoenix keeps no DST
    assert len(texas) == 168 and arizona[sunday_0200] is not None
    if sunday_2am is None:
        assert texas[sunday_0200] is None  # 02:00 does not exist in Houston that day
    else:
        assert texas[sunday_0200] is not None


def test_a_rule_file_where_availability_is_not_required_is_followed(agents):
    # E10 rewritten: display option 1 agents take referrals at any hour.
    text = default_policy_text().replace(
        'condition = "agent.available"',
        'condition = "agent.available || agent.display_option == 1"',
    )
    policy = parse_policy(text, source="any-hour.toml")
    monday = date(2026, 11, 23)
    figures = count_coverage(agents, policy, monday, ["en"])
    assert_same(figures, naive_coverage(agents, policy, monday, ["en"]))
    default = count_coverage(agents, load_policy(), monday, ["en"])
    assert sum(figures["coverage"]["TX"]["en"]["counts"]) > sum(
        default["coverage"]["TX"]["en"]["counts"]
    )


def test_one_weekday_agent_leaves_nights_and_the_weekend_as_gaps(policy):
    alabama = agent_data(
        npn="201",
        zip="35203",
        home_state="AL",
        licensed=["AL"],
        languages=["vi"],
        availability={"weekly": {d: [["08:00", "17:00"]] for d in ALL_DAYS[:5]}},
    )
    figures = count_coverage(agents_of([alabama]), policy, date(2026, 11, 23), ["vi", "ht"])
    texts = {(g["state"], g["language"]): g["text"] for g in figures["gaps"]}
    assert texts[("AL", "vi")] == "AL, vi: nobody Mon-Thu 17:00-08:00, Fri 17:00-Mon 08:00 CST"
    assert texts[("AL", "ht")] == "AL, ht: nobody all week (no eligible agent)"
    assert texts[("TX", "vi")] == "TX, vi: nobody all week (no eligible agent)"
    al = figures["coverage"]["AL"]["vi"]
    assert al["eligible"] == 1 and al["hours_uncovered"] == 168 - 45
    assert [g["hours"] for g in figures["gaps"] if g["state"] == "AL"][0] == 123
    ranges = next(g for g in figures["gaps"] if g["state"] == "AL")["ranges"]
    assert ranges[0] == {
        "start": "2026-11-23T17:00:00-06:00",
        "end": "2026-11-24T08:00:00-06:00",
        "hours": 15,
    }
    assert ranges[-1]["start"] == "2026-11-27T17:00:00-06:00" and ranges[-1]["hours"] == 63


def test_the_command_prints_gaps_and_json(tmp_path, capsys):
    path = tmp_path / "agents.jsonl"
    path.write_text("".join(json.dumps(row) + "\n" for row in varied_agents()))
    args = ["coverage", "--agents", str(path), "--week-of", "2026-11-23", "--languages", "en,vi"]
    assert main(args) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("51 agents, week of 2026-11-23")
    assert "AR, vi: nobody all week (no eligible agent)" in lines
    assert main([*args, "--json"]) == 0
    figures = json.loads(capsys.readouterr().out.splitlines()[-1])
    expected = count_coverage(
        agents_of(varied_agents()), load_policy(), date(2026, 11, 23), ["en", "vi"]
    )
    assert figures["coverage"] == expected["coverage"] and figures["gaps"] == expected["gaps"]
    assert figures["inputs"]["agents_file"] == "agents.jsonl"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--languages", "en,xx"], "--languages"),
        (["--languages", ","], "expected codes such as en,es"),
        (["--week-of", "2026-13-01"], "--week-of"),
        (["--week-of", "next week"], "not a date YYYY-MM-DD"),
        (["--policy", "missing.toml"], "missing.toml"),
    ],
)
def test_bad_flags_are_one_line_and_exit_2(tmp_path, capsys, args, message):
    path = tmp_path / "agents.jsonl"
    path.write_text(json.dumps(agent_data()) + "\n")
    assert main(["coverage", "--agents", str(path), *args]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1 and "Traceback" not in err


def test_a_bad_agent_line_names_the_file_line_and_field(tmp_path, capsys):
    path = tmp_path / "agents.jsonl"
    bad = agent_data(npn="2", languages=["english"])
    unzoned = agent_data(npn="3", zip="09001")  # a military ZIP: no location, no zone
    path.write_text(json.dumps(agent_data()) + "\n" + json.dumps(bad) + "\n")
    assert main(["coverage", "--agents", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("hod: agents.jsonl:2: languages") and err.count("\n") == 1
    path.write_text(json.dumps(agent_data()) + "\n\n" + json.dumps(unzoned) + "\n")
    assert main(["coverage", "--agents", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("hod: agents.jsonl:3: zip") and "Traceback" not in err
