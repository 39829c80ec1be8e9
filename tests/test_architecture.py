"""The shape of the package: names found once, a top level of packages, a library without the web.

The layering itself (which package may import which) is checked by `lint-imports`
against the contracts in `.importlinter` (the lint env).
"""

import ast
import json
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "hod_core"
WEB_FRAMEWORK = ("fastapi", "starlette", "uvicorn", "jinja2")


def _modules(package: Path) -> list[Path]:
    return sorted(package.rglob("*.py"))


def _packages(package: Path) -> list[Path]:
    return sorted(path.parent for path in package.rglob("__init__.py") if path.parent != package)


def _repeated(where: dict[str, list[str]]) -> dict[str, list[str]]:
    return {name: places for name, places in sorted(where.items()) if len(places) > 1}


def module_names(package: Path) -> dict[str, list[str]]:
    """Each module's file name (no `__init__.py`) and where it is."""
    where = defaultdict(list)
    for path in _modules(package):
        if path.name != "__init__.py":
            where[path.stem].append(str(path.relative_to(package.parent)))
    return where


def class_names(package: Path) -> dict[str, list[str]]:
    """Each class defined anywhere in the package (nested ones too) and where."""
    where = defaultdict(list)
    for path in _modules(package):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef):
                where[node.name].append(f"{path.relative_to(package.parent)}:{node.lineno}")
    return where


def test_no_two_modules_in_hod_core_share_a_file_name():
    assert _repeated(module_names(PACKAGE)) == {}


def test_no_package_in_hod_core_shares_its_name_with_a_module_or_another_package():
    modules = module_names(PACKAGE)
    packages = defaultdict(list)
    for package in _packages(PACKAGE):
        packages[package.name].append(str(package.relative_to(ROOT)))
    clashes = {
        name: places + modules.get(name, [])
        for name, places in sorted(packages.items())
        if len(places) > 1 or name in modules
    }
    assert clashes == {}


def test_no_two_classes_in_hod_core_share_a_name():
    assert _repeated(class_names(PACKAGE)) == {}


def test_the_checks_find_a_repeated_module_package_and_class(tmp_path):
    package = tmp_path / "pkg"
    for folder in ("a", "b", "b/a"):
        (package / folder).mkdir(parents=True)
        (package / folder / "__init__.py").write_text("")
    (package / "a" / "sweep.py").write_text("class Sweep:\n    pass\n")
    (package / "b" / "sweep.py").write_text("class Sweep:\n    class Inner:\n        pass\n")
    (package / "b" / "a" / "inner.py").write_text("class Inner:\n    pass\n")
    assert _repeated(module_names(package)) == {"sweep": ["pkg/a/sweep.py", "pkg/b/sweep.py"]}
    assert _repeated(class_names(package)) == {
        "Inner": ["pkg/b/a/inner.py:1", "pkg/b/sweep.py:2"],
        "Sweep": ["pkg/a/sweep.py:1", "pkg/b/sweep.py:1"],
    }
    assert sorted(path.name for path in _packages(package)) == ["a", "a", "b"]


def test_hod_core_top_level_holds_only_packages_errors_and_cli():
    files = sorted(
        path.name for path in PACKAGE.iterdir() if path.is_file() and path.suffix == ".py"
    )
    assert files == ["__init__.py", "cli.py", "errors.py"]
    folders = [path for path in PACKAGE.iterdir() if path.is_dir() and path.name != "__pycache__"]
    assert [path.name for path in folders if not (path / "__init__.py").is_file()] == []


def test_the_library_and_the_hod_command_line_load_no_web_framework():
    # The import contracts count an import inside a function as an import; `hod`
    # registers the server's commands through one such import (hod_core.cli ->
    # hod_core.server.commands.server_commands). What that registration loads is
    # checked here, in a fresh interpreter: the web framework waits for `hod serve`.
    script = (
        "import json, sys\n"
        "import hod_core, hod_core.testing\n"
        "from hod_core.cli import build_parser\n"
        "build_parser()\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    loaded = json.loads(done.stdout)
    assert [m for m in loaded if m.split(".")[0] in WEB_FRAMEWORK] == []
    # The server's commands and what they use, never the app, the API or the pages.
    server = [m for m in loaded if m.startswith("hod_core.server.")]
    assert "hod_core.server.commands.server_commands" in server
    assert [m for m in server if m.split(".")[2] in ("app", "api", "pages")] == []
