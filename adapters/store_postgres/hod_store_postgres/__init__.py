"""A hod-core store on PostgreSQL, for several processes on one database: see `PostgresStore`."""

from .database import PostgresSettings, StoreUnavailable
from .schema import SCHEMA_VERSION
from .store import PostgresStore, close_all

__all__ = [
    "SCHEMA_VERSION",
    "PostgresSettings",
    "PostgresStore",
    "StoreUnavailable",
    "close_all",
]
