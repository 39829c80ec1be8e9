"""The notifier example, run as a newcomer would (tox -e examples)."""

import subprocess
import sys
from pathlib import Path

EXAMPLE = Path(__file__).parents[1] / "notify_loopback.py"


def test_the_example_sends_a_real_email_text_and_app_event_and_retries_the_text():
    done = subprocess.run([sys.executable, str(EXAMPLE)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "Subject: Nuevo referido de Help On Demand: acepte o rechace antes de las 10:15" in out
    assert "Parts: text/plain, text/html" in out
    assert "Text messages accepted by the loopback Twilio (3 requests)" in out  # a 503, then 2
    assert '"num_segments": "1"' in out
    assert "(verified: True)" in out
    records = out.split("Delivery records")[1].splitlines()
    assert any("notify.failed  text" in line and "'transient': True" in line for line in records)
    assert any("L2  notify.sent    text  {'attempt': 2}" in line for line in records)
    assert any("R4  notify.sent    text" in line for line in records)
    for personal in ("Ruiz", "+17135550100", "ana@example.com"):
        assert personal not in out  # the consumer's contact data went nowhere
