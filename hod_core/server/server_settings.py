"""The server's settings: one TOML file, `HOD_*` environment variables, flags.

For each setting the first source that has it wins: a command-line flag, the
environment variable (`HOD_` + the name in capitals), the TOML file (named by
`--config` or `HOD_CONFIG`), the default. A setting that is missing or bad
raises `ConfigurationError` with one line naming it and where it came from;
`hod serve` prints that line and exits 2 before binding a port. The reading,
converting and checking for unknown keys is `hod_core.extend.settings`'s, the
same as every adapter's; this module declares the settings and their limits.

    host = "127.0.0.1"            # HOD_HOST
    port = 8000                   # HOD_PORT
    public_url = "https://hod.example.org"   # HOD_PUBLIC_URL: links in notices, Secure cookies
    data_dir = "/var/lib/hod"     # HOD_DATA_DIR: the SQLite file and the outbox live here
    secret_key = "..."            # HOD_SECRET_KEY: 32+ characters; signs status tokens, sessions
    rules = "/etc/hod/policy.toml"   # HOD_RULES: the rule file; default: the shipped one
    store = "store_sqlite"        # HOD_STORE: any installed store adapter
    notifiers = ["notify_email", "notify_sms"]   # HOD_NOTIFIERS="notify_email,notify_sms"
    [store_settings]              # passed to the store adapter
    synchronous = "FULL"
    [notifier_settings.notify_email]   # passed to that notifier (it also reads its own HOD_SMTP_*)
    host = "smtp.example.org"
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from attrs import field, frozen

from hod_core.errors import ConfigurationError
from hod_core.extend.settings import fill_settings

ENV_PREFIX = "HOD_"
MIN_SECRET_CHARS = 32


@frozen
class ServerSettings:
    """Everything `hod serve` needs to start; see the module docstring."""

    data_dir: Path = Path("hod-data")
    """The data folder: the SQLite store's file and the in-app outbox live here."""
    host: str = "127.0.0.1"
    """The address `hod serve` binds to."""
    port: int = 8000
    """The TCP port `hod serve` listens on, 0 to 65535."""
    public_url: str = ""
    """The URL agents and consumers reach the server at: links in notices, and
    Secure cookies when it starts with https://. Default: http://host:port."""
    secret_key: str = field(default="", repr=False, metadata={"secret": True})
    """32 or more random characters that sign status tokens and sessions.
    Required, except for the demo, which makes its own."""
    rules: Path | None = None
    """The rule file (TOML); default: the shipped one (`hod rules default` prints it)."""
    store: str = "store_sqlite"
    """The store adapter: any installed one (see the adapters below)."""
    store_settings: Mapping[str, Any] = field(factory=dict)
    """A table passed to the store adapter as its settings. TOML file only."""
    notifiers: tuple[str, ...] = ()
    """The notifier adapters; one of them must send email (L2). In the environment,
    names separated by commas."""
    notifier_settings: Mapping[str, Mapping[str, Any]] = field(factory=dict)
    """One table per notifier (`[notifier_settings.notify_email]`), passed to it as
    its settings. TOML file only."""
    max_body_bytes: int = 64 * 1024
    """The largest request body accepted, in bytes, at least 1024 (a Get Contacted
    request is a few hundred bytes)."""
    request_read_seconds: float = 10.0
    """The time a client has to send a whole request (line, headers and body), 0.1 to
    3600 seconds, from its first byte (a new connection's: from connecting). A client
    still sending then is answered 408 and its connection closed, so slow clients
    cannot hold connections open (a Get Contacted request is a few hundred bytes)."""
    max_header_bytes: int = 16 * 1024
    """The largest request line and headers together, in bytes, 1024 to 1048576;
    more is answered 431 and the connection closed."""
    max_headers: int = 100
    """The most header lines a request may have, 10 to 10000; more is answered 431
    and the connection closed."""
    max_connections: int = 1000
    """The connections (and requests under way) served at once, 10 to 100000; a request
    beyond it is answered 503. Each takes a file descriptor: keep it under `ulimit -n`."""
    max_connections_per_client: int = 50
    """The connections one client address may hold open at once, 0 to 100000 (0: no
    cap); one more is answered 503 and closed. A browser opens up to 6. Behind a
    reverse proxy every connection comes from the proxy's address: set 0 there
    and let the proxy limit each client."""
    sweep_seconds: float = 1.0
    """How often the background sweep calls the router's `tick()` (offers that
    expire, waiting referrals, retention), 0.05 to 60 seconds."""
    delivery_threads: int = 4
    """Worker threads per notification channel, 0 to 64; 0 sends each notice on the
    thread of the request that caused it."""
    request_threads: int = 8
    """Threads running route handlers (router calls), 1 to 256."""
    freeze_gc: bool = True
    """Hide the agents read at start-up from the garbage collector
    (`Router(freeze_after_load=...)`): faster with many agents."""
    fake_clock: datetime | None = None
    """Tests only: the server's time is this instant plus the seconds written in the
    data folder's `fake-clock` file (`hod_core.server.clock.FileClock`)."""
    demo: bool = False
    """Demo data, accounts and an in-app outbox; set by `hod serve --demo` only."""

    @property
    def base_url(self) -> str:
        return (self.public_url or f"http://{self.host}:{self.port}").rstrip("/")

    @property
    def https(self) -> bool:
        return self.base_url.startswith("https://")


SET_BY_CALLER = ("demo",)  # not a setting anyone writes: `hod serve --demo` sets it


def load_settings(
    flags: Mapping[str, Any] | None = None,
    *,
    config_file: str | Path | None = None,
    environ: Mapping[str, str] | None = None,
    demo: bool = False,
    require_secret: bool | None = None,
) -> ServerSettings:
    """Settings from flags, then `HOD_*` variables, then the TOML file, then defaults.
    The secret key is required unless `require_secret` is False (default: not for
    the demo, which makes its own; operator commands do not sign anything)."""
    environ = os.environ if environ is None else environ
    values = fill_settings(
        ServerSettings,
        {k: v for k, v in (flags or {}).items() if v is not None},
        given_as=lambda name: f"--{name.replace('_', '-')}",
        env_prefix=ENV_PREFIX,
        environ=environ,
        config_file=config_file or environ.get(f"{ENV_PREFIX}CONFIG"),
        skip=SET_BY_CALLER,
    )
    settings = ServerSettings(demo=demo, **values)
    _check(settings, require_secret=not demo if require_secret is None else require_secret)
    return settings


def _check(settings: ServerSettings, *, require_secret: bool) -> None:
    if not 0 <= settings.port <= 65535:
        raise ConfigurationError(f"port must be 0 to 65535, not {settings.port}")
    if settings.public_url and not settings.public_url.startswith(("http://", "https://")):
        raise ConfigurationError(
            f"public_url must start with http:// or https://, not {settings.public_url!r:.60}"
        )
    if require_secret and len(settings.secret_key) < MIN_SECRET_CHARS:
        state = "is missing" if not settings.secret_key else "is too short"
        raise ConfigurationError(
            f"secret_key {state}: set HOD_SECRET_KEY (or secret_key in the config file) to "
            f"{MIN_SECRET_CHARS}+ random characters, e.g. the output of "
            "python3 -c 'import secrets; print(secrets.token_urlsafe(32))'"
        )
    if settings.max_body_bytes < 1024:
        raise ConfigurationError(
            f"max_body_bytes must be at least 1024, not {settings.max_body_bytes}"
        )
    _check_range(settings, "request_read_seconds", 0.1, 3600)
    _check_range(settings, "max_header_bytes", 1024, 1024 * 1024)
    _check_range(settings, "max_headers", 10, 10_000)
    _check_range(settings, "max_connections", 10, 100_000)
    _check_range(settings, "max_connections_per_client", 0, 100_000)
    if not 0.05 <= settings.sweep_seconds <= 60:
        raise ConfigurationError(f"sweep_seconds must be 0.05 to 60, not {settings.sweep_seconds}")
    if not 1 <= settings.request_threads <= 256:
        raise ConfigurationError(
            f"request_threads must be 1 to 256, not {settings.request_threads}"
        )
    if not 0 <= settings.delivery_threads <= 64:
        raise ConfigurationError(
            f"delivery_threads must be 0 to 64, not {settings.delivery_threads}"
        )
    for name, table in settings.notifier_settings.items():
        if not isinstance(table, Mapping):
            raise ConfigurationError(f"notifier_settings.{name} must be a table")


def _check_range(settings: ServerSettings, name: str, lowest: float, highest: float) -> None:
    value = getattr(settings, name)
    if not lowest <= value <= highest:
        raise ConfigurationError(f"{name} must be {lowest} to {highest}, not {value}")
