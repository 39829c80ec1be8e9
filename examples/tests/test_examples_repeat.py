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
