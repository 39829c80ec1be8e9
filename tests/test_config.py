"""Adapter settings (hod_core.extend.settings) and the rule file's delivery parameters."""

from __future__ import annotations

from datetime import timedelta

import pytest
from attrs import frozen

from hod_core.errors import ConfigurationError, PolicyError
from hod_core.extend.settings import adapter_config, secret, secret_values, setting, setting_docs
from hod_core.rules.policy import default_policy_text, parse_policy


@frozen
class Settings:
    host: str
    token: str = secret(default="")
    port: int = 25
    verify: bool = True
    timeout_s: float = 10.0


def test_settings_beat_the_environment_which_beats_the_file_which_beats_the_default(tmp_path):
    config = tmp_path / "x.toml"
    config.write_text('host = "from-file"\nport = 2525\ntimeout_s = 3.5\n')
    environ = {"HOD_X_PORT": "587", "HOD_X_HOST": "from-env", "HOD_X_CONFIG_FILE": str(config)}
    built = adapter_config(Settings, {"host": "from-host"}, env_prefix="HOD_X_", environ=environ)
    assert (built.host, built.port, built.timeout_s, built.verify) == ("from-host", 587, 3.5, True)


@pytest.mark.parametrize(("raw", "expected"), [("yes", True), ("0", False), ("False", False)])
def test_booleans_from_text(raw, expected):
    built = adapter_config(Settings, {"host": "h", "verify": raw}, env_prefix="P_", environ={})
    assert built.verify is expected


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"host": "h", "port": "25x"}, "setting 'port': expected int, got '25x'"),
        ({"host": "h", "verify": "maybe"}, "setting 'verify': expected bool"),
        ({"host": "h", "colour": "red"}, "unknown setting(s) colour"),
        ({}, "missing setting(s): host (P_HOST)"),
    ],
)
def test_a_bad_setting_is_named(settings, message):
    with pytest.raises(ConfigurationError) as refused:
        adapter_config(Settings, settings, env_prefix="P_", environ={})
    assert message in str(refused.value)


def test_a_bad_value_in_the_environment_names_the_variable():
    with pytest.raises(ConfigurationError, match="environment variable P_PORT: expected int"):
        adapter_config(Settings, {"host": "h"}, env_prefix="P_", environ={"P_PORT": "many"})


def test_a_config_file_that_is_missing_broken_or_unknown_is_named(tmp_path):
    broken, unknown = tmp_path / "broken.toml", tmp_path / "unknown.toml"
    broken.write_text("host = \n")
    unknown.write_text('hots = "typo"\n')
    for path, message in [
        (tmp_path / "absent.toml", "cannot read config file"),
        (broken, r"broken\.toml:1: not valid TOML: Invalid value$"),
        (unknown, r"unknown\.toml:1: unknown setting\(s\) hots \(known: host, token, "),
    ]:
        with pytest.raises(ConfigurationError, match=message):
            adapter_config(Settings, {"host": "h", "config_file": str(path)}, env_prefix="P_")


def test_a_bad_value_in_the_file_is_named_with_its_line(tmp_path):
    config = tmp_path / "x.toml"
    config.write_text('# the mail relay\nhost = "relay"\n\nport = "twenty-five"\n')
    with pytest.raises(ConfigurationError, match=r"x\.toml:4: port: expected int, got 'twenty"):
        adapter_config(Settings, {"config_file": str(config)}, env_prefix="P_", environ={})


@frozen
class Documented:
    port: int = setting(25, doc="The SMTP port.")
    host: str = "localhost"
    """The SMTP relay's name.

    More than one line."""
    token: str = secret(default="", doc="The relay's token.")
    retries: int = 3


def test_setting_docs_reads_the_doc_metadata_and_the_string_below_a_field():
    assert setting_docs(Documented) == {
        "port": "The SMTP port.",
        "host": "The SMTP relay's name.\n\nMore than one line.",
        "token": "The relay's token.",
        "retries": "",
    }
    assert "tok" not in repr(Documented(token="tok"))


def test_a_secret_is_kept_out_of_the_repr():
    built = adapter_config(Settings, {"host": "h", "token": "tok-123"}, env_prefix="P_", environ={})
    assert "tok-123" not in repr(built)
    assert secret_values(built) == ["tok-123"]


# -- the rule file's delivery parameters ----------------------------------------------
def test_delivery_parameters_default_when_a_rule_file_leaves_them_out():
    text = "\n".join(
        line for line in default_policy_text().splitlines() if not line.startswith("notify_")
    )
    policy = parse_policy(text, source="older.toml")
    assert policy.notify_max_attempts == 4
    assert (policy.notify_retry, policy.notify_retry_max) == (
        timedelta(seconds=30),
        timedelta(minutes=4),
    )


@pytest.mark.parametrize(
    ("line", "field", "message"),
    [
        ("notify_max_attempts = 0", "policy.notify_max_attempts", "whole number >= 1"),
        ("notify_retry_seconds = 600", "policy.notify_retry_max_seconds", "must not be shorter"),
    ],
)
def test_a_bad_delivery_parameter_is_named_with_its_line(line, field, message):
    key = line.split(" =")[0]
    lines = default_policy_text().splitlines()
    number = next(i for i, text in enumerate(lines, 1) if text.startswith(f"{key} ="))
    lines[number - 1] = line
    with pytest.raises(PolicyError) as refused:
        parse_policy("\n".join(lines), source="mine.toml")
    [problem] = refused.value.problems
    assert problem.field == field and message in problem.message
    if key in field:
        assert problem.line == number
