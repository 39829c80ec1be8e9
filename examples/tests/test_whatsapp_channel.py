"""The channel example, run as a newcomer would (tox -e examples, or the core tests)."""

import subprocess
import sys
from pathlib import Path

EXAMPLE = Path(__file__).parents[1] / "whatsapp_channel.py"


def test_the_example_delivers_an_offer_on_whatsapp_after_one_refusal():
    done = subprocess.run([sys.executable, str(EXAMPLE)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "WhatsApp to +12222222222: Hi Jane, a consumer in TX asks for help." in out
    assert "Email to agent17294001@example.com" in out
    records = out.split("Delivery records")[1].splitlines()
    assert any(
        "notify.failed" in line and "'whatsapp'" in line and "'503'" in line for line in records
    )
    assert any(
        "notify.sent" in line and "'whatsapp'" in line and "'attempt': 2" in line
        for line in records
    )
