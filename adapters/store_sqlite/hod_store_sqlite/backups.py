"""`hod backup` and `hod restore` on one SQLite file: SQLite's online backup API.

- **Backup.** One `backup()` step copies every page while holding one read
  transaction on the store: in WAL mode writers go on committing meanwhile,
  and the copy is the store as of the step's start, whole commits only. In
  several steps a commit by another connection would restart the copy,
  which under a steady load might never finish. The copy goes to
  `FILE.partial` first and is renamed once complete and checked
  (`PRAGMA quick_check`), so `FILE` is never half a backup.
- **Restore.** The backup is checked first (SQLite, intact, a hod-core store
  of a schema this adapter serves). Then the store file is taken in
  SQLite's EXCLUSIVE locking mode: every open connection holds a shared
  lock on a WAL database, so the lock fails while any process, a running
  server say, has the store open. Its router would otherwise go on from
  caches that no longer match the file. `force` skips the check and copies
  in SQLite's normal locking (writers wait, others read the new content).
  The copy is the backup API again, into the store's own connection: the
  WAL and its index stay consistent, which copying the file over would not.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from hod_core import StoreError, hookimpl

from .opening import check_header, check_schema, opening_error
from .schema import SCHEMA_VERSION


class SqliteBackups:
    """The backup hooks of `SqliteStore` (which provides `path`, `_db`, `close`, `timeout_s`)."""

    path: Path
    timeout_s: float

    @hookimpl
    def hod_store_backup(self, path: str) -> str:
        target = Path(path)
        if _same_file(target, self.path):
            raise StoreError(f"{target}: that is the store itself; back up to another file")
        if not target.parent.is_dir():
            raise StoreError(f"{target}: its folder does not exist")
        partial = target.with_name(target.name + ".partial")
        partial.unlink(missing_ok=True)
        try:
            copy = sqlite3.connect(partial, isolation_level=None)
            try:
                self._db.backup(copy)  # one step: one snapshot (see the module's docstring)
                _check_intact(copy, target)
                (referrals,) = copy.execute("SELECT count(*) FROM referrals").fetchone()
                (agents,) = copy.execute("SELECT count(*) FROM agents").fetchone()
                copy.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
            finally:
                copy.close()
            os.replace(partial, target)
        except sqlite3.Error as exc:
            partial.unlink(missing_ok=True)
            raise opening_error(target, exc) from None
        except OSError as exc:
            partial.unlink(missing_ok=True)
            raise StoreError(f"{target}: cannot write the backup: {exc.strerror}") from None
        size = target.stat().st_size
        return (
            f"backed up {self.path} to {target}: {agents} agents, {referrals} referrals, "
            f"{size / 1e6:.1f} MB"
        )

    @hookimpl
    def hod_store_restore(self, path: str, force: bool) -> str:
        source_path = Path(path)
        if _same_file(source_path, self.path):
            raise StoreError(f"{source_path}: that is the store itself; restore from a backup")
        if not source_path.is_file():
            raise StoreError(f"{source_path}: no such backup file")
        check_header(source_path)
        self.close()  # this instance's own connections would hold the store open
        try:
            source = sqlite3.connect(f"{source_path.resolve().as_uri()}?mode=ro", uri=True)
        except sqlite3.Error as exc:
            raise opening_error(source_path, exc) from None
        try:
            version = _check_backup(source, source_path)
            store = sqlite3.connect(
                self.path, timeout=self.timeout_s if force else 0, isolation_level=None
            )
            try:
                if not force:
                    _hold_alone(store, self.path)
                source.backup(store)
            finally:
                store.close()
        except sqlite3.Error as exc:
            raise opening_error(self.path, exc) from None
        finally:
            source.close()
        return f"restored {self.path} from {source_path} (schema version {version})"


def _same_file(a: Path, b: Path) -> bool:
    return a.resolve() == b.resolve()


def _check_intact(db: sqlite3.Connection, path: Path) -> None:
    (verdict,) = db.execute("PRAGMA quick_check(1)").fetchone()
    if verdict != "ok":
        raise StoreError(f"{path}: damaged (SQLite: {verdict})")


def _check_backup(db: sqlite3.Connection, path: Path) -> int:
    """The backup's schema version, once it reads as an intact hod-core store."""
    (version,) = db.execute("PRAGMA user_version").fetchone()
    check_schema(db, path, version, SCHEMA_VERSION)
    if version == 0:
        raise StoreError(f"{path}: not a hod-core backup: no schema")
    _check_intact(db, path)
    return version


def _hold_alone(db: sqlite3.Connection, path: Path) -> None:
    """Take the store file for this connection alone, until it closes; refuse
    when any other connection (another process's) has it open."""
    db.execute("PRAGMA locking_mode=EXCLUSIVE")
    try:
        db.execute("BEGIN EXCLUSIVE")
        db.execute("COMMIT")  # the lock stays: EXCLUSIVE locking mode keeps it
    except sqlite3.OperationalError as exc:
        if "locked" not in str(exc):
            raise
        raise StoreError(
            f"{path}: in use by another process (a running hod serve?): stop it, or pass --force"
        ) from None
