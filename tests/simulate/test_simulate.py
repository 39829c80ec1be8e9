"""`hod simulate` end to end: the real Router, the in-memory store, a fake clock.

The first test is a day small enough to work out by hand: three agents in
Houston, four requests, fixed behaviour (one agent never answers, one
accepts after exactly two minutes, one speaks no Spanish), and a rule file
that suspends after two misses in a row (L9). Every figure is checked
against the hand-worked story told in its comments.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hod_core.cli import main
from hod_core.rules.policy import default_policy_text

from ..conftest import agent_data

HOUSTON_DAY = [  # Monday 23 November 2026; Houston is UTC-6
    {"at": "2026-11-23T16:00:00Z", "zip": "77002", "language": "es"},  # r0, 10:00
    {"at": "2026-11-23T16:05:00Z", "zip": "77002", "state": "TX", "language": "es"},  # r1
    {"at": "2026-11-23T16:16:00Z", "zip": "77002", "language": "es"},  # r2, 10:16
    {"at": "2026-11-24T02:00:00Z", "zip": "77002", "language": "es"},  # r3, 20:00
]
FIXED = """
[all]              # everyone answers: accepts, after exactly 2 minutes
accept = 1
reject = 0
ignore = 0
median_minutes = 2
p90_minutes = 2

[agent."100"]      # agent 100 never answers
accept = 0
reject = 0
ignore = 1
"""


MINUTE_BINS = [*map(str, range(30)), *map(str, range(30, 120, 5)), "120+"]


def minute_bins(histogram: dict) -> dict:
    """The bins of a minutes histogram that are not empty, after checking that
    it has every fixed bin (its lower edge in minutes) in order."""
    assert list(histogram) == MINUTE_BINS
    return {label: n for label, n in histogram.items() if n}


def write_lines(path: Path, rows) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def policy_file(path: Path, **changes) -> Path:
    text = default_policy_text()
    for key, value in changes.items():
        old = next(line for line in text.splitlines() if line.startswith(f"{key} ="))
        text = text.replace(old, f"{key} = {value}")
    path.write_text(text)
    return path


def simulate(capsys, *args) -> dict:
    assert main(["simulate", *map(str, args), "--json"]) == 0
    out = capsys.readouterr().out.strip().splitlines()
    return json.loads(out[-1])


@pytest.fixture
def houston(tmp_path):
    agents = write_lines(
        tmp_path / "agents.jsonl",
        [
            agent_data(npn="100", zip="77002"),  # nearest (0 km), never answers
            agent_data(npn="200", zip="77030"),  # a few km further, accepts after 2 min
            agent_data(npn="300", zip="77002", languages=["en"]),  # no Spanish (E9)
        ],
    )
    demand = write_lines(tmp_path / "demand.jsonl", HOUSTON_DAY)
    behaviour = tmp_path / "fixed.toml"
    behaviour.write_text(FIXED)
    policy = policy_file(tmp_path / "two-misses.toml", suspension_consecutive_missed=2)
    return agents, demand, behaviour, policy


def day_args(houston) -> list:
    """The hand-worked day's agents, demand and fixed behaviour, as arguments."""
    agents, demand, behaviour, _ = houston
    return ["--agents", agents, "--demand", demand, "--behaviour", behaviour]


def test_a_day_worked_out_by_hand(houston, capsys):
    policy = houston[3]
    result = simulate(capsys, *day_args(houston), "--policy", policy, "--seed", 5)
    # r0 10:00 -> 100 (nearest), ignored, Missed at 10:15 -> 200 at 10:15, accepted 10:17: 17 min.
    # r1 10:05 -> 100 holds r0 (E12, capacity 1) -> 200, accepted 10:07: 2 min.
    # r2 10:16 -> 100 (free again; 200 holds r0), Missed 10:31 -> 100's second miss in a
    #    row: suspended (L9) -> 200 at 10:31, accepted 10:33: 17 min.
    # r3 20:00 -> nobody at work (A4 hours): Waiting, Unmatched at 21:00 (max_wait 60, L10).
    f = result["runs"][0]["figures"]
    assert result["runs"][0]["policy"] == "two-misses.toml"
    assert result["inputs"]["agents"] == 3 and result["inputs"]["seed"] == 5
    assert (f["requests"], f["accepted"], f["unmatched"], f["open_at_end"]) == (4, 3, 1, 0)
    assert (f["share_accepted"], f["share_unmatched"]) == (0.75, 0.25)
    # [2, 17, 17]: nearest rank p50 = 2nd, p90 and p99 = 3rd
    to_accept = dict(f["time_to_accept_minutes"])
    assert minute_bins(to_accept.pop("histogram")) == {"2": 1, "17": 2}
    assert to_accept == {"count": 3, "mean": 12.0, "p50": 17.0, "p90": 17.0, "p99": 17.0}
    assert f["time_to_first_offer_minutes"] == {
        "count": 3,
        "mean": 0.0,
        "p50": 0.0,
        "p90": 0.0,
        "p99": 0.0,
    }
    # offers answered after [15, 2, 2, 15, 2] minutes: an expired offer's 15 is in bin "15"
    offer_wait = dict(f["offer_wait_minutes"])
    assert minute_bins(offer_wait.pop("histogram")) == {"2": 3, "15": 2}
    assert offer_wait == {"count": 5, "mean": 7.2, "p50": 2.0, "p90": 15.0, "p99": 15.0}
    assert (f["offers"], f["offers_per_referral"]) == (5, 1.25)
    assert (f["accepted_offers"], f["rejected_offers"], f["missed_offers"]) == (3, 0, 2)
    assert (f["share_offers_missed"], f["suspensions"]) == (0.4, 1)
    # 100 got 2 offers, 200 got 3, 300 none: Gini of [2, 3] is 0.1, of [0, 2, 3] 0.4
    per_agent = f["offers_per_agent"]
    assert {k: v for k, v in per_agent.items() if k != "histogram"} == {
        "agents": 3,
        "agents_offered": 2,
        "mean": 2.5,
        "max": 3,
        "gini": 0.1,
        "gini_all_agents": 0.4,
    }
    assert per_agent["histogram"] == {
        "1": 0,
        "2": 1,
        "3": 1,
        "4": 0,
        "5": 0,
        "6": 0,
        "7": 0,
        "8": 0,
        "9": 0,
        "10+": 0,
    }
    # Samples every 15 min from 16:00Z: r3 waits 02:00Z-03:00Z (samples 40-43); r0 is open
    # at 16:00 and 16:15, r2 at 16:30 (r1, 16:05-16:07, falls between samples).
    series = f["waiting_over_day"]
    assert (series["step_minutes"], series["start"]) == (15, "2026-11-23T16:00:00Z")
    assert series["waiting"] == [0] * 40 + [1] * 4 + [0] * 2
    assert series["open"] == [1, 1, 1] + [0] * 37 + [1] * 4 + [0] * 2
    assert list(f["by_state"]) == ["TX"] and list(f["by_language"]) == ["es"]
    assert f["by_state"]["TX"]["requests"] == f["by_language"]["es"]["requests"] == 4
    ten, eight_pm = f["by_hour"]["10"], f["by_hour"]["20"]
    assert set(f["by_hour"]) == {"10", "20"}
    assert ten == {
        "requests": 3,
        "accepted": 3,
        "unmatched": 0,
        "share_unmatched": 0.0,
        "time_to_accept_minutes": {"count": 3, "mean": 12.0, "p50": 17.0, "p90": 17.0, "p99": 17.0},
        "offers": 5,
        "offers_per_referral": 1.667,
        "missed_offers": 2,
        "rejected_offers": 0,
        "suspensions": 1,  # brought by r2's miss
        "offers_per_agent": {"agents_offered": 2, "mean": 2.5, "max": 3, "gini": 0.1},
    }
    assert eight_pm["unmatched"] == 1 and eight_pm["share_unmatched"] == 1.0
    assert eight_pm["time_to_accept_minutes"]["p50"] is None and eight_pm["offers"] == 0
    assert result["comparison"] is None


def test_two_misses_under_the_shipped_threshold_of_five_suspend_nobody(houston, capsys):
    f = simulate(capsys, *day_args(houston))
    assert f["runs"][0]["figures"]["suspensions"] == 0
    assert f["runs"][0]["figures"]["missed_offers"] == 2


@pytest.fixture
def synthetic_agents(tmp_path):
    from hod_core.testing.synthetic import Synthesizer

    return write_lines(tmp_path / "agents.jsonl", Synthesizer(seed=11).agents(1500))


def test_a_shorter_offer_window_gives_more_misses_and_shorter_waits_per_offer(
    synthetic_agents, tmp_path, capsys
):
    ten = policy_file(tmp_path / "window-10.toml", offer_window_minutes=10)
    result = simulate(
        capsys, "--agents", synthetic_agents, "--synthetic", 400, "--compare", ten, "--seed", 3
    )
    base, other = (run["figures"] for run in result["runs"])
    assert [run["parameters"]["offer_window_minutes"] for run in result["runs"]] == [15, 10]
    assert other["missed_offers"] > base["missed_offers"]
    assert other["offer_wait_minutes"]["mean"] < base["offer_wait_minutes"]["mean"]
    assert other["offer_wait_minutes"]["p99"] <= 10 < base["offer_wait_minutes"]["p99"]
    differences = result["comparison"]["differences"]
    assert result["comparison"]["base"] == "default.toml (built in)"
    assert result["comparison"]["other"] == "window-10.toml"
    assert differences["missed_offers"] == other["missed_offers"] - base["missed_offers"]
    assert differences["requests"] == 0  # the same demand
    for figure in ("time_to_accept_minutes", "offer_wait_minutes"):  # bin by bin
        assert list(differences[figure]["histogram"]) == MINUTE_BINS
        assert differences[figure]["histogram"] == {
            b: other[figure]["histogram"][b] - n for b, n in base[figure]["histogram"].items()
        }
    # No offer waits 10 minutes or more under a 10-minute window: expiries fall in bin "10".
    assert sum(other["offer_wait_minutes"]["histogram"][str(m)] for m in range(11, 30)) == 0
    assert other["offer_wait_minutes"]["histogram"]["10"] == other["missed_offers"]
    assert base["offer_wait_minutes"]["histogram"]["15"] >= base["missed_offers"]
    assert differences["offers_per_agent"]["histogram"]["1"] == (
        other["offers_per_agent"]["histogram"]["1"] - base["offers_per_agent"]["histogram"]["1"]
    )
    state = next(iter(base["by_state"]))
    assert differences["by_state"][state]["offers"] == (
        other["by_state"][state]["offers"] - base["by_state"][state]["offers"]
    )


def test_the_same_seed_gives_the_same_json_and_another_seed_another(synthetic_agents, capsys):
    def run(seed):
        main(
            [
                "simulate",
                "--agents",
                str(synthetic_agents),
                "--synthetic",
                "150",
                "--seed",
                str(seed),
                "--json",
            ]
        )
        return capsys.readouterr().out.strip().splitlines()[-1]

    first = run(9)
    assert run(9) == first
    assert run(10) != first


def test_a_summary_without_json(houston, capsys):
    ten = policy_file(houston[0].parent / "window-10.toml", offer_window_minutes=10)
    assert main(["simulate", *map(str, day_args(houston)), "--compare", str(ten)]) == 0
    out = capsys.readouterr().out
    assert "window-10.toml" in out and "difference" in out and "request to accept, p90" in out


def test_the_same_policy_twice_differs_in_nothing(synthetic_agents, tmp_path, capsys):
    """--compare runs both on the same requests and the same draws."""
    same = policy_file(tmp_path / "same.toml")
    result = simulate(
        capsys, "--agents", synthetic_agents, "--synthetic", 200, "--compare", same, "--seed", 4
    )
    base, other = (run["figures"] for run in result["runs"])
    assert base == other

    def zero(value):
        if isinstance(value, dict):
            return all(zero(v) for v in value.values())
        if isinstance(value, list):
            return all(v == 0 for v in value)
        return value in (0, None)

    assert zero(result["comparison"]["differences"])


def test_report_writes_one_html_file_from_the_same_figures(houston, tmp_path, capsys):
    pytest.importorskip("matplotlib")
    policy = houston[3]
    report = tmp_path / "day.html"
    result = simulate(capsys, *day_args(houston), "--compare", policy, "--report", report)
    html = report.read_text()
    assert html.lstrip().lower().startswith("<!doctype html>")
    assert "two-misses.toml" in html and "data:image/png;base64," in html
    assert result["comparison"]["other"] == "two-misses.toml"


def test_minute_bins_include_their_lower_edge_and_end_open_at_120():
    from hod_core.simulate.figures import minutes_histogram

    values = [0, 0.99, 1, 29.99, 30, 34.99, 35, 119.99, 120, 600]
    assert minute_bins(minutes_histogram(values)) == {
        "0": 2,
        "1": 1,
        "29": 1,
        "30": 2,
        "35": 1,
        "115": 1,
        "120+": 2,
    }
