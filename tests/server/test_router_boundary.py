"""The server uses the router through its public methods only.

Every module under `hod_core/server` is parsed: reading an attribute of a
router (`x.router.name`, or `router.name` where `router` is not the module's
FastAPI `APIRouter`) must name a public method or property of `Router`, never
its matcher, roster, store hooks or dispatcher. A store hook is called only
through the router, except the account hooks, which `Router.account_store()`
hands to the account service (`server/accounts/`), and the backup hooks, which
`hod backup` and `hod restore` call on the store alone (no router: a restore
replaces the store under it).
"""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import pytest

import hod_core.server
from hod_core.extend import hookspecs
from hod_core.lifecycle.router import Router

SERVER = Path(hod_core.server.__file__).parent
ACCOUNTS = SERVER / "accounts"
BACKUP_COMMANDS = SERVER / "commands" / "backup_commands.py"
HOOK_NAMES = {
    name
    for name, spec in vars(hookspecs).items()
    if name.startswith("hod_") and inspect.isfunction(spec)
}


def router_surface() -> set[str]:
    """The public methods and properties of Router, its mixins' included."""
    surface = set()
    for name in dir(Router):
        member = inspect.getattr_static(Router, name)
        if not name.startswith("_") and (isinstance(member, property) or callable(member)):
            surface.add(name)
    return surface


def _api_router_module(tree: ast.Module) -> bool:
    """Whether the module binds `router = APIRouter(...)`: its `router` is FastAPI's."""
    for node in tree.body:
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call):
            called = node.value.func
            named = called.id if isinstance(called, ast.Name) else getattr(called, "attr", "")
            targets = [t.id for t in node.targets if isinstance(t, ast.Name)]
            if named == "APIRouter" and "router" in targets:
                return True
    return False


def _is_router(node: ast.expr, fastapi_router: bool) -> bool:
    if isinstance(node, ast.Attribute):
        return node.attr == "router"
    return isinstance(node, ast.Name) and node.id == "router" and not fastapi_router


def violations(source: str, path: Path, surface: set[str]) -> list[str]:
    """Each reach past the router's public surface in one module, as `file:line: what`."""
    tree = ast.parse(source)
    fastapi_router = _api_router_module(tree)
    in_accounts = ACCOUNTS in path.parents
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Attribute):
            continue
        where = f"{path.name}:{node.lineno}"
        if _is_router(node.value, fastapi_router) and node.attr not in surface:
            found.append(f"{where}: router.{node.attr} is not a public method of Router")
        store_hook = node.attr in HOOK_NAMES and node.attr.startswith("hod_store_")
        account_hook = in_accounts and node.attr in hookspecs.ACCOUNT_STORE_HOOKS
        backup_hook = path == BACKUP_COMMANDS and node.attr in hookspecs.BACKUP_STORE_HOOKS
        if store_hook and not (account_hook or backup_hook):
            found.append(f"{where}: {node.attr} called directly, not through the router")
    return found


def test_server_reads_only_public_router_methods_and_no_store_hooks():
    surface = router_surface()
    found = []
    for path in sorted(SERVER.rglob("*.py")):
        found += violations(path.read_text(encoding="utf-8"), path, surface)
    assert found == []


def test_router_surface_has_the_host_methods_and_not_the_parts():
    surface = router_surface()
    assert {"agent_zone", "agents", "suspend", "reinstate", "account_store", "policy"} <= surface
    assert not surface & {"matcher", "roster", "hook", "sweep", "dispatch", "plugins"}


@pytest.mark.parametrize(
    ("code", "path", "said"),
    [
        ("hod.router.matcher.zone(npn)", SERVER / "x.py", "router.matcher is not"),
        ("def f(router):\n    router.roster.agent(n)", SERVER / "x.py", "router.roster is not"),
        ("hod.router.dispatch.send(notice)", SERVER / "x.py", "router.dispatch is not"),
        ("hod.hook.hod_store_referrals()", SERVER / "x.py", "hod_store_referrals called"),
        ("hod.accounts.hook.hod_store_accounts()", SERVER / "pages" / "p.py", "hod_store_acc"),
        ("self.hook.hod_store_agents(after=0)", ACCOUNTS / "a.py", "hod_store_agents called"),
    ],
)
def test_the_check_finds_each_kind_of_reach(code, path, said):
    [problem] = violations(code, path, router_surface())
    assert said in problem


@pytest.mark.parametrize(
    ("code", "path"),
    [
        ("router = APIRouter()\nrouter.get('/x')\nrouter.prefix", SERVER / "x.py"),
        ("hod.router.agent_zone(npn)\nhod.router.policy.directory", SERVER / "x.py"),
        ("self.hook.hod_store_accounts(role='agent')", ACCOUNTS / "a.py"),
    ],
)
def test_the_check_passes_public_use(code, path):
    assert violations(code, path, router_surface()) == []
