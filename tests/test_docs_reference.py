"""The generated reference pages document everything: every CLI option, every
setting, every hook, every HTTP operation. A setting, option or hook added
without its description fails here, not in a reader's hands.

The pages come from tools/docs_reference.py, the MkDocs hook that writes them
at build time; these tests call it directly and need no MkDocs."""

from __future__ import annotations

import argparse
import importlib.util
import inspect
from pathlib import Path

import attrs
import pluggy
import pytest

from hod_core.cli import build_parser
from hod_core.errors import ConfigurationError
from hod_core.extend import hookspecs
from hod_core.extend.plugins import load_adapter
from hod_core.server.server_settings import SET_BY_CALLER, load_settings

ROOT = Path(__file__).resolve().parents[1]
_SPEC = importlib.util.spec_from_file_location("docs_reference", ROOT / "tools/docs_reference.py")
docs_reference = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(docs_reference)


def _settings_classes() -> list[tuple[str, type, str, tuple]]:
    """(where, class, environment prefix, fields only the caller sets): the
    server's settings and each installed adapter's."""
    found = [
        (
            "hod serve",
            docs_reference.load_object(docs_reference.SERVER_SETTINGS),
            docs_reference.SERVER_ENV_PREFIX,
            SET_BY_CALLER,
        )
    ]
    for name in docs_reference.installed_adapters():
        declared = docs_reference.ADAPTER_SETTINGS[name]
        if declared is not None:
            found.append((name, docs_reference.load_object(declared[0]), declared[1], ()))
    return found


# -- the command line ------------------------------------------------------------
def test_every_cli_command_and_option_has_help_text():
    missing = []
    for parser, summary in docs_reference.commands(build_parser()):
        if not summary:
            missing.append(parser.prog)
        for action in docs_reference.documented_options(parser):
            if not (action.help or "").strip():
                missing.append(f"{parser.prog} {docs_reference.option_name(action)}")
    assert missing == []


def test_cli_page_has_every_command_and_option_with_its_help():
    page = docs_reference.cli_page()
    parsers = list(docs_reference.commands(build_parser()))
    progs = [parser.prog for parser, _ in parsers]
    for prog in ("hod serve", "hod agents import", "hod simulate", "hod coverage"):
        assert prog in progs
    for parser, _ in parsers:
        assert f"`{parser.prog}`\n" in page, parser.prog
        for action in docs_reference.documented_options(parser):
            name = docs_reference.option_name(action)
            assert f"| `{name}" in page, f"{parser.prog} {name}"
            assert " ".join(action.help.split()).split("%(")[0] in page, f"{parser.prog} {name}"


def test_cli_page_leaves_out_hidden_options():
    serve = next(p for p, _ in docs_reference.commands(build_parser()) if p.prog == "hod serve")
    hidden = [a.dest for a in serve._actions if a.help == argparse.SUPPRESS]
    assert "fake_clock" in hidden
    assert "--fake-clock" not in docs_reference.cli_page()


# -- settings ----------------------------------------------------------------------
def test_every_installed_adapter_says_where_its_settings_are():
    adapters = docs_reference.installed_adapters()
    assert {"store_memory", "outbox"} <= set(adapters)
    assert [name for name in adapters if name not in docs_reference.ADAPTER_SETTINGS] == []


def test_every_setting_has_a_description():
    missing = [
        f"{where}: {name}"
        for where, cls, _, _ in _settings_classes()
        for name, description in docs_reference.field_docs(cls).items()
        if not description.strip()
    ]
    assert missing == []


def test_settings_page_has_every_setting_with_its_variable_and_description():
    page = docs_reference.settings_page()
    for where, cls, prefix, only_given in _settings_classes():
        descriptions = docs_reference.field_docs(cls)
        for field in attrs.fields(cls):
            assert f"\n| `{field.name}` |" in page, f"{where}: {field.name}"
            assert " ".join(descriptions[field.name].split()) in page, f"{where}: {field.name}"
            variable = docs_reference.environment_variable(field, prefix, only_given)
            if variable:
                assert f"`{variable}`" in page, f"{where}: {field.name}"
    for name in docs_reference.installed_adapters():
        assert f"### `{name}`" in page
    for option in ("--data-dir", "--public-url", "--demo"):
        assert f"| `{option}` |" in page


def test_the_variables_on_the_settings_page_are_those_the_loaders_read(tmp_path, monkeypatch):
    server = load_settings(environ={"HOD_SWEEP_SECONDS": "2.5"}, require_secret=False)
    assert server.sweep_seconds == 2.5
    for name in docs_reference.installed_adapters():
        declared = docs_reference.ADAPTER_SETTINGS[name]
        if declared is None:
            continue
        missing = tmp_path / f"{name}.toml"  # the adapter reads PREFIX + CONFIG_FILE first
        monkeypatch.setenv(f"{declared[1]}CONFIG_FILE", str(missing))
        with pytest.raises(ConfigurationError, match=f"cannot read config file {missing}"):
            load_adapter(name, {})


def test_field_docs_reads_metadata_and_attribute_docstrings():
    @attrs.frozen
    class Example:
        plain: int = 1
        """Read from the docstring below the field."""
        tagged: str = attrs.field(default="", metadata={"doc": "Read from the metadata."})
        bare: bool = False

    assert docs_reference.field_docs(Example) == {
        "plain": "Read from the docstring below the field.",
        "tagged": "Read from the metadata.",
        "bare": "",
    }


# -- hooks ---------------------------------------------------------------------------
def test_every_hook_pluggy_knows_is_on_the_hooks_page_with_its_contract():
    manager = pluggy.PluginManager(hookspecs.PROJECT)
    manager.add_hookspecs(hookspecs)
    known = {name for name in dir(manager.hook) if name.startswith("hod_")}
    listed = {function.__name__ for _, function, _ in docs_reference.hookspecs()}
    assert listed == known
    page = docs_reference.hooks_page()
    for _, function, options in docs_reference.hookspecs():
        contract = inspect.cleandoc(function.__doc__ or "")
        assert contract, f"{function.__name__} has no docstring"
        section = page.split(f"### `{function.__name__}`\n", 1)[1].split("\n### ", 1)[0]
        assert contract in section, function.__name__
        assert ("*firstresult*" in section) == bool(options.get("firstresult")), function.__name__


# -- the HTTP API ------------------------------------------------------------------------
def test_http_api_page_has_every_operation_with_its_summary():
    pytest.importorskip("fastapi", reason="the server extra is not installed")
    pytest.importorskip("hod_store_sqlite", reason="the app's default store is store_sqlite")
    document = docs_reference.openapi_document()
    page = docs_reference.http_api_page(document)
    operations = list(docs_reference.operations(document))
    assert ("/api/v1/referrals", "post") in {(path, method) for path, method, _ in operations}
    for path, method, operation in operations:
        assert operation.get("summary"), f"{method.upper()} {path} has no summary"
        section = page.split(f"### `{method.upper()} {path}`\n", 1)[1].split("\n### ", 1)[0]
        assert operation["summary"] in section, f"{method.upper()} {path}"


def test_the_site_lists_every_generated_page():
    nav = (ROOT / "mkdocs.yml").read_text()
    for path in docs_reference.GENERATED:
        if path.endswith(".md"):
            assert f": {path}\n" in nav, path
    assert ": reference/python-api.md\n" in nav
