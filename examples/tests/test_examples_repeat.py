"""The examples without adapters, run as a newcomer would: each tells the same
story on every run (no thread interleaving, no random ids in what it prints)."""

import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).parents[1]


def run(name: str) -> str:
    done = subprocess.run(
        [sys.executable, str(EXAMPLES / name)], capture_output=True, text=True, cwd=EXAMPLES.parent
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.mark.parametrize("name", ["embed_crm.py", "match_in_python.py"])
def test_an_example_prints_the_same_output_on_every_run(name):
    assert run(name) == run(name)


def test_the_crm_example_tells_the_whole_lifecycle_in_order():
    out = run("embed_crm.py")
    kinds = [
        line.split()[3]
        for line in out.split("event log:")[1].splitlines()
        if line.strip()[:1].isdigit()
    ]
    assert kinds == [
        "referral.created", "offer.made", "notify.sent", "notify.sent", "offer.rejected",
        "offer.made", "notify.sent", "offer.missed", "offer.made", "notify.sent",
        "offer.accepted", "referral.status", "referral.status",
    ]  # fmt: skip
    assert "17294002 sees: Missed Referral" in out
    assert "status: Referral Completed" in out
