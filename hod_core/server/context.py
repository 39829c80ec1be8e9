"""What every request handler reaches through `request.app.state.hod`.

`Hod` builds the router from the settings: the store adapter by name (SQLite
in the data folder by default), the notifier adapters, the clock, the rule
file. A bad setting fails here, at start-up, with one line. A command that
only reads (`hod agents list`, `hod why`, ...) opens it `read_only`: no
notifier, and a data folder that must exist already.
"""

from __future__ import annotations

import importlib.util
import logging
from collections.abc import Iterable
from datetime import datetime

from hod_core.domain.channels import channels as registered_channels
from hod_core.domain.models import Agent
from hod_core.errors import ConfigurationError, PolicyError
from hod_core.extend.plugins import load_adapter
from hod_core.lifecycle.router import Router
from hod_core.rules.policy import load_policy
from hod_core.server.clock import FILE_NAME, FileClock, SystemClock
from hod_core.server.outbox import StoredOutbox
from hod_core.server.server_settings import ServerSettings
from hod_core.wire.bulk import gc_paused

log = logging.getLogger("hod.serve")
PRIVATE_DIR = 0o700
REFERRAL_PATH = "/agent/referrals/"  # a notice's link: {public_url}/agent/referrals/{id}


class Hod:
    """The router and what surrounds it, for one server process.

    `clock`: any `hod_now()` plugin (tests pass a FakeClock); `plugins`: more
    plugin objects to register (a test's own notifier, say); `router`: one
    built already (its plugins then serve as they are, and `clock` and
    `plugins` are not used). `read_only`: for a command that reads what the
    server stored and sends nothing: the data folder is not made (a missing
    one is a `ConfigurationError` naming it) and no notifier is loaded.
    """

    def __init__(
        self,
        settings: ServerSettings,
        *,
        clock: object | None = None,
        plugins: Iterable = (),
        router: Router | None = None,
        read_only: bool = False,
    ):
        self.settings = settings
        if read_only:
            _require_dir(settings)
        else:
            _make_dir(settings)
        self.router = router or self._build_router(
            settings, clock or _clock(settings), plugins, read_only=read_only
        )
        self.outbox = self.router.plugin_of(StoredOutbox)
        self.accounts = _accounts(self.router, settings.base_url)
        self.metrics = None  # set by the app (hod_core.server.metrics)

    def now(self) -> datetime:
        return self.router.now()

    def agent(self, npn: str) -> Agent:
        """The agent with this NPN as the router knows it now; NotFound if none."""
        return self.router.agent(npn)

    @staticmethod
    def _build_router(
        settings: ServerSettings, clock: object, plugins: Iterable, *, read_only: bool = False
    ) -> Router:
        policy = _policy(settings)
        common = {"data_dir": str(settings.data_dir)}
        store = load_adapter(settings.store, {**settings.store_settings, **common})
        notifiers = [
            load_adapter(name, {**settings.notifier_settings.get(name, {}), **common})
            for name in (() if read_only else settings.notifiers)
        ]
        everything = [store, clock, *notifiers, *plugins]
        channels = _channels(everything)
        if "email" not in channels and not read_only:
            raise ConfigurationError(
                "no notifier sends email (L2: email is always a channel): set notifiers, "
                "e.g. HOD_NOTIFIERS=notify_email, or outbox to keep notices in the data folder"
            )
        # Reading every agent back from the store allocates millions of objects that
        # live as long as the server: left on, the cyclic collector would rescan them
        # all, again and again (a third of start-up at 100k agents).
        with gc_paused():
            return Router(
                everything,
                policy=policy,
                channels=channels,
                link_base=settings.base_url + REFERRAL_PATH,
                freeze_after_load=settings.freeze_gc,
                delivery_threads=0 if read_only else settings.delivery_threads,
            )


def _accounts(router: Router, base_url: str):
    """The accounts of the server (hod_core.server.accounts.account_service), or None without it."""
    if importlib.util.find_spec("hod_core.server.accounts.account_service") is None:
        return None
    from hod_core.server.accounts.account_service import Accounts

    return Accounts(router, base_url=base_url)


def _clock(settings: ServerSettings):
    if settings.fake_clock is None:
        return SystemClock()
    return FileClock(settings.fake_clock, settings.data_dir / FILE_NAME)


def _make_dir(settings: ServerSettings) -> None:
    """The data folder, private to the server's user (0700, whatever the umask): it
    holds contact data, password hashes and, for the demo, the secret key."""
    try:
        settings.data_dir.mkdir(mode=PRIVATE_DIR, parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigurationError(
            f"data_dir {settings.data_dir}: cannot create it: {exc.strerror}"
        ) from None
    try:
        settings.data_dir.chmod(PRIVATE_DIR)
    except OSError as exc:  # another user's folder: it still works, but say so
        log.warning(
            "data_dir %s: cannot make it private (0700): %s", settings.data_dir, exc.strerror
        )


def _require_dir(settings: ServerSettings) -> None:
    if not settings.data_dir.is_dir():
        state = "is not a folder" if settings.data_dir.exists() else "does not exist"
        raise ConfigurationError(
            f"data_dir {settings.data_dir} {state}: give the folder hod serve uses "
            "(--data-dir, HOD_DATA_DIR or data_dir in the config file)"
        )


def _policy(settings: ServerSettings):
    try:
        return load_policy(settings.rules)
    except PolicyError as exc:
        more = len(exc.problems) - 1
        hint = f" (and {more} more: run hod rules check {settings.rules})" if more else ""
        raise ConfigurationError(f"rules: {exc.problems[0].render()}{hint}") from None


def _channels(plugins: list[object]) -> tuple[str, ...]:
    """The channels some plugin sends on: a deployment without texts skips them, on record."""
    return tuple(
        channel.name
        for channel in registered_channels()
        if any(callable(getattr(p, channel.hook, None)) for p in plugins)
    )
