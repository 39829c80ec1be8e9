"""Adapter settings from the host, the environment or a TOML file, one way for all.

An adapter declares its settings as an attrs class; `adapter_config` fills it.
For each field, the first source that has it wins:

1. the settings the host passes (`load_adapter(name, settings)`, `--hod-setting`);
2. the environment variable `PREFIX` + the field's name in capitals
   (`HOD_SMTP_HOST` for `host` under prefix `HOD_SMTP_`);
3. the TOML file named by the setting `config_file` or the variable
   `PREFIX` + `CONFIG_FILE`: a flat table whose keys are the field names;
4. the field's default.

A field declared with `secret()` is left out of the object's repr, so a
password or token never reaches a log line or a traceback through it.
A bad value raises `ConfigurationError` naming the field and where it came from.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from typing import Any, TypeVar

import attrs

from hod_core.errors import ConfigurationError

T = TypeVar("T")
IGNORED = {"data_dir", "config_file"}  # given to every adapter; not a field of each
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def secret(**kwargs: Any) -> Any:
    """An attrs field that never appears in repr (passwords, tokens, signing keys)."""
    return attrs.field(repr=False, metadata={"secret": True}, **kwargs)


def secret_values(config: Any) -> list[str]:
    """The non-empty values of a config's secret fields: what must never be logged."""
    return [
        str(getattr(config, f.name))
        for f in attrs.fields(type(config))
        if f.metadata.get("secret") and getattr(config, f.name)
    ]


def adapter_config(
    cls: type[T],
    settings: Mapping[str, Any] | None,
    *,
    env_prefix: str,
    environ: Mapping[str, str] | None = None,
) -> T:
    settings = dict(settings or {})
    environ = os.environ if environ is None else environ
    fields = {f.name: f for f in attrs.fields(cls)}
    unknown = sorted(set(settings) - set(fields) - IGNORED)
    if unknown:
        raise ConfigurationError(
            f"{cls.__qualname__}: unknown setting(s) {', '.join(unknown)} "
            f"(known: {', '.join(fields)})"
        )
    from_file, file_name = _file_values(settings, environ, env_prefix, fields)
    values: dict[str, Any] = {}
    for name, field in fields.items():
        variable = f"{env_prefix}{name.upper()}"
        if name in settings:
            raw, where = settings[name], f"setting {name!r}"
        elif variable in environ:
            raw, where = environ[variable], f"environment variable {variable}"
        elif name in from_file:
            raw, where = from_file[name], f"{file_name}: {name}"
        else:
            continue
        values[name] = _convert(raw, field.type, where)
    try:
        return cls(**values)
    except TypeError as exc:  # a required field no source gave
        missing = [n for n, f in fields.items() if f.default is attrs.NOTHING and n not in values]
        names = ", ".join(f"{n} ({env_prefix}{n.upper()})" for n in missing) or str(exc)
        raise ConfigurationError(f"{cls.__qualname__}: missing setting(s): {names}") from None
    except ValueError as exc:  # a validator refused a value; its message names the field
        raise ConfigurationError(f"{cls.__qualname__}: {exc}") from None


def _file_values(
    settings: Mapping[str, Any], environ: Mapping[str, str], prefix: str, fields: Mapping
) -> tuple[dict[str, Any], str]:
    path = settings.get("config_file") or environ.get(f"{prefix}CONFIG_FILE")
    if not path:
        return {}, ""
    try:
        with open(path, "rb") as handle:
            table = tomllib.load(handle)
    except OSError as exc:
        raise ConfigurationError(f"cannot read config file {path}: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigurationError(f"{path}: not valid TOML: {exc}") from None
    unknown = sorted(set(table) - set(fields))
    if unknown:
        raise ConfigurationError(f"{path}: unknown setting(s) {', '.join(unknown)}")
    return table, str(path)


def _convert(raw: Any, kind: Any, where: str) -> Any:
    """A string from the environment (or a typed TOML value) as the field's type."""
    kind = kind if isinstance(kind, str) else getattr(kind, "__name__", str(kind))
    text = str(raw).strip()
    try:
        if kind.startswith("bool"):
            if isinstance(raw, bool):
                return raw
            if text.lower() in _TRUE | _FALSE:
                return text.lower() in _TRUE
            raise ValueError
        if kind.startswith("int"):
            if isinstance(raw, bool):
                raise ValueError
            return int(text)
        if kind.startswith("float"):
            return float(text)
    except ValueError:
        raise ConfigurationError(f"{where}: expected {kind.split(' ')[0]}, got {raw!r}") from None
    return text
