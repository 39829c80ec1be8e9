"""Settings from the host, the environment or a TOML file, one way for all.

Settings are declared as an attrs class, each field with a one-line
description (`setting(doc=...)`, or a string right below the field);
`setting_docs` reads them back for the reference docs. An adapter's class is
filled by `adapter_config`, the server's by `hod_core.server.server_settings`,
both through `fill_settings`. For each field, the first source that has it wins:

1. the settings the host passes (`load_adapter(name, settings)`, `--hod-setting`;
   the server's command-line flags);
2. the environment variable `PREFIX` + the field's name in capitals
   (`HOD_SMTP_HOST` for `host` under prefix `HOD_SMTP_`); never a table;
3. the TOML file (for an adapter, named by the setting `config_file` or the
   variable `PREFIX` + `CONFIG_FILE`): a table whose keys are the field names;
4. the field's default.

A value is converted to the field's type: text from the environment as from
TOML (`true`/`yes`/`on`/`1` and `false`/`no`/`off`/`0` for a bool; comma-separated
names for a tuple). A field declared with `secret()` is left out of the
object's repr, so a password or token never reaches a log line or a traceback
through it. A bad value raises `ConfigurationError` naming the field and where
it came from (`file.toml:3: port`, `environment variable HOD_PORT`).
"""

from __future__ import annotations

import ast
import inspect
import os
import re
import textwrap
import tomllib
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any, TypeVar

import attrs

from hod_core.domain import validate
from hod_core.errors import ConfigurationError, InputError

T = TypeVar("T")
IGNORED = {"data_dir", "config_file"}  # given to every adapter; not a field of each
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}
# A field's kind, from the start of its annotation; anything else is text.
_KINDS = (
    ("bool", "bool"),
    ("int", "int"),
    ("float", "float"),
    ("Path", "path"),
    ("tuple", "list"),
    ("Mapping", "table"),
    ("dict", "table"),
    ("datetime", "instant"),
)
_EXPECTED = {"list": "a list of names", "table": "a table", "path": "a path"}
_AT_LINE = re.compile(r"\s*\(at line (\d+), column \d+\)$")
_KEY = re.compile(r'\s*("[^"]*"|[A-Za-z0-9_-]+)\s*[=.]')


def setting(default: Any = attrs.NOTHING, *, doc: str, **kwargs: Any) -> Any:
    """An attrs field with its one-line description (`metadata["doc"]`)."""
    return attrs.field(default=default, metadata={"doc": doc}, **kwargs)


def secret(default: Any = attrs.NOTHING, *, doc: str = "", **kwargs: Any) -> Any:
    """An attrs field that never appears in repr (passwords, tokens, signing keys)."""
    metadata = {"secret": True, **({"doc": doc} if doc else {})}
    return attrs.field(default=default, repr=False, metadata=metadata, **kwargs)


def secret_values(config: Any) -> list[str]:
    """The non-empty values of a config's secret fields: what must never be logged."""
    return [
        str(getattr(config, f.name))
        for f in attrs.fields(type(config))
        if f.metadata.get("secret") and getattr(config, f.name)
    ]


def setting_docs(cls: type) -> dict[str, str]:
    """Each field's description: its `doc` metadata, else the string right below
    it in the class body (an attribute docstring), else ""."""
    below: dict[str, str] = {}
    try:
        body = ast.parse(textwrap.dedent(inspect.getsource(cls))).body[0].body
    except (OSError, TypeError):  # no source (a class made at run time)
        body = []
    for statement, after in zip(body, [*body[1:], None], strict=True):
        if (
            isinstance(statement, ast.AnnAssign)
            and isinstance(statement.target, ast.Name)
            and isinstance(after, ast.Expr)
            and isinstance(after.value, ast.Constant)
            and isinstance(after.value.value, str)
        ):
            below[statement.target.id] = inspect.cleandoc(after.value.value)
    return {f.name: f.metadata.get("doc") or below.get(f.name, "") for f in attrs.fields(cls)}


def adapter_config(
    cls: type[T],
    settings: Mapping[str, Any] | None,
    *,
    env_prefix: str,
    environ: Mapping[str, str] | None = None,
) -> T:
    """An adapter's settings class filled from the host's settings, the
    environment, the TOML file and the defaults (see the module)."""
    settings = dict(settings or {})
    environ = os.environ if environ is None else environ
    fields = [f.name for f in attrs.fields(cls)]
    unknown = sorted(set(settings) - set(fields) - IGNORED)
    if unknown:
        raise ConfigurationError(
            f"{cls.__qualname__}: unknown setting(s) {', '.join(unknown)} "
            f"(known: {', '.join(fields)})"
        )
    values = fill_settings(
        cls,
        settings,
        given_as=lambda name: f"setting {name!r}",
        env_prefix=env_prefix,
        environ=environ,
        config_file=settings.get("config_file") or environ.get(f"{env_prefix}CONFIG_FILE"),
    )
    try:
        return cls(**values)
    except TypeError as exc:  # a required field no source gave
        missing = [
            f.name for f in attrs.fields(cls) if f.default is attrs.NOTHING and f.name not in values
        ]
        names = ", ".join(f"{n} ({env_prefix}{n.upper()})" for n in missing) or str(exc)
        raise ConfigurationError(f"{cls.__qualname__}: missing setting(s): {names}") from None
    except ValueError as exc:  # a validator refused a value; its message names the field
        raise ConfigurationError(f"{cls.__qualname__}: {exc}") from None


def fill_settings(
    cls: type,
    given: Mapping[str, Any],
    *,
    given_as: Callable[[str], str],
    env_prefix: str,
    environ: Mapping[str, str],
    config_file: str | Path | None,
    skip: Iterable[str] = (),
) -> dict[str, Any]:
    """The value of each field of `cls` that some source has, converted to its
    type: `given` first (named in errors by `given_as(name)`), then the
    environment, then the TOML file `config_file`. Fields in `skip` are left to
    the caller; a key of the file that is not a field is refused."""
    fields = {f.name: f for f in attrs.fields(cls) if f.name not in set(skip)}
    file = ConfigFile.read(config_file, known=fields) if config_file else None
    values: dict[str, Any] = {}
    for name, field in fields.items():
        kind = field_kind(field)
        variable = f"{env_prefix}{name.upper()}"
        if name in given:
            raw, where = given[name], given_as(name)
        elif variable in environ and kind != "table":
            raw, where = environ[variable], f"environment variable {variable}"
        elif file is not None and name in file.values:
            raw, where = file.values[name], file.where(name)
        else:
            continue
        values[name] = convert(raw, kind, where)
    return values


@attrs.frozen
class ConfigFile:
    """A TOML settings file: its top-level values and the line of each key."""

    path: str
    values: dict[str, Any]
    lines: dict[str, int]

    @classmethod
    def read(cls, path: str | Path, known: Iterable[str]) -> ConfigFile:
        """The file's settings; ConfigurationError (file:line) when it cannot be
        read, is not TOML, or has a key that is not in `known`."""
        try:
            text = Path(path).read_bytes().decode()
            table = tomllib.loads(text)
        except OSError as exc:
            raise ConfigurationError(f"cannot read config file {path}: {exc.strerror}") from None
        except tomllib.TOMLDecodeError as exc:
            message, line = _at_line(str(exc))
            raise ConfigurationError(f"{path}{line}: not valid TOML: {message}") from None
        except (UnicodeDecodeError, RecursionError) as exc:
            raise ConfigurationError(f"{path}: not valid TOML: {exc}") from None
        found, known = cls(str(path), table, _key_lines(text)), list(known)
        unknown = sorted(set(table) - set(known))
        if unknown:
            raise ConfigurationError(
                f"{found.line_of(unknown[0])}: unknown setting(s) {', '.join(unknown)} "
                f"(known: {', '.join(known)})"
            )
        return found

    def line_of(self, name: str) -> str:
        """`file:line` of the key `name` (`file` alone when its line is not found)."""
        line = self.lines.get(name)
        return f"{self.path}:{line}" if line else self.path

    def where(self, name: str) -> str:
        """`file:line: name`, for an error about the value of `name`."""
        return f"{self.line_of(name)}: {name}"


def field_kind(field: attrs.Attribute) -> str:
    """How a field's value is read: bool, int, float, path, list, table, instant or str."""
    kind = field.type if isinstance(field.type, str) else getattr(field.type, "__name__", "")
    return next((name for prefix, name in _KINDS if str(kind).startswith(prefix)), "str")


def convert(raw: Any, kind: str, where: str) -> Any:
    """A text from the environment or a typed TOML value as a field of `kind`;
    ConfigurationError naming `where` when it is not one."""
    text = raw.strip() if isinstance(raw, str) else raw
    scalar = isinstance(raw, str | int | float) and not isinstance(raw, bool)
    try:
        if kind == "int" and scalar and not isinstance(raw, float):
            return int(text)
        if kind == "float" and scalar:
            return float(text)
    except ValueError:
        pass
    if kind == "bool":
        if isinstance(raw, bool):
            return raw
        if isinstance(text, str) and text.lower() in _TRUE | _FALSE:
            return text.lower() in _TRUE
    elif kind == "list":
        if isinstance(raw, str):
            return tuple(n.strip() for n in raw.split(",") if n.strip())
        if isinstance(raw, list | tuple) and all(isinstance(n, str) for n in raw):
            return tuple(raw)
    elif kind == "table":
        if isinstance(raw, Mapping):
            return dict(raw)
    elif kind == "instant":
        try:
            return validate.instant(raw)
        except InputError as exc:
            raise ConfigurationError(f"{where}: {exc.message}") from None
    elif kind == "path":
        if isinstance(raw, str | Path) and str(raw).strip():
            return Path(str(raw).strip()).expanduser()
    elif kind == "str" and scalar:
        return str(text)
    raise ConfigurationError(f"{where}: expected {_EXPECTED.get(kind, kind)}, got {raw!r:.60}")


def _at_line(message: str) -> tuple[str, str]:
    """tomllib's message without its "(at line N, column M)", and ":N"."""
    found = _AT_LINE.search(message)
    if found is None:
        return message, ""
    return message[: found.start()], f":{found.group(1)}"


def _key_lines(text: str) -> dict[str, int]:
    """The line of each top-level key (a table's header line for a table)."""
    lines: dict[str, int] = {}
    in_table = False
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if stripped.startswith("["):
            in_table = True
            key = _KEY.match(stripped.strip("[]") + "=")
        else:
            key = None if in_table else _KEY.match(line)
        if key:
            lines.setdefault(key.group(1).strip('"'), number)
    return lines
