"""A hod-core store on one SQLite file: see `SqliteStore`."""

from .store import SCHEMA_VERSION, SqliteStore

__all__ = ["SCHEMA_VERSION", "SqliteStore"]
