"""The server's settings: flags over HOD_* variables over the TOML file over
defaults; a missing or bad one stops start-up with one line naming it."""

from __future__ import annotations

from pathlib import Path

import pytest

from hod_core.errors import ConfigurationError
from hod_core.server.app import create_app
from hod_core.server.server_settings import load_settings

KEY = "k" * 32


def test_defaults_need_only_a_secret_key():
    settings = load_settings(environ={"HOD_SECRET_KEY": KEY})
    assert (settings.host, settings.port, settings.store) == ("127.0.0.1", 8000, "store_sqlite")
    assert settings.data_dir == Path("hod-data") and settings.base_url == "http://127.0.0.1:8000"
    assert KEY not in repr(settings)  # the key never reaches a log through repr


def test_flags_beat_variables_beat_the_file(tmp_path):
    config = tmp_path / "hod.toml"
    config.write_text(
        'port = 7000\nhost = "0.0.0.0"\nnotifiers = ["notify_email"]\n'
        'public_url = "https://hod.example.org"\n[notifier_settings.notify_email]\nhost = "smtp"\n'
    )
    environ = {"HOD_SECRET_KEY": KEY, "HOD_PORT": "7100", "HOD_NOTIFIERS": "outbox, notify_sms"}
    settings = load_settings({"port": "7200"}, config_file=config, environ=environ)
    assert settings.port == 7200 and settings.host == "0.0.0.0"
    assert settings.notifiers == ("outbox", "notify_sms")
    assert settings.notifier_settings == {"notify_email": {"host": "smtp"}}
    assert settings.https and settings.base_url == "https://hod.example.org"
    by_variable = load_settings(environ={**environ, "HOD_CONFIG": str(config)})
    assert by_variable.port == 7100


@pytest.mark.parametrize(
    ("environ", "file_text", "expected"),
    [
        ({}, None, "secret_key is missing: set HOD_SECRET_KEY"),
        ({"HOD_SECRET_KEY": "short"}, None, "secret_key is too short"),
        ({"HOD_PORT": "eighty"}, None, "environment variable HOD_PORT: expected int, got 'eighty'"),
        ({"HOD_PORT": "70000"}, None, "port must be 0 to 65535"),
        ({"HOD_PUBLIC_URL": "hod.example.org"}, None, "public_url must start with http"),
        ({"HOD_FAKE_CLOCK": "tomorrow"}, None, "environment variable HOD_FAKE_CLOCK: not an"),
        ({}, "prot = 80\n", "unknown setting(s) prot"),
        ({}, "port = [\n", "not valid TOML"),
        ({}, 'notifiers = "outbox"\nport = true\n', "hod.toml:2: port: expected int, got True"),
        (
            {},
            "[store_settings]\n[[notifiers]]\n",
            "hod.toml:2: notifiers: expected a list of names",
        ),
        ({}, "\n\nprot = 80\n", "hod.toml:3: unknown setting(s) prot (known: data_dir, host,"),
        ({}, "port = 80\nport = 81\n", "hod.toml:2: not valid TOML: Cannot overwrite a value"),
        ({"HOD_FREEZE_GC": "maybe"}, None, "environment variable HOD_FREEZE_GC: expected bool"),
    ],
)
def test_a_bad_setting_is_one_line_naming_it(tmp_path, environ, file_text, expected):
    config = None
    if file_text is not None:
        config = tmp_path / "hod.toml"
        config.write_text(file_text)
        environ = {"HOD_SECRET_KEY": KEY, **environ}
    with pytest.raises(ConfigurationError) as caught:
        load_settings(config_file=config, environ=environ)
    assert expected in str(caught.value) and "\n" not in str(caught.value)


def test_the_server_reads_booleans_and_names_as_adapters_do():
    environ = {"HOD_SECRET_KEY": KEY, "HOD_FREEZE_GC": " Off ", "HOD_NOTIFIERS": "outbox,"}
    settings = load_settings(environ=environ)
    assert settings.freeze_gc is False and settings.notifiers == ("outbox",)
    assert load_settings(environ={**environ, "HOD_DEMO": "yes"}).demo is False  # not a setting


def test_a_missing_config_file_is_named(tmp_path):
    with pytest.raises(ConfigurationError, match="cannot read config file .*nope.toml"):
        load_settings(config_file=tmp_path / "nope.toml", environ={"HOD_SECRET_KEY": KEY})


@pytest.mark.parametrize(
    ("flags", "expected"),
    [
        ({"store": "store_nowhere"}, "no adapter named 'store_nowhere' is installed"),
        ({"notifiers": ""}, "no notifier sends email"),
        ({"rules": "missing.toml"}, "rules: "),
    ],
)
def test_start_up_refuses_what_would_fail_later(tmp_path, flags, expected):
    settings = load_settings(
        {"data_dir": str(tmp_path), "notifiers": "outbox", **flags}, environ={"HOD_SECRET_KEY": KEY}
    )
    with pytest.raises(ConfigurationError, match=expected):
        create_app(settings, sweep=False)
