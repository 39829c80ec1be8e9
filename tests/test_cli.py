"""`hod` end to end: JSON on stdout, one-line errors and exit 2 on bad input."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from hod_core.cli import main
from hod_core.rules.policy import default_policy_text

from .conftest import BASE_CONSUMER, agent_data

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
AT = "2026-11-23T15:00:00-06:00"


def match_example(capsys, *extra):
    return run(
        capsys,
        "match",
        "--agents",
        str(EXAMPLES / "agents.jsonl"),
        "--consumer",
        str(EXAMPLES / "consumer.json"),
        "--at",
        AT,
        *extra,
    )


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def write_agents(tmp_path, *agents) -> str:
    path = tmp_path / "agents.jsonl"
    path.write_text("".join(json.dumps(a) + "\n" for a in agents))
    return str(path)


def write_consumer(tmp_path, **overrides) -> str:
    path = tmp_path / "consumer.json"
    path.write_text(json.dumps({**BASE_CONSUMER, **overrides}))
    return str(path)


def test_match_on_the_bundled_example(capsys):
    code, out, err = match_example(capsys, "--explain")
    assert code == 0 and err == ""
    result = json.loads(out)
    assert [e["npn"] for e in result["queue"]] == ["1000001", "1000002", "1000011"]
    assert result["queue"][0]["distance_km"] == result["queue"][1]["distance_km"]  # tie -> NPN
    assert result["excluded"]["1000003"] == "E3"
    assert result["excluded"]["1000008"] == "E8"
    assert set(result["excluded"].values()) >= {
        "E1",
        "E2",
        "E3",
        "E4",
        "E6",
        "E7",
        "E8",
        "E9",
        "E10",
    }


def test_match_limit_and_no_explain(capsys, tmp_path):
    agents = write_agents(
        tmp_path, agent_data(npn="1", zip="75201"), agent_data(npn="2", zip="77030")
    )
    code, out, _ = run(
        capsys,
        "match",
        "--agents",
        agents,
        "--consumer",
        write_consumer(tmp_path),
        "--at",
        AT,
        "--limit",
        "1",
    )
    assert code == 0
    assert json.loads(out) == {
        "queue": [{"npn": "2", "distance_km": pytest.approx(7.33, abs=0.01)}]
    }


@pytest.mark.parametrize(
    ("agents", "consumer", "at", "expected"),
    [
        (
            [agent_data(), {**agent_data(), "npn": "x"}],
            {},
            AT,
            "agents.jsonl:2: npn: NPN must be 1 to 10 digits",
        ),
        (
            [agent_data(), agent_data()],
            {},
            AT,
            "agents.jsonl:2: npn: duplicate NPN 17294003 (first on line 1)",
        ),
        ([agent_data(zip="00000")], {}, AT, "agents.jsonl:1: zip: unknown ZIP '00000'"),
        ([agent_data()], {"phone": "12"}, AT, "consumer.json: phone: not a phone number"),
        ([agent_data()], {"zip": "09001"}, AT, "consumer.json: zip: ZIP '09001' has no location"),
        (
            [agent_data()],
            {"language": "xx"},
            AT,
            'consumer.json: language: unknown language code "xx"',
        ),
        ([agent_data()], {}, "2026-11-23 15:00", "--at: date-time needs a UTC offset"),
        ([agent_data()], {}, "yesterday", "--at: not an RFC 3339 date-time"),
    ],
)
def test_bad_input_exits_2_with_one_line(capsys, tmp_path, agents, consumer, at, expected):
    code, out, err = run(
        capsys,
        "match",
        "--agents",
        write_agents(tmp_path, *agents),
        "--consumer",
        write_consumer(tmp_path, **consumer),
        "--at",
        at,
    )
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and expected in err, err


def test_missing_files_and_arguments_exit_2(capsys, tmp_path):
    code, _, err = run(
        capsys,
        "match",
        "--agents",
        str(tmp_path / "none.jsonl"),
        "--consumer",
        write_consumer(tmp_path),
        "--at",
        AT,
    )
    assert code == 2 and "none.jsonl: file not found" in err
    code, _, err = run(
        capsys,
        "match",
        "--agents",
        str(tmp_path),
        "--consumer",
        write_consumer(tmp_path),
        "--at",
        AT,
    )
    assert code == 2 and "cannot read: Is a directory" in err
    code, _, err = run(capsys, "match", "--agents", "a.jsonl")
    assert code == 2 and err.count("\n") == 1 and "required" in err
    code, _, err = run(
        capsys, "match", "--agents", "a", "--consumer", "c", "--at", AT, "--limit", "0"
    )
    assert code == 2 and "--limit" in err


def test_rules_check_ok_and_broken(capsys, tmp_path):
    good = tmp_path / "good.toml"
    good.write_text(default_policy_text())
    code, out, _ = run(capsys, "rules", "check", str(good))
    assert code == 0 and "OK" in out and "E12" in out
    bad = tmp_path / "bad.toml"
    bad.write_text(
        default_policy_text()
        .replace("!agent.suspended", "!agent.suspendd")
        .replace("max_wait_minutes = 60", "max_wait_minutes = -1")
    )
    code, _, err = run(capsys, "rules", "check", str(bad))
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 2
    assert all(line.startswith(f"hod: {bad}:") for line in lines)
    assert "policy.max_wait_minutes" in lines[0] and "rules.E3.condition" in lines[1]


def test_match_with_a_broken_policy_is_one_line(capsys, tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text(default_policy_text().replace("!agent.suspended", "!agent.suspendd"))
    code, _, err = run(
        capsys,
        "match",
        "--policy",
        str(bad),
        "--agents",
        write_agents(tmp_path, agent_data()),
        "--consumer",
        write_consumer(tmp_path),
        "--at",
        AT,
    )
    assert code == 2 and err.count("\n") == 1 and "rules.E3.condition" in err


def test_installed_console_script_runs_without_traceback(tmp_path):
    hod = Path(sys.executable).with_name("hod")
    command = [str(hod)] if hod.exists() else [sys.executable, "-m", "hod_core.cli"]
    done = subprocess.run(
        [
            *command,
            "match",
            "--agents",
            str(tmp_path / "missing.jsonl"),
            "--consumer",
            "c.json",
            "--at",
            AT,
        ],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 2
    assert "Traceback" not in done.stderr and "missing.jsonl: file not found" in done.stderr
    done = subprocess.run([*command, "rules", "default"], capture_output=True, text=True)
    assert done.returncode == 0 and "[[rules]]" in done.stdout


def test_why_gives_every_rule_verdict_for_one_agent(capsys):
    code, out, _ = match_example(capsys, "--why", "1000015")
    assert code == 0
    why = json.loads(out)["why"]
    assert why["first_failing"] == "E10" and not why["eligible"]
    assert [r["id"] for r in why["rules"]] == [f"E{i}" for i in range(1, 13)]
    assert why["availability"] == {
        "available": False,
        "decided_by": "A2",
        "zone": "America/Chicago",
    }
    code, _, err = match_example(capsys, "--why", "42")
    assert code == 3 and "no agent with NPN '42'" in err  # not found, not a usage error


def test_offers_so_far_drive_e11_e12_and_the_tie_break(capsys):
    code, out, _ = match_example(
        capsys, "--explain", "--offered", "1000001", "--pending", "1000002"
    )
    result = json.loads(out)
    assert code == 0 and [e["npn"] for e in result["queue"]] == ["1000011"]
    assert result["excluded"]["1000001"] == "E11" and result["excluded"]["1000002"] == "E12"
    code, out, _ = match_example(capsys, "--last-offered", "1000001=2026-11-23T14:00:00-06:00")
    assert [e["npn"] for e in json.loads(out)["queue"]][:2] == ["1000002", "1000001"]
    code, _, err = match_example(capsys, "--pending", "1000002=two")
    assert code == 2 and "--pending" in err and err.count("\n") == 1


def test_unknown_options_are_named_with_the_subcommands_own_help(capsys):
    code, out, err = run(capsys, "--versoin")
    assert code == 2 and out == "" and err.count("\n") == 1
    assert "unknown option --versoin; did you mean --version? (see hod --help)" in err
    code, _, err = run(capsys, "match", "--bogus")  # before the missing --agents, --at, ...
    assert code == 2 and err == "hod: match: unknown option --bogus (see hod match --help)\n"
    code, _, err = match_example(capsys, "--limt", "3")
    assert (
        code == 2 and "unknown option --limt; did you mean --limit? (see hod match --help)" in err
    )
    code, _, err = run(capsys, "rules", "check", "a.toml", "b.toml")
    assert (
        code == 2 and "rules check: unexpected argument b.toml (see hod rules check --help)" in err
    )


def test_exit_statuses_are_distinct_and_documented():
    from hod_core.cli import EXIT_CODES, FAILURE, NOT_FOUND, USER_ERROR

    codes = [code for code, _ in EXIT_CODES]
    assert len(set(codes)) == len(codes) and {0, FAILURE, USER_ERROR, NOT_FOUND} <= set(codes)
    assert (FAILURE, USER_ERROR, NOT_FOUND) == (1, 2, 3)
    sys.path.insert(0, str(EXAMPLES.parent / "tools"))
    try:
        import docs_reference
    finally:
        sys.path.pop(0)
    page = docs_reference.cli_page()
    assert "## Exit status" in page
    for code, _ in EXIT_CODES:
        assert f"| {code} | " in page


def _hod(*argv, stdout) -> subprocess.CompletedProcess:
    """`hod argv...` as a process, its stdout given, its stderr read."""
    return subprocess.run(
        [sys.executable, "-m", "hod_core.cli", *argv],
        stdout=stdout,
        stderr=subprocess.PIPE,
        text=True,
        timeout=60,
    )


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
@pytest.mark.parametrize("argv", [["rules", "default"], ["--version"]])  # large, and buffered
def test_a_full_disk_is_one_line_and_exit_1(argv):
    with open("/dev/full", "w") as full:
        done = _hod(*argv, stdout=full)
    assert done.returncode == 1
    assert done.stderr == "hod: cannot write the output: No space left on device\n"


@pytest.mark.parametrize("argv", [["rules", "default"], ["--version"]])
def test_a_closed_pipe_ends_quietly_as_a_shell_expects(argv):
    read, write = os.pipe()
    os.close(read)  # the reader went away, as `hod ... | head -1` after its line
    try:
        done = _hod(*argv, stdout=write)
    finally:
        os.close(write)
    assert done.returncode == 141 and done.stderr == ""  # 128 + SIGPIPE, like `yes | head`
