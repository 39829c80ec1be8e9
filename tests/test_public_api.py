"""The public surface is `hod_core`, `hod_core.testing` and `hod_core.server`:
adapters and examples import only from them, every name they declare exists,
and `import hod_core` stays light (no web framework, no pytest)."""

from __future__ import annotations

import ast
import importlib
import importlib.util
import inspect
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

import hod_core
from hod_core import errors

ROOT = Path(__file__).parents[1]
PUBLIC = ("hod_core", "hod_core.testing", "hod_core.server")
SKIPPED_DIRS = {"__pycache__", "build", "dist", ".tox", ".venv", "node_modules"}


def _python_files(*tops: str) -> list[Path]:
    return sorted(
        path
        for top in tops
        for path in (ROOT / top).rglob("*.py")
        if not SKIPPED_DIRS.intersection(path.relative_to(ROOT).parts)
        and not any(part.endswith(".egg-info") for part in path.parts)
    )


def _hod_imports(path: Path):
    """(line, module, names) of each absolute import of a hod_core module in `path`."""
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if node.module.split(".")[0] == "hod_core":
                yield node.lineno, node.module, [alias.name for alias in node.names]
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "hod_core":
                    yield node.lineno, alias.name, []


def test_adapters_and_examples_import_only_the_public_surface():
    files = _python_files("adapters", "examples")
    assert len(files) > 40, "the walk found the adapters and examples"
    declared = {name: set(importlib.import_module(name).__all__) for name in PUBLIC}
    wrong = []
    for path in files:
        for line, module, names in _hod_imports(path):
            where = f"{path.relative_to(ROOT)}:{line}"
            if module not in PUBLIC:
                wrong.append(f"{where}: imports internal module {module}")
                continue
            wrong += [
                f"{where}: {name} is not in {module}.__all__"
                for name in names
                if name not in declared[module]
            ]
    assert not wrong, "\n".join(wrong)


_FENCE = re.compile(r"^```(?:python|py|pycon)\n(.*?)^```", re.M | re.S)
_IMPORT = re.compile(r"^\s*(?:>>> )?(?:from (hod_core[\w.]*) import|import (hod_core[\w.]*))", re.M)


def test_python_in_the_docs_and_readmes_imports_only_the_public_surface():
    pages = [ROOT / "README.md", *(ROOT / "docs").rglob("*.md"), *(ROOT / "adapters").rglob("*.md")]
    wrong = [
        f"{page.relative_to(ROOT)}: {module}"
        for page in pages
        for block in _FENCE.findall(page.read_text())
        for module in (a or b for a, b in _IMPORT.findall(block))
        if module not in PUBLIC
    ]
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("module_name", PUBLIC)
def test_every_declared_name_resolves(module_name):
    if module_name == "hod_core.server":
        pytest.importorskip("fastapi", reason="the server's names need the server extra")
    module = importlib.import_module(module_name)
    assert len(module.__all__) == len(set(module.__all__)), "a name declared twice"
    missing = [name for name in module.__all__ if getattr(module, name, None) is None]
    assert not missing
    with pytest.raises(AttributeError, match="no_such_name"):
        module.no_such_name  # noqa: B018


def test_the_public_docstring_shows_every_name_but_the_errors():
    undocumented = [
        name
        for name in hod_core.__all__
        if f"`{name}`" not in hod_core.__doc__
        and not (
            inspect.isclass(getattr(hod_core, name))
            and issubclass(getattr(hod_core, name), hod_core.HodError)
        )
    ]
    assert not undocumented


def test_every_error_the_core_raises_is_public():
    defined = {
        name
        for name, value in vars(errors).items()
        if inspect.isclass(value) and issubclass(value, errors.HodError)
    }
    assert defined - set(hod_core.__all__) == set()


def test_internal_modules_import_from_defining_modules_not_the_top_level():
    """`hod_core/__init__` imports the whole surface; an internal module that read
    a name from it would run in a half-initialised package (an import cycle)."""
    wrong = []
    for path in _python_files("hod_core"):
        if path == ROOT / "hod_core" / "__init__.py":
            continue
        for line, module, names in _hod_imports(path):
            if module != "hod_core":
                continue
            for name in names:
                # A subpackage is fine; so is the version, assigned before any import.
                if name != "__version__" and importlib.util.find_spec(f"hod_core.{name}") is None:
                    wrong.append(f"{path.relative_to(ROOT)}:{line}: from hod_core import {name}")
    assert not wrong, "\n".join(wrong)


def _modules_after(statement: str) -> list[str]:
    script = f"import json, sys; {statement}; print(json.dumps(sorted(sys.modules)))"
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    return json.loads(done.stdout)


def test_import_hod_core_loads_neither_the_server_nor_pytest_nor_the_router():
    loaded = _modules_after("import hod_core")
    assert "hod_core.matching.matcher" in loaded
    heavy = [
        name
        for name in loaded
        if name.split(".")[0] in {"fastapi", "starlette", "pytest", "_pytest", "pluggy"}
        or name.startswith(("hod_core.server", "hod_core.testing", "hod_core.lifecycle"))
    ]
    assert heavy == []
    assert "hod_core.lifecycle.router" in _modules_after("from hod_core import Router")


def test_names_imported_on_use_are_the_ones_type_checkers_see():
    """`hod_core` imports part of its surface on first use; the TYPE_CHECKING
    block that shows those names to type checkers and the API reference
    names the same ones from the same modules."""
    tree = ast.parse(Path(hod_core.__file__).read_text())
    guarded = next(
        node
        for node in tree.body
        if isinstance(node, ast.If) and getattr(node.test, "id", None) == "TYPE_CHECKING"
    )
    seen = {(node.module, alias.name) for node in guarded.body for alias in node.names}
    on_use = {(module, name) for name, module in hod_core._DEFINED_IN.items()}
    assert seen == on_use
    assert set(hod_core._DEFINED_IN) <= set(hod_core.__all__)
    assert set(hod_core.__all__) <= set(dir(hod_core))


def test_import_hod_core_testing_loads_no_pytest_and_server_no_web_framework():
    testing = _modules_after("import hod_core.testing")
    assert not [name for name in testing if name.split(".")[0] in {"pytest", "_pytest"}]
    server = _modules_after("import hod_core.server")
    assert not [name for name in server if name.split(".")[0] in {"fastapi", "starlette"}]
    if importlib.util.find_spec("fastapi") is not None:  # the server extra
        served = _modules_after("from hod_core.server import create_app")
        assert "fastapi" in served  # looked up on use
