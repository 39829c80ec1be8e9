"""`hod backup FILE` and `hod restore FILE`: the store `hod serve` would use, copied.

    hod backup FILE  [--config FILE] [--data-dir DIR] [--force]
    hod restore FILE [--config FILE] [--data-dir DIR] [--force]

Both open only the store (no router, notifiers or rule file) from the same
settings as `hod serve`, and ask it through the store contract
(`hod_store_backup`, `hod_store_restore` in `hod_core.extend.hookspecs`): the
SQLite store copies with SQLite's online backup while servers keep running;
PostgreSQL's store names pg_dump and pg_restore instead. A refusal is one
line: a `StoreError` (in use, damaged, disk full) exits 1, a bad setting 2.

A restore refuses a store that a running server holds open, unless
`--force`: the server's router keeps agents and referrals in memory, which
would no longer match the restored store. Stop the servers, restore, start
them again (docs/production.md).
"""

from __future__ import annotations

import sys
from pathlib import Path

from hod_core.errors import ConfigurationError
from hod_core.extend.plugins import PluginManager, load_adapter
from hod_core.server.server_settings import ServerSettings, load_settings


def register(commands, add_settings_arguments) -> None:
    """Add `hod backup` and `hod restore` to `hod`'s sub-parsers."""
    backup = commands.add_parser(
        "backup", help="copy the store to a file, while servers run (SQLite)"
    )
    backup.add_argument("file", help="the backup file to write")
    backup.add_argument("--force", action="store_true", help="replace FILE if it exists")
    add_settings_arguments(backup)
    backup.set_defaults(run=run_backup)

    restore = commands.add_parser("restore", help="replace the store by a backup (stop servers)")
    restore.add_argument("file", help="a file written by hod backup")
    restore.add_argument(
        "--force",
        action="store_true",
        help="restore even while a server has the store open (restart it after)",
    )
    add_settings_arguments(restore)
    restore.set_defaults(run=run_restore)


def run_backup(args) -> int:
    def check(settings: ServerSettings) -> None:
        if Path(args.file).exists() and not args.force:
            raise ConfigurationError(f"{args.file} exists: pass --force to replace it")
        if not settings.data_dir.is_dir():  # a backup never creates a store
            raise ConfigurationError(f"data_dir {settings.data_dir}: no such folder")

    return _with_store(
        args, "hod_store_backup", check, lambda hooks: hooks.hod_store_backup(path=args.file)
    )


def run_restore(args) -> int:
    def check(settings: ServerSettings) -> None:
        try:  # restoring on a new machine: its first store
            settings.data_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ConfigurationError(
                f"data_dir {settings.data_dir}: cannot create it: {exc.strerror}"
            ) from None

    return _with_store(
        args,
        "hod_store_restore",
        check,
        lambda hooks: hooks.hod_store_restore(path=args.file, force=args.force),
    )


def _with_store(args, hook: str, check, job) -> int:
    """Open the store alone, run `job` on its hooks, print its line. Errors go to
    `hod`'s one-line handling: a StoreError exits 1, another HodError 2."""
    settings = load_settings(
        {"data_dir": args.data_dir}, config_file=args.config, require_secret=False
    )
    check(settings)
    store = load_adapter(
        settings.store, {**settings.store_settings, "data_dir": str(settings.data_dir)}
    )
    try:
        manager = PluginManager()
        manager.register(store)
        if not getattr(manager.hook, hook).get_hookimpls():
            raise ConfigurationError(
                f"the store {settings.store} has no backup through hod ({hook}): "
                "use the database's own tools"
            )
        print(job(manager.hook), file=sys.stderr)
    finally:
        store.close()
    return 0
