"""The adapter conformance suite's pytest plugin, and test doubles for hosts.

An adapter author proves an adapter with:

    pytest -p hod_core.testing.plugin --hod-adapter store_sqlite --pyargs hod_core.testing.conformance

`--hod-adapter` names an installed adapter (entry point group
`hod_core.adapters`); `--hod-setting key=value` adds settings. Each test gets
a fresh adapter built with `data_dir` set to its own temporary directory.
An adapter that talks to a far end ships a pytest plugin of its own, turned
on with a second `-p`, that starts a loopback stand-in for that far end and
provides `hod_far_end_settings` (merged into the settings); a notifier's
plugin also provides the fixtures `hod_core.testing.conformance.test_notify` names.

The test doubles (`FakeClock`, `Outbox`, `closed_port`, `LoopbackHttpServer`)
live in `hod_core.testing.doubles`, which needs no pytest; they are re-exported here.
"""

from __future__ import annotations

import contextlib
from datetime import datetime

import pytest

from hod_core.extend.plugins import load_adapter
from hod_core.testing.doubles import FakeClock, LoopbackHttpServer, Outbox, closed_port

__all__ = ["FakeClock", "LoopbackHttpServer", "Outbox", "closed_port"]


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
    """`data_dir`, the far end's settings if the adapter's own pytest plugin
    gives them (fixture `hod_far_end_settings`), then `--hod-setting`s."""
    settings = {"data_dir": str(tmp_path)}
    with contextlib.suppress(pytest.FixtureLookupError):
        settings.update(request.getfixturevalue("hod_far_end_settings"))
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
