"""The settings of `store_sqlite` (environment variables HOD_SQLITE_*), read by
hod_core's one settings loader like every adapter's."""

from __future__ import annotations

from attrs import frozen

from hod_core import adapter_config

ENV_PREFIX = "HOD_SQLITE_"


@frozen
class SqliteSettings:
    """Settings of `store_sqlite` (environment variables HOD_SQLITE_*)."""

    path: str = ""
    """The database file; default: hod.sqlite3 in the data folder (`data_dir`, which
    the server gives every adapter). Several processes may share one file."""
    synchronous: str = "NORMAL"
    """SQLite's `PRAGMA synchronous`: NORMAL (a power cut may lose the last commits,
    a crashed process none) or FULL (none at all, for a slower commit)."""
    timeout_s: float = 30.0
    """Seconds a connection waits for another process's write to finish."""
    validate_on_load: bool = False
    """True: every stored agent goes through the validating converter again when read
    (a row edited by hand, stricter checks after an upgrade); see StoredAgentDecoder."""

    @classmethod
    def of(cls, settings) -> SqliteSettings:
        """The settings the host gives, then HOD_SQLITE_*, then the TOML file, then defaults."""
        return adapter_config(cls, settings, env_prefix=ENV_PREFIX)
