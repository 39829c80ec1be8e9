"""The adapter conformance suite's pytest plugin, and test doubles for hosts.

An adapter author proves an adapter with:

    pytest -p hod_core.testing --hod-adapter store_sqlite --pyargs hod_core.conformance

`--hod-adapter` names an installed adapter (entry point group
`hod_core.adapters`); `--hod-setting key=value` adds settings. Each test gets
a fresh adapter built with `data_dir` set to its own temporary directory. An
adapter's conftest may override the `hod_adapter_settings` fixture (to point
at a loopback server, say) and, for a notifier, must provide
`hod_notify_inbox`: a callable returning what the adapter's far end received.

`FakeClock` and `Outbox` are plain objects a host's own tests can register
with a router too: a clock to move by hand, and a notifier that keeps notices.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from .notices import Notice
from .plugins import load_adapter


class FakeClock:
    """The clock hook, moved by hand: 15-minute windows pass in microseconds."""

    def __init__(self, at: datetime):
        if at.tzinfo is None:
            raise ValueError("a fake clock needs a timezone-aware start")
        self.at = at

    def hod_now(self) -> datetime:
        return self.at

    def advance(self, **delta: float) -> datetime:
        """Move on by `timedelta(**delta)`, e.g. `clock.advance(minutes=15)`."""
        self.at += timedelta(**delta)
        return self.at


class Outbox:
    """A notifier on every channel that keeps what it is given, in order."""

    def __init__(self):
        self.notices: list[Notice] = []

    def hod_notify_email(self, notice: Notice) -> None:
        self.notices.append(notice)

    def hod_notify_text(self, notice: Notice) -> None:
        self.notices.append(notice)

    def hod_notify_app(self, notice: Notice) -> None:
        self.notices.append(notice)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("hod", "hod-core adapter conformance")
    group.addoption("--hod-adapter", help="the installed adapter to test (an entry point name)")
    group.addoption(
        "--hod-setting",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a setting for the adapter (repeatable)",
    )


@pytest.fixture
def hod_adapter_name(request: pytest.FixtureRequest) -> str:
    name = request.config.getoption("--hod-adapter")
    if not name:
        pytest.fail("the conformance suite needs --hod-adapter NAME", pytrace=False)
    return name


@pytest.fixture
def hod_adapter_settings(request: pytest.FixtureRequest, tmp_path) -> dict[str, str]:
    settings = {"data_dir": str(tmp_path)}
    for item in request.config.getoption("--hod-setting"):
        key, sep, value = item.partition("=")
        if not sep:
            pytest.fail(f"--hod-setting {item!r}: expected KEY=VALUE", pytrace=False)
        settings[key] = value
    return settings


@pytest.fixture
def hod_make_adapter(hod_adapter_name, hod_adapter_settings):
    """Build the adapter under test (again): two instances share its settings."""
    return lambda: load_adapter(hod_adapter_name, hod_adapter_settings)


@pytest.fixture
def hod_adapter(hod_make_adapter):
    adapter = hod_make_adapter()
    yield adapter
    close = getattr(adapter, "close", None)
    if close is not None:
        close()


@pytest.fixture
def fake_clock() -> FakeClock:
    # Monday 23 November 2026, 10:00 in Houston: inside default hours (A4).
    return FakeClock(datetime.fromisoformat("2026-11-23T10:00:00-06:00"))


@pytest.fixture
def outbox() -> Outbox:
    return Outbox()
