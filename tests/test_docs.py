"""What the README and the docs promise: their examples run, their tables are the code's."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from hod_core.rules.vocabulary import FACTS

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()
DOCS = ROOT / "docs"
EMBED = (DOCS / "howto" / "embed-in-a-crm.md").read_text()
RULE_FILE = (DOCS / "rule-file.md").read_text()

# Built from parts so that this file does not match its own search.
OUTSIDE_REFERENCES = ("../" + "shared", "SPEC" + " section", "shared/" + "SPEC")
SKIPPED_DIRS = {".git", ".venv", ".tox", "__pycache__", ".pytest_cache", "site", "node_modules"}
TEXT_SUFFIXES = {".py", ".md", ".toml", ".ini", ".cfg", ".txt", ".html", ".yml", ".yaml", ".po"}


def python_blocks(text: str) -> list[str]:
    return [part.split("```", 1)[0] for part in text.split("```python\n")[1:]]


def run_block(block: str, source: str) -> dict:
    """Run a documented example from the repository root, as a reader would."""
    namespace: dict = {}
    here = os.getcwd()
    os.chdir(ROOT)
    try:
        exec(compile(block, source, "exec"), namespace)  # noqa: S102 - our own docs
    finally:
        os.chdir(here)
    return namespace


def test_readme_is_at_most_300_lines():
    assert len(README.splitlines()) <= 300


def test_nothing_refers_to_documents_outside_the_repository():
    hits = []
    for dirpath, dirnames, filenames in os.walk(ROOT):
        dirnames[:] = [d for d in dirnames if d not in SKIPPED_DIRS and not d.endswith(".egg-info")]
        for name in filenames:
            path = Path(dirpath) / name
            if path.suffix not in TEXT_SUFFIXES:
                continue
            text = path.read_text(errors="replace")
            hits += [f"{path.relative_to(ROOT)}: {s}" for s in OUTSIDE_REFERENCES if s in text]
    assert hits == []


def test_rule_file_page_lists_every_fact_of_the_rule_language():
    for fact in FACTS.values():
        assert f"| `{fact.name}` | {fact.type} | {fact.kind} | {fact.doc} |" in RULE_FILE, fact.name


def test_hod_match_output_on_the_embedding_page_is_what_hod_prints():
    command = EMBED.split("\n.venv/bin/hod match ")[1]
    hod_args = ["match", *command.splitlines()[0].split()]
    done = subprocess.run(
        [sys.executable, "-m", "hod_core.cli", *hod_args], cwd=ROOT, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    queue = json.loads(done.stdout)["queue"]
    for entry in queue:
        assert f'{{"npn": "{entry["npn"]}", "distance_km": {entry["distance_km"]}}}' in EMBED


def test_python_embedding_example_runs():
    done = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "match_in_python.py")],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("1. Maria Lopez (NPN 1000001), 7.3 km")
    assert any("E3 - Account not suspended" in line for line in lines)


def test_readme_library_example_runs_as_written():
    (block,) = python_blocks(README)
    result = run_block(block, "README.md")["result"]
    assert [e.npn for e in result.queue] == ["1000001", "1000002", "1000011"]
    assert result.excluded["1000003"] == "E3" and result.excluded["1000004"] == "E4"


def test_embedding_page_library_example_runs_as_written():
    namespace = run_block(python_blocks(EMBED)[0], "embed-in-a-crm.md")
    result = namespace["result"]
    assert [e.npn for e in result.queue] == ["1000001"]
    assert result.excluded["1000002"] == "E11" and result.excluded["1000011"] == "E12"
    assert "1000004" not in namespace["matcher"]


def test_embedding_page_router_example_runs_as_written():
    namespace = run_block(python_blocks(EMBED)[1], "embed-in-a-crm.md")
    referral, router = namespace["referral"], namespace["router"]
    assert namespace["view"].phone == "+17135550100"
    assert [n.channel for n in namespace["outbox"].notices] == ["email", "text"]
    assert router.referral(referral.id).status.label == "In Progress"
    kinds = [(e.rule, e.kind) for e in router.events(referral.id)]
    assert kinds[:2] == [("L1", "referral.created"), ("L1", "offer.made")]
    assert ("L7", "referral.contact_overdue") not in kinds  # moved on in time


@pytest.mark.parametrize("text", [README, EMBED], ids=["README", "embed-in-a-crm"])
def test_examples_import_only_the_public_surface(text):
    public = {"hod_core", "hod_core.testing", "hod_core.server"}
    for block in python_blocks(text):
        for line in block.splitlines():
            words = line.split()
            if words[:1] in (["from"], ["import"]) and words[1].startswith("hod_core"):
                assert words[1] in public, line


def test_crm_embedding_example_runs_a_referral_through_its_whole_life():
    done = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "embed_crm.py")],
        capture_output=True,
        text=True,
        check=True,
    )
    log = [
        line.split()[3]
        for line in done.stdout.splitlines()
        if line.strip()[:1].isdigit() and " L" in line
    ]
    assert [k for k in log if not k.startswith("notify.")] == [
        "referral.created",
        "offer.made",
        "offer.rejected",
        "offer.made",
        "offer.missed",
        "offer.made",
        "offer.accepted",
        "referral.status",
        "referral.status",
    ]
    assert "Missed Referral" in done.stdout and "Referral Completed" in done.stdout


def test_ci_runs_exactly_the_readme_test_command():
    command = README.split(
        "# 2. every test (lint + the whole suite); CI runs exactly this (.ci/run)\n"
    )
    command = command[1].splitlines()[0]
    assert command in (ROOT / ".ci" / "run").read_text().splitlines()


PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
CITED = re.compile(r"`((?:[\w.-]+/)*[\w.-]+\.(?:py|toml|ini|md))(?:::(\w+))?`")


def cited_paths(text: str) -> set[tuple[str, str | None]]:
    """The files (and test functions) a page cites as `path` or `path::name`."""
    return {(path, name or None) for path, name in CITED.findall(text) if "/" in path}


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_file_and_test_a_page_cites_exists(page):
    """docs/rules.md sends readers to code and tests: a moved or renamed one fails here."""
    missing = []
    for path, name in sorted(cited_paths(page.read_text()), key=str):
        target = ROOT / path
        if not target.exists():
            missing.append(path)
        elif name and not re.search(
            rf"^\s*(?:async )?(?:def|class) {name}\b", target.read_text(), re.M
        ):
            missing.append(f"{path}::{name}")
    assert not missing, f"{page.name} cites what is not there: {missing}"
