"""Browser tests: Playwright for Python driving Debian's Chromium (never a
downloaded browser), against `hod serve` started as a process.

- `browser`: headless Chromium from `HOD_CHROMIUM` (default /usr/bin/chromium).
  Missing, the tests are skipped, except under CI (CI=true), where that fails.
- `axe`: axe-core, pinned, from the npm registry with `npm pack` (its
  integrity checked), cached in pytest's cache folder; injected into each
  page through the DevTools protocol, so the page's CSP (no inline script)
  stays on; a serious or critical violation fails the test.
- `launch(seed)`: a fresh data folder in tmp_path, filled by `seed(Seeder)`,
  then `hod serve` on a free loopback port with a clock the test moves.
- `shot(page, name)`: checks the page with axe and saves a PNG under tmp_path.
"""

from __future__ import annotations

import base64
import hashlib
import importlib.util
import io
import json
import os
import shutil
import subprocess
import tarfile
from pathlib import Path

import pytest

from .harness import PASSWORD, Seeder, Server, free_port

CHROMIUM = os.environ.get("HOD_CHROMIUM", "/usr/bin/chromium")
LAUNCH_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
AXE_VERSION = "4.14.1"
AXE_INTEGRITY = "sha512-FHfa+lmNjQZfJz1q8wKqIDwC6DExcHt/pkjNQb09a3NPjCKg2rhu5qb2S4r76ASyFNNtuFooJpZe37OgudVGtQ=="
PHONE = {"width": 390, "height": 844}  # a phone-sized screen: the seeds' agents accept on phones
AXE_RESULTS: list[dict] = []

# Without Playwright (the `py` env), these tests are not collected: `tox -e browser` runs them.
if importlib.util.find_spec("playwright") is None:
    collect_ignore = ["test_scenarios.py", "test_every_page.py", "test_cross_site.py"]


def _unavailable(reason: str):
    if os.environ.get("CI"):
        pytest.fail(f"browser tests cannot run under CI: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def axe(request, tmp_path_factory) -> str:
    """axe.min.js of axe-core AXE_VERSION (MPL-2.0; its LICENSE is kept beside it)."""
    cache = getattr(request.config, "cache", None)  # absent with -p no:cacheprovider
    name = f"axe-core-{AXE_VERSION}"
    folder = Path(cache.mkdir(name)) if cache else tmp_path_factory.mktemp(name)
    script = folder / "axe.min.js"
    if not script.exists():
        npm = shutil.which("npm")
        if npm is None:
            _unavailable("npm is needed to fetch axe-core from the npm registry")
        done = subprocess.run(
            [npm, "pack", f"axe-core@{AXE_VERSION}", "--pack-destination", str(folder), "--json"],
            capture_output=True,
            text=True,
            timeout=300,
        )
        if done.returncode != 0:
            _unavailable(f"npm pack axe-core@{AXE_VERSION} failed: {done.stderr.strip()[-300:]}")
        tarball = (folder / f"axe-core-{AXE_VERSION}.tgz").read_bytes()
        digest = "sha512-" + base64.b64encode(hashlib.sha512(tarball).digest()).decode()
        assert digest == AXE_INTEGRITY, "axe-core tarball does not match its pinned integrity"
        with tarfile.open(fileobj=io.BytesIO(tarball)) as archive:
            for name in ("axe.min.js", "LICENSE"):
                (folder / name).write_bytes(archive.extractfile(f"package/{name}").read())
    return script.read_text(encoding="utf-8")


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        _unavailable(f"no Chromium at {CHROMIUM} (Debian package chromium)")
    playwright_api = pytest.importorskip("playwright.sync_api")
    with playwright_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def launch(tmp_path):
    """launch(seed) -> Server: a fresh data folder filled by seed(Seeder), then `hod serve`."""
    servers: list[Server] = []

    def start(seed=None) -> Server:
        data_dir = tmp_path / f"data{len(servers)}"
        port = free_port()
        seeder = Seeder(data_dir, port)
        try:
            if seed is not None:
                seed(seeder)
        finally:
            seeder.close()
        server = Server(data_dir, port, tmp_path / f"server{len(servers)}.log")
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def page(browser):
    """A phone-sized page in a fresh context (no cookies), failing on any CSP violation."""
    context = browser.new_context(viewport=PHONE, locale="en-US")
    tab = context.new_page()
    tab.set_default_timeout(15_000)
    violations: list[str] = []
    tab.on(
        "console",
        lambda message: (
            violations.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    yield tab
    context.close()
    assert not violations, f"the page broke its CSP: {violations}"


@pytest.fixture
def shot(axe, tmp_path):
    """shot(page, name): axe-core on the page (no serious or critical violation),
    then a full-page PNG under tmp_path."""

    def check(tab, name: str) -> Path:
        tab.evaluate(axe)  # through DevTools: allowed by the page's CSP, as a script tag is not
        result = tab.evaluate(
            "async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
            ".map(v => ({id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.length,"
            " targets: v.nodes.slice(0, 3).map(n => n.target.join(' '))}))"
        )
        serious = [v for v in result if v["impact"] in ("serious", "critical")]
        AXE_RESULTS.append(
            {"page": name, "url": tab.url, "violations": result, "serious": len(serious)}
        )
        path = tmp_path / f"{name}.png"
        tab.screenshot(path=str(path), full_page=True)
        assert not serious, f"axe-core on {name}: {json.dumps(serious, indent=1)}"
        return path

    return check


def log_in(tab, server: Server, login: str, password: str = PASSWORD) -> None:
    tab.goto(server.url("/login"))
    tab.get_by_label("Username").fill(login)
    tab.get_by_label("Password").fill(password)
    tab.get_by_role("button", name="Log in").click()


def pytest_terminal_summary(terminalreporter):
    """Every page axe-core checked, with its violations by impact."""
    if not AXE_RESULTS:
        return
    terminalreporter.section("axe-core")
    for entry in AXE_RESULTS:
        impacts = [v["impact"] for v in entry["violations"]]
        counts = ", ".join(f"{i}: {impacts.count(i)}" for i in sorted(set(impacts))) or "none"
        terminalreporter.write_line(f"{entry['page']}: violations {counts}")
    report = os.environ.get("HOD_AXE_REPORT")
    if report:
        Path(report).write_text(json.dumps(AXE_RESULTS, indent=1))
