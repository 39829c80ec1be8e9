"""A store or notifier that is not installed: the error names the package to
install, and a demo that cannot start leaves no folder behind (its secret key
and outbox live there)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from hod_core.errors import ConfigurationError
from hod_core.extend import plugins


def _without(monkeypatch, name: str) -> None:
    """The installed adapters as they would be without the one called `name`."""
    real = plugins.entry_points
    monkeypatch.setattr(
        plugins, "entry_points", lambda **kw: [ep for ep in real(**kw) if ep.name != name]
    )


@pytest.mark.parametrize(
    ("name", "package"),
    [("store_sqlite", "hod-store-sqlite"), ("notify_email", "hod-notify-email")],
)
def test_a_missing_adapter_of_ours_names_its_package(monkeypatch, name, package):
    _without(monkeypatch, name)
    with pytest.raises(ConfigurationError) as caught:
        plugins.load_adapter(name, {})
    message = str(caught.value)
    assert f"no adapter named {name!r} is installed" in message
    assert message.endswith(f"python3 -m pip install {package}")
    assert "store_memory" in message  # what is installed
    with pytest.raises(ConfigurationError, match=f"pip install {package}$"):
        plugins.require_installed(["store_memory", name])


def test_an_unknown_adapter_name_gets_no_made_up_package():
    with pytest.raises(ConfigurationError) as caught:
        plugins.load_adapter("store_nowhere", {})
    assert "pip install" not in str(caught.value)
    assert "install the package that provides it" in str(caught.value)


@pytest.mark.parametrize("data_dir_flag", [False, True])
def test_a_demo_without_its_store_leaves_no_folder_behind(tmp_path, data_dir_flag):
    folder = tmp_path / "my-demo"
    args = ["--data-dir", str(folder)] if data_dir_flag else []
    result = subprocess.run(
        [sys.executable, "-m", "hod_core.cli", "serve", "--demo", *args, "--port", "0"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={**os.environ, "HOD_STORE": "store_nowhere"},
        timeout=60,
    )
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "no adapter named 'store_nowhere'" in lines[0], lines
    assert result.stdout == ""  # no banner
    assert list(tmp_path.iterdir()) == []  # neither ./hod-demo nor the given folder
