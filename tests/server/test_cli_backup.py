"""`hod backup` and `hod restore` as an operator runs them: the real command, a real SQLite store."""

from __future__ import annotations

import argparse
import sqlite3
import subprocess
import sys

import pytest

from hod_core.cli import main
from hod_core.server.commands.server_commands import open_hod
from hod_core.testing import samples


@pytest.fixture
def folder(tmp_path):
    """A data folder with one agent, and the flags naming it."""
    config = tmp_path / "hod.toml"
    config.write_text('notifiers = ["outbox"]\nfreeze_gc = false\ndelivery_threads = 0\n')
    flags = ["--config", str(config), "--data-dir", str(tmp_path / "data")]
    hod = open_hod(_args(flags))
    hod.router.put_agent(samples.agent("1001", "77030"))
    hod.router.close()
    return flags


def _args(flags) -> argparse.Namespace:
    return argparse.Namespace(config=flags[1], data_dir=flags[3])


def run_hod(capsys, *argv) -> tuple[int, str]:
    code = main(list(argv))
    return code, capsys.readouterr().err


def agents_in(path) -> list[str]:
    db = sqlite3.connect(path)
    try:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        return [npn for (npn,) in db.execute("SELECT npn FROM agents ORDER BY npn")]
    finally:
        db.close()


def test_backup_then_restore_round_trip(folder, tmp_path, capsys):
    backup = tmp_path / "backup.sqlite3"
    code, err = run_hod(capsys, "backup", str(backup), *folder)
    assert code == 0, err
    assert err.startswith("backed up ") and "1 agents, 0 referrals" in err
    assert agents_in(backup) == ["1001"]

    code, err = run_hod(capsys, "backup", str(backup), *folder)
    assert (code, err) == (2, f"hod: {backup} exists: pass --force to replace it\n")
    assert run_hod(capsys, "backup", str(backup), "--force", *folder)[0] == 0

    hod = open_hod(_args(folder))
    hod.router.put_agent(samples.agent("1002", "77030"))  # after the backup
    hod.router.close()
    code, err = run_hod(capsys, "restore", str(backup), *folder)
    assert code == 0, err
    assert err.startswith("restored ")
    assert agents_in(tmp_path / "data" / "hod.sqlite3") == ["1001"]


def test_backup_of_a_missing_data_folder_creates_nothing(tmp_path, capsys):
    missing = tmp_path / "nowhere"
    code, err = run_hod(capsys, "backup", str(tmp_path / "b.sqlite3"), "--data-dir", str(missing))
    assert (code, err) == (2, f"hod: data_dir {missing}: no such folder\n")
    assert not missing.exists() and not (tmp_path / "b.sqlite3").exists()


def test_restore_refuses_a_store_a_running_process_holds(folder, tmp_path, capsys):
    backup = tmp_path / "backup.sqlite3"
    assert run_hod(capsys, "backup", str(backup), *folder)[0] == 0
    store = tmp_path / "data" / "hod.sqlite3"
    holder = subprocess.Popen(  # a server's process: its connection open, idle
        [
            sys.executable,
            "-c",
            "import sqlite3, sys; db = sqlite3.connect(sys.argv[1]); "
            "db.execute('SELECT count(*) FROM agents').fetchone(); print('open', flush=True); "
            "sys.stdin.read()",
            str(store),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline() == "open\n"
        code, err = run_hod(capsys, "restore", str(backup), *folder)
        assert code == 1
        assert err.startswith(f"hod: {store}: in use by another process (a running hod serve?)")
        assert run_hod(capsys, "restore", str(backup), "--force", *folder)[0] == 0
    finally:
        holder.stdin.close()
        holder.wait(timeout=10)


def test_restore_of_a_file_that_is_not_a_backup_is_one_line(folder, tmp_path, capsys):
    notes = tmp_path / "notes.txt"
    notes.write_text("these are notes, not a database; " * 10)
    code, err = run_hod(capsys, "restore", str(notes), *folder)
    assert (code, err) == (1, f"hod: {notes}: not an SQLite database: is this the right file?\n")
    assert agents_in(tmp_path / "data" / "hod.sqlite3") == ["1001"]
