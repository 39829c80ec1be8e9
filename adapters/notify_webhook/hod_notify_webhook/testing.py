"""pytest plugin: a loopback webhook receiver (`receiver.Receiver`) for the
conformance suite and the adapter's tests.

    pytest -p hod_core.testing.plugin -p hod_notify_webhook.testing --hod-adapter notify_webhook \\
        --pyargs hod_core.testing.conformance
"""

from __future__ import annotations

import pytest

from hod_core.testing import closed_port

from .receiver import Receiver
from .sender import new_signing_secret


@pytest.fixture
def webhook_receiver():
    with Receiver() as receiver:
        yield receiver


@pytest.fixture
def webhook_secret() -> str:
    return new_signing_secret()


@pytest.fixture
def hod_far_end_settings(webhook_receiver, webhook_secret) -> dict[str, str]:
    return {"url": webhook_receiver.url, "signing_secret": webhook_secret, "timeout_s": "5"}


@pytest.fixture
def hod_notify_inbox(webhook_receiver):
    return lambda: [body.decode() for _, body in webhook_receiver.requests]


@pytest.fixture
def hod_notify_unreachable_settings() -> dict[str, str]:
    return {"url": f"http://127.0.0.1:{closed_port()}/hooks/hod"}
