"""Refusing, at start-up, a file this store cannot serve, with one clear line.

A store that starts on a damaged, foreign, newer or read-only file would
fail later, mid-referral, with a bare `sqlite3` error and no path. Opening
checks instead, and raises `StoreError` naming the path and the problem:

- the header: not an SQLite file at all, or shorter than its header says
  (truncated: a copy cut short, a full disk during a copy);
- the tables: an SQLite file of another application (tables, but not ours);
- the schema version: newer than this adapter understands;
- writing: the opening transaction always writes the schema version, so a
  read-only file (or folder) is found at start-up, not at the first commit.

The file holds consumers' contact data and password hashes: `make_private`
creates it readable by its owner only (0600), whatever the umask, before
SQLite opens it; SQLite then gives the -wal and -shm files the same mode.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from pathlib import Path

from hod_core import StoreError

MAGIC = b"SQLite format 3\x00"
HEADER_BYTES = 100

# SQLite's primary result codes, as Python names them, -> what a person should hear.
_PROBLEMS = {
    "SQLITE_NOTADB": "not an SQLite database (or its first page is damaged)",
    "SQLITE_CORRUPT": "damaged (SQLite: database disk image is malformed)",
    "SQLITE_READONLY": "read-only: hod-core must write to its store",
    "SQLITE_CANTOPEN": "cannot be opened: check that its folder exists and is writable",
    "SQLITE_PERM": "permission denied",
    "SQLITE_FULL": "the disk is full",
    "SQLITE_IOERR": "an I/O error while reading or writing it",
    "SQLITE_BUSY": "locked by another process for longer than the timeout",
}


PRIVATE = 0o600
COMPANIONS = ("-wal", "-shm", "-journal")  # SQLite's files beside the database


def make_private(path: Path) -> None:
    """Create the database file as 0600 if it is missing, and make it and its
    companions 0600 if they exist (a file made under a looser umask, or copied in).
    What cannot be done here (a missing folder, another owner's file) is left to
    SQLite's opening, which names the problem."""
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, PRIVATE)
    except OSError:
        return
    try:
        with contextlib.suppress(OSError):
            os.fchmod(fd, PRIVATE)
    finally:
        os.close(fd)
    for suffix in COMPANIONS:
        with contextlib.suppress(OSError):  # absent, or not ours
            os.chmod(f"{path}{suffix}", PRIVATE)


def check_header(path: Path) -> None:
    """Refuse a file that is not SQLite, or is shorter than its header says,
    before SQLite reads it (a truncated file otherwise opens, and fails later)."""
    try:
        size = path.stat().st_size
        if size == 0:
            return  # a new store
        with path.open("rb") as file:
            header = file.read(HEADER_BYTES)
    except FileNotFoundError:
        return  # a new store
    except OSError as exc:
        raise StoreError(f"{path}: cannot read it: {exc.strerror}") from None
    if len(header) < HEADER_BYTES or not header.startswith(MAGIC):
        raise StoreError(f"{path}: not an SQLite database: is this the right file?")
    page_size = int.from_bytes(header[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    pages = int.from_bytes(header[28:32], "big")
    # The page count is valid when the change counter matches "version-valid-for".
    # In a live WAL store (header bytes 18-19: 2, a -wal file beside it) another
    # process's checkpoint may have written page 1 before growing the file.
    live = header[18] == 2 and path.with_name(path.name + "-wal").exists()
    if pages and header[24:28] == header[92:96] and size < pages * page_size and not live:
        raise StoreError(
            f"{path}: damaged: the file is truncated ({size} of {pages * page_size} bytes)"
        )


def check_schema(db: sqlite3.Connection, path: Path, version: int, newest: int) -> None:
    """Refuse another application's database, or a schema newer than `newest`."""
    if version > newest:
        raise StoreError(
            f"{path}: schema version {version} is newer than this hod-store-sqlite "
            f"understands ({newest}); upgrade the adapter"
        )
    tables = {name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    if version == 0 and tables - {"sqlite_sequence"}:
        found = ", ".join(sorted(tables)[:5])
        raise StoreError(f"{path}: not a hod-core store: it holds other tables ({found})")
    if version > 0 and "referrals" not in tables:
        raise StoreError(f"{path}: not a hod-core store: schema version {version}, no referrals")


def opening_error(path: Path, error: sqlite3.Error) -> StoreError:
    """The problem SQLite found on opening, in words, with the path."""
    name = getattr(error, "sqlite_errorname", None) or ""  # SQLITE_IOERR_WRITE: IOERR
    problem = _PROBLEMS.get("_".join(name.split("_")[:2]), f"cannot be used: {error}")
    return StoreError(f"{path}: {problem}")
