"""What the README promises: its fact table, its example commands."""

import json
import subprocess
import sys
from pathlib import Path

from hod_core.rules.vocabulary import FACTS

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()


def test_readme_lists_every_fact_of_the_rule_language():
    for fact in FACTS.values():
        assert f"| `{fact.name}` | {fact.type} | {fact.kind} | {fact.doc} |" in README, fact.name


def test_readme_main_command_output_is_what_hod_prints():
    command = README.split("\n.venv/bin/hod match ")[1]
    hod_args = ["match", *command.splitlines()[0].split()]
    done = subprocess.run(
        [sys.executable, "-m", "hod_core.cli", *hod_args], cwd=ROOT, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    queue = json.loads(done.stdout)["queue"]
    for entry in queue:
        assert f'{{"npn": "{entry["npn"]}", "distance_km": {entry["distance_km"]}}}' in README


def test_python_embedding_example_runs():
    done = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "match_in_python.py")],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("1. Maria Lopez (NPN 1000001), 7.3 km")
    assert any("E3 - Account not suspended" in line for line in lines)


def test_readme_library_example_runs_as_written():
    block = README.split("```python\n", 1)[1].split("```", 1)[0]
    namespace: dict = {}
    import os

    here = os.getcwd()
    os.chdir(ROOT)
    try:
        exec(compile(block, "README.md", "exec"), namespace)  # noqa: S102 - our own README
    finally:
        os.chdir(here)
    result = namespace["result"]
    assert [e.npn for e in result.queue] == ["1000001"]
    assert result.excluded["1000002"] == "E11" and result.excluded["1000011"] == "E12"
    assert "1000004" not in namespace["matcher"]


def test_crm_embedding_example_runs_a_referral_through_its_whole_life():
    done = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "embed_crm.py")],
        capture_output=True,
        text=True,
        check=True,
    )
    log = [
        line.split()[3]
        for line in done.stdout.splitlines()
        if line.strip()[:1].isdigit() and " L" in line
    ]
    assert [k for k in log if not k.startswith("notify.")] == [
        "referral.created",
        "offer.made",
        "offer.rejected",
        "offer.made",
        "offer.missed",
        "offer.made",
        "offer.accepted",
        "referral.status",
        "referral.status",
    ]
    assert "Missed Referral" in done.stdout and "Referral Completed" in done.stdout


def test_readme_router_example_runs_as_written():
    block = README.split("```python\n")[2].split("```", 1)[0]
    namespace: dict = {}
    exec(compile(block, "README.md", "exec"), namespace)  # noqa: S102 - our own README
    referral, router = namespace["referral"], namespace["router"]
    assert namespace["view"].phone == "+17135550100"
    assert [n.channel for n in namespace["outbox"].notices] == ["email", "text"]
    assert router.referral(referral.id).status.label == "In Progress"
    kinds = [(e.rule, e.kind) for e in router.events(referral.id)]
    assert kinds[:2] == [("L1", "referral.created"), ("L1", "offer.made")]
    assert ("L7", "referral.contact_overdue") not in kinds  # moved on in time


def test_ci_runs_exactly_the_readme_test_command():
    command = README.split(
        "# 2. every test (lint + the whole suite); CI runs exactly this (.ci/run)\n"
    )
    command = command[1].splitlines()[0]
    assert command in (ROOT / ".ci" / "run").read_text().splitlines()
