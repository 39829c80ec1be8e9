"""pytest plugin: a loopback Twilio for the conformance suite and the adapter's tests.

    pytest -p hod_core.testing.plugin -p hod_notify_sms.testing --hod-adapter notify_sms \\
        --pyargs hod_core.testing.conformance
"""

from __future__ import annotations

import pytest

from hod_core.testing import closed_port

from .fake_twilio import FakeTwilio


@pytest.fixture
def fake_twilio():
    with FakeTwilio() as twilio:
        yield twilio


@pytest.fixture
def hod_far_end_settings(fake_twilio) -> dict[str, str]:
    return fake_twilio.settings()


@pytest.fixture
def hod_notify_inbox(fake_twilio):
    return lambda: [message["body"] for message in fake_twilio.messages]


@pytest.fixture
def hod_notify_unreachable_settings() -> dict[str, str]:
    return {"base_url": f"http://127.0.0.1:{closed_port()}"}
