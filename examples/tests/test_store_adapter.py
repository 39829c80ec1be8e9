"""The store adapter example, run as a newcomer would: the script, then the
conformance suite on it (docs/howto/write-a-store.md)."""

import subprocess
import sys
from pathlib import Path

EXAMPLES = Path(__file__).parents[1]


def test_the_example_audits_every_event_of_a_referral():
    done = subprocess.run(
        [sys.executable, str(EXAMPLES / "store_adapter.py")], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    kinds = [line.split()[0] for line in done.stdout.split("Audit file:")[1].splitlines() if line]
    assert kinds[:3] == ["agent.saved", "referral.created", "offer.made"]
    assert kinds[-1] == "offer.accepted" and "notify.sent" in kinds


def test_the_example_passes_the_conformance_suite():
    suite = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"]
    suite += ["-p", "hod_core.testing.plugin", "--hod-adapter", "store_adapter:make"]
    suite += ["--pyargs", "hod_core.testing.conformance", "-k", "not test_notify"]
    done = subprocess.run(suite, cwd=EXAMPLES, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr
    assert " passed" in done.stdout and "failed" not in done.stdout
    assert "test_store_contract" not in done.stdout  # nothing skipped in the contract's tests


def test_the_how_to_shows_the_example_as_it_is():
    page = (EXAMPLES.parent / "docs" / "howto" / "write-a-store.md").read_text()
    source = (EXAMPLES / "store_adapter.py").read_text()
    blocks = [b.split("```")[0] for b in page.split("```python\n")[1:]]
    assert len(blocks) >= 4
    for block in blocks:
        assert block in source, f"not in examples/store_adapter.py:\n{block}"
