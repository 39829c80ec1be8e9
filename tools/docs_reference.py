"""The docs' reference pages, written from the code so that they cannot go stale.

MkDocs loads this module as a hook (`hooks:` in mkdocs.yml) and `on_files`
adds the pages to the site at build time; nothing is written into docs/.
A hook rather than the mkdocs-gen-files plugin: one dependency fewer, and
every page is a plain function returning Markdown, which the tests
(tests/test_docs_reference.py) call without MkDocs installed.

    reference/cli.md       every `hod` command and option, walked from the argparse parser
    reference/settings.md  the server's settings and each adapter's, from their attrs classes
    reference/hooks.md     every hook of hod_core.extend.hookspecs, its contract as written
    reference/http-api.md  the server's OpenAPI document, one section per path and method
    reference/openapi.json that document itself

`python tools/docs_reference.py DIR` writes the pages into DIR to read them
without building the site.
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import json
import re
import sys
import tempfile
from collections.abc import Callable, Iterator
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

USAGE_WIDTH = 88
ADAPTER_GROUP = "hod_core.adapters"

# Each adapter entry point (pyproject's "hod_core.adapters" group) and where its
# settings are declared: (settings class, environment prefix), or None for an
# adapter that takes no settings of its own. A test fails on an installed
# adapter missing here, so a new adapter's settings reach the docs.
ADAPTER_SETTINGS: dict[str, tuple[str, str] | None] = {
    "store_memory": None,
    "outbox": ("hod_core.server.outbox:OutboxSettings", "HOD_OUTBOX_"),
    "store_sqlite": ("hod_store_sqlite.sqlite_settings:SqliteSettings", "HOD_SQLITE_"),
    "store_postgres": ("hod_store_postgres.database:PostgresSettings", "HOD_POSTGRES_"),
    "notify_email": ("hod_notify_email.sender:EmailConfig", "HOD_SMTP_"),
    "notify_sms": ("hod_notify_sms.sender:SmsConfig", "HOD_SMS_"),
    "notify_webhook": ("hod_notify_webhook.sender:WebhookConfig", "HOD_WEBHOOK_"),
}
SERVER_SETTINGS = "hod_core.server.server_settings:ServerSettings"
SERVER_ENV_PREFIX = "HOD_"


# -- the command line -------------------------------------------------------------
def commands(parser: argparse.ArgumentParser) -> Iterator[tuple[argparse.ArgumentParser, str]]:
    """Every parser under `parser`, depth first, with its one-line help."""
    yield parser, parser.description or ""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            helps = {choice.dest: choice.help or "" for choice in action._choices_actions}
            for name, sub in action.choices.items():
                for inner, summary in commands(sub):
                    yield inner, (helps[name] if inner is sub else summary)


def documented_options(parser: argparse.ArgumentParser) -> list[argparse.Action]:
    """The parser's arguments a user sees: not -h, not sub-commands, not hidden ones."""
    return [
        action
        for action in parser._actions
        if not isinstance(action, argparse._HelpAction | argparse._SubParsersAction)
        and action.help != argparse.SUPPRESS
    ]


def option_name(action: argparse.Action) -> str:
    if action.option_strings:
        return ", ".join(action.option_strings)
    return action.metavar if isinstance(action.metavar, str) else action.dest


def _usage(parser: argparse.ArgumentParser) -> str:
    formatter = parser.formatter_class(prog=parser.prog, width=USAGE_WIDTH)
    formatter.add_usage(parser.usage, parser._actions, parser._mutually_exclusive_groups)
    return formatter.format_help().strip()


def _default(action: argparse.Action) -> str:
    value = action.default
    if value in (None, False, argparse.SUPPRESS) or value == [] or value == {}:
        return ""
    if isinstance(value, list | tuple):
        value = ",".join(map(str, value))
    return f"`{value}`"


def cli_page() -> str:
    """reference/cli.md: every command, sub-command and option with its help."""
    from hod_core.cli import EXIT_CODES, build_parser

    lines = [
        "# Command line: `hod`",
        "",
        "Every command, sub-command and option of `hod`, read from its argument parser",
        "when the site is built. `hod COMMAND --help` prints the same. JSON goes to",
        "stdout; an error prints one line on stderr, never a traceback, and the exit",
        "status says what kind of error it was.",
        "",
        "## Exit status",
        "",
        "| Status | Meaning |",
        "| --- | --- |",
        *(f"| {code} | {_escape(meaning)} |" for code, meaning in EXIT_CODES),
    ]
    for parser, summary in commands(build_parser()):
        depth = len(parser.prog.split()) - 1
        lines += ["", f"{'#' * min(depth + 2, 4)} `{parser.prog}`", ""]
        if summary:
            lines += [_escape(summary[0].upper() + summary[1:]), ""]
        lines += ["```text", _usage(parser), "```"]
        options = documented_options(parser)
        if options:
            lines += ["", "| Option | Meaning | Default |", "| --- | --- | --- |"]
        for action in options:
            name = option_name(action)
            if action.option_strings and action.metavar:
                name = f"{name} {action.metavar}"
            meaning = parser._get_formatter()._expand_help(action) if action.help else ""
            if action.required and action.option_strings:
                meaning += " (required)"
            if action.choices and not isinstance(action.choices, dict):
                meaning += " One of: " + ", ".join(f"`{c}`" for c in action.choices) + "."
            lines.append(f"| `{name}` | {_escape(meaning)} | {_default(action)} |")
    return "\n".join(lines) + "\n"


# -- settings ------------------------------------------------------------------
def load_object(path: str) -> Any:
    module, _, name = path.partition(":")
    return getattr(importlib.import_module(module), name)


def field_docs(cls: type) -> dict[str, str]:
    """Each attrs field's description, as the settings loader reads it (`doc`
    metadata, else the string right below the field)."""
    from hod_core.extend.settings import setting_docs

    return setting_docs(cls)


def _field_default(field: Any) -> str:
    import attrs

    if field.metadata.get("secret") and field.default in (attrs.NOTHING, ""):
        return "required" if field.default is attrs.NOTHING else "none"
    if field.default is attrs.NOTHING:
        return "required"
    default = field.default
    if isinstance(default, attrs.Factory):  # type: ignore[arg-type]
        default = default.factory()
    if default in ("", None) or default == () or default == {}:
        return "none"
    return f"`{default}`"


def _type_name(kind: Any) -> str:
    text = kind if isinstance(kind, str) else getattr(kind, "__name__", str(kind))
    return f"`{text}`"


def settings_table(
    cls: type, env_prefix: str, *, flags: dict[str, str] | None = None, only_given: tuple = ()
) -> list[str]:
    """One row per field: its name, flag (`flags`: field -> option), environment
    variable (none for a table, which only a TOML file holds, nor for `only_given`),
    type, default and meaning."""
    import attrs

    docs = field_docs(cls)
    columns = ["Setting", *(["Flag"] if flags is not None else [])]
    columns += [*(["Environment variable"] if env_prefix else []), "Type", "Default", "Meaning"]
    lines = ["| " + " | ".join(columns) + " |", "| " + " | ".join("---" for _ in columns) + " |"]
    for field in attrs.fields(cls):
        cells = [f"`{field.name}`"]
        if flags is not None:
            cells.append(f"`{flags[field.name]}`" if field.name in flags else "")
        if env_prefix:
            variable = environment_variable(field, env_prefix, only_given)
            cells.append(f"`{variable}`" if variable else "")
        meaning = docs[field.name]
        if field.metadata.get("secret"):
            meaning += " Secret: never shown in a log line or an error."
        cells += [_type_name(field.type), _field_default(field), _escape(meaning)]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def environment_variable(field: Any, env_prefix: str, only_given: tuple = ()) -> str:
    """The variable the loader reads a field from; "" for a table (a TOML file's
    only) and for a field only its caller sets."""
    from hod_core.extend.settings import field_kind

    if not env_prefix or field_kind(field) == "table" or field.name in only_given:
        return ""
    return f"{env_prefix}{field.name.upper()}"


def server_flags() -> dict[str, str]:
    """The `hod serve` option that sets each server setting: field name -> option."""
    from hod_core.cli import build_parser

    serve = next(p for p, _ in commands(build_parser()) if p.prog == "hod serve")
    return {
        action.dest: action.option_strings[-1]
        for action in documented_options(serve)
        if action.option_strings
    }


def installed_adapters() -> list[str]:
    return sorted(point.name for point in entry_points(group=ADAPTER_GROUP))


def settings_page() -> str:
    """reference/settings.md: the server's settings and every installed adapter's."""
    from hod_core.server.server_settings import SET_BY_CALLER

    server = load_object(SERVER_SETTINGS)
    lines = [
        "# Settings",
        "",
        "Every setting of `hod serve` and of each installed adapter, read from the",
        "classes that declare them when the site is built.",
        "",
        "## The server (`hod serve`)",
        "",
        _module_doc(server),
        "",
        *settings_table(server, SERVER_ENV_PREFIX, flags=server_flags(), only_given=SET_BY_CALLER),
        "",
        "## Adapters",
        "",
        "The server passes `store_settings` to its store and `notifier_settings.NAME`",
        "to each notifier; a library host passes them to `load_adapter(name, settings)`.",
        "",
        _module_doc(load_object("hod_core.extend.settings:adapter_config")),
    ]
    for name in installed_adapters():
        lines += ["", f"### `{name}`", ""]
        declared = ADAPTER_SETTINGS.get(name)
        if declared is None:
            lines.append("Takes no settings.")
            continue
        cls = load_object(declared[0])
        if cls.__doc__:
            lines += [inspect.cleandoc(cls.__doc__).split("\n\n")[0], ""]
        lines += settings_table(cls, declared[1])
    return "\n".join(lines) + "\n"


def _module_doc(obj: Any) -> str:
    return inspect.cleandoc(sys.modules[obj.__module__].__doc__ or "")


# -- hooks ---------------------------------------------------------------------
def hookspecs() -> list[tuple[str, Callable[..., Any], dict[str, Any]]]:
    """Every hook specification, in the order of the module: (section, function, options)."""
    from hod_core.extend import hookspecs as module

    marker = f"{module.PROJECT}_spec"
    source = inspect.getsource(module).splitlines()
    sections = [
        (number, match.group(1))
        for number, line in enumerate(source, 1)
        if (match := re.match(r"# -- (.+?) -+$", line))
    ]
    found = []
    for _, function in inspect.getmembers(module, inspect.isfunction):
        if function.__module__ != module.__name__ or not hasattr(function, marker):
            continue
        line = inspect.getsourcelines(function)[1]
        section = max(((n, s) for n, s in sections if n < line), default=(0, "hooks"))[1]
        found.append((line, section, function, getattr(function, marker)))
    return [(section, function, options) for _, section, function, options in sorted(found)]


def _section_comment(section: str) -> str:
    """The comment block under a `# -- section --` line of the hookspecs."""
    from hod_core.extend import hookspecs as module

    source = inspect.getsource(module).splitlines()
    start = next(i for i, line in enumerate(source) if line.startswith(f"# -- {section} "))
    comment = []
    for line in source[start + 1 :]:
        if not line.startswith("#"):
            break
        comment.append(line.removeprefix("#").strip())
    return " ".join(comment)


def hooks_page() -> str:
    """reference/hooks.md: each hook's signature, whether the first answer wins, its contract."""
    from hod_core.extend import hookspecs as module

    lines = ["# Hooks", "", inspect.cleandoc(module.__doc__ or "")]
    current = None
    for section, function, options in hookspecs():
        if section != current:
            current = section
            lines += ["", f"## {section[0].upper()}{section[1:]}", ""]
            comment = _section_comment(section)
            if comment:
                lines += [comment, ""]
        signature = f"def {function.__name__}{_signature(function)}"
        lines += [
            f"### `{function.__name__}`",
            "",
            "```python",
            signature,
            "```",
            "",
        ]
        if options.get("firstresult"):
            lines += ["*firstresult*: the first implementation's answer is the answer.", ""]
        lines += [inspect.cleandoc(function.__doc__ or ""), ""]
    return "\n".join(lines)


def _signature(function: Callable[..., Any]) -> str:
    """`(name: type, ...) -> type` as written in the source (annotations are strings)."""
    signature = inspect.signature(function)
    parameters = ", ".join(
        f"{p.name}: {p.annotation}" if p.annotation is not p.empty else p.name
        for p in signature.parameters.values()
    )
    returns = signature.return_annotation
    return f"({parameters})" + (f" -> {returns}" if returns is not signature.empty else "")


# -- the HTTP API ------------------------------------------------------------------
def openapi_document() -> dict[str, Any]:
    """The server's OpenAPI document, from an app over a throwaway data folder."""
    from hod_core.server.app import create_app
    from hod_core.server.server_settings import ServerSettings

    with tempfile.TemporaryDirectory() as folder:
        settings = ServerSettings(
            data_dir=Path(folder) / "data",
            secret_key="d" * 40,  # signs nothing: no request is served
            notifiers=("outbox",),
            delivery_threads=0,
            freeze_gc=False,
        )
        app = create_app(settings, sweep=False)
        try:
            return app.openapi()
        finally:
            app.state.hod.router.close()


METHODS = ("get", "post", "put", "patch", "delete")


def operations(document: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in document["paths"].items():
        for method in METHODS:
            if method in item:
                yield path, method, item[method]


def http_api_page(document: dict[str, Any]) -> str:
    """reference/http-api.md: one section per path and method, grouped by tag."""
    info = document["info"]
    lines = [
        "# HTTP API",
        "",
        f"{info['title']} {info['version']}, OpenAPI {document['openapi']}.",
        "",
        info.get("description", ""),
        "",
        "The whole document: [openapi.json](openapi.json); a running server serves it",
        "at `/openapi.json`.",
        "",
        'Every error answer is JSON: `{"detail": "...", "rule": "L3" or null}`, except',
        '422, which names every bad field: `{"detail": [{"field": "zip", "message": "..."}]}`',
        "(never a consumer's value). Logged-in operations take a bearer token",
        "(`Authorization: Bearer ...`) or the session cookie; with the cookie, every",
        "POST, PATCH and DELETE also carries the session's CSRF token in `X-CSRF-Token`.",
    ]
    by_tag: dict[str, list[tuple[str, str, dict[str, Any]]]] = {}
    for path, method, operation in operations(document):
        by_tag.setdefault((operation.get("tags") or ["other"])[0], []).append(
            (path, method, operation)
        )
    for tag, entries in by_tag.items():
        lines += ["", f"## {tag[0].upper()}{tag[1:]}"]
        for path, method, operation in entries:
            lines += ["", f"### `{method.upper()} {path}`", "", operation.get("summary", "")]
            if operation.get("description"):
                lines += ["", operation["description"]]
            parameters = operation.get("parameters", [])
            if parameters:
                lines += [
                    "",
                    "| Parameter | In | Required | Meaning |",
                    "| --- | --- | --- | --- |",
                ]
            for parameter in parameters:
                lines.append(
                    f"| `{parameter['name']}` | {parameter['in']} | "
                    f"{'yes' if parameter.get('required') else 'no'} | "
                    f"{_escape(parameter.get('description', ''))} |"
                )
            if operation.get("security"):
                lines += ["", f"Who: {_who(operation['security'])}."]
            body = _body_fields(operation)
            if body:
                lines += ["", f"Body (JSON): {body}."]
            responses = ", ".join(
                f"{code} {response.get('description', '')}".strip()
                for code, response in operation.get("responses", {}).items()
            )
            lines += ["", f"Responses: {responses}."]
    return "\n".join(lines) + "\n"


def _who(security: list[dict[str, list]]) -> str:
    ways = []
    for requirement in security:
        if "bearerAuth" in requirement:
            ways.append("a bearer token")
        elif "csrfToken" in requirement:
            ways.append("the session cookie with `X-CSRF-Token`")
        elif "sessionCookie" in requirement:
            ways.append("the session cookie")
    return "logged in, with " + " or ".join(ways)


def _body_fields(operation: dict[str, Any]) -> str:
    """The body's fields, `name` (type, required) each, from its JSON schema."""
    content = operation.get("requestBody", {}).get("content", {})
    schema = content.get("application/json", {}).get("schema", {})
    required = set(schema.get("required", ()))
    fields = []
    for name, field in schema.get("properties", {}).items():
        kind = field.get("type", "any")
        kind = " or ".join(kind) if isinstance(kind, list) else kind
        if "enum" in field:
            kind = "one of " + ", ".join(f"`{v}`" for v in field["enum"] if v is not None)
        fields.append(f"`{name}` ({kind}{', required' if name in required else ''})")
    return ", ".join(fields)


# -- the pages, and MkDocs ---------------------------------------------------------
GENERATED = (
    "reference/cli.md",
    "reference/settings.md",
    "reference/hooks.md",
    "reference/http-api.md",
    "reference/openapi.json",
)


def pages() -> dict[str, str]:
    """Every generated file (GENERATED): its path under docs/ and its text."""
    document = openapi_document()
    return {
        "reference/cli.md": cli_page(),
        "reference/settings.md": settings_page(),
        "reference/hooks.md": hooks_page(),
        "reference/http-api.md": http_api_page(document),
        "reference/openapi.json": json.dumps(document, indent=2) + "\n",
    }


def on_files(files, config):
    """MkDocs hook: add the generated pages to the site's files."""
    from mkdocs.structure.files import File

    for path, text in pages().items():
        files.append(File.generated(config, path, content=text))
    return files


def _escape(text: str) -> str:
    """Text for one Markdown table cell."""
    return " ".join(text.split()).replace("|", "\\|")


if __name__ == "__main__":
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "site-reference")
    for relative, text in pages().items():
        target = out / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
        print(target)
