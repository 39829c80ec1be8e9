"""The ASGI application of `hod serve`: `create_app(settings)`.

The router is built here, before the first request, so a bad setting fails
at start-up. The lifespan runs the sweep (`router.tick()` about every
second, on its own thread: router calls are synchronous and must not block
the event loop) and, at shutdown, stops it and closes the router, which
finishes the notices under way and records them. Route handlers are plain
`def` functions for the same reason: FastAPI runs them on its thread pool.
"""

from __future__ import annotations

import importlib.util
import logging
import threading
from collections.abc import Iterable
from contextlib import asynccontextmanager
from time import monotonic

from anyio import to_thread
from fastapi import FastAPI

from hod_core import __version__
from hod_core.lifecycle.router import Router
from hod_core.server import http_errors, openapi_document, pages
from hod_core.server.api import agent_api, consumer_api, operator_api, system_api
from hod_core.server.context import Hod
from hod_core.server.guard import Guard
from hod_core.server.metrics import Metrics
from hod_core.server.server_settings import ServerSettings

log = logging.getLogger("hod.sweep")
HOUSEKEEPING_S = 60  # accounts' housekeeping: once a minute, not every tick

DESCRIPTION = """Help On Demand referral routing: Get Contacted, the agents' Manage Referrals,
Availability Settings and Profile, and the operators' tools.
Agents and operators authenticate with a session cookie (and its CSRF token) or a bearer token
from `POST /api/v1/login`."""


class SweepThread:
    """The thread that runs the sweep: `router.tick()` about every `interval`
    seconds, then the metrics' catch-up and, now and then, the accounts' housekeeping."""

    def __init__(self, hod: Hod, interval: float):
        self.hod = hod
        self.interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="hod-sweep", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        last_housekeeping = 0.0
        while not self._stop.wait(self.interval):
            try:
                self.hod.router.tick()
                self.hod.metrics.catch_up()
                if self.hod.accounts and monotonic() - last_housekeeping >= HOUSEKEEPING_S:
                    last_housekeeping = monotonic()
                    self.hod.accounts.housekeeping()  # expired sessions, links, throttles
            except Exception as exc:  # noqa: BLE001 - the sweep must outlive a bad second
                log.error("sweep failed: %s (retrying in %.1fs)", type(exc).__name__, self.interval)


def create_app(
    settings: ServerSettings,
    *,
    router: Router | None = None,
    clock: object | None = None,
    plugins: Iterable[object] = (),
    sweep: bool = True,
) -> FastAPI:
    """The app over the store, notifiers and rule file the settings name.

    `clock`: a `hod_now()` plugin (tests pass a FakeClock and `sweep=False`,
    then call `app.state.hod.router.tick()` themselves); `plugins`: more
    plugin objects; `router`: a router built already.
    """
    hod = Hod(settings, clock=clock, plugins=plugins, router=router)
    hod.metrics = Metrics(hod.router.events, hod.router.waiting)

    @asynccontextmanager
    async def lifespan(_: FastAPI):
        # Route handlers run on this many threads. Router calls are CPU-bound Python:
        # more threads add no speed, only more turns waiting for the GIL.
        to_thread.current_default_thread_limiter().total_tokens = settings.request_threads
        sweeper = SweepThread(hod, settings.sweep_seconds) if sweep else None
        if sweeper:
            sweeper.start()
        try:
            yield
        finally:
            if sweeper:
                sweeper.stop()
            hod.router.close()

    app = FastAPI(
        title="hod-core",
        version=__version__,
        description=DESCRIPTION,
        docs_url=None,  # system_api serves /docs without inline script
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.hod = hod
    http_errors.install(app)
    for module in (system_api, consumer_api, agent_api, operator_api, pages):
        app.include_router(module.router)
    if importlib.util.find_spec("hod_core.server.api.auth_api") is not None:
        from hod_core.server.api import auth_api

        app.include_router(auth_api.router)
    openapi_document.install(app)
    app.add_middleware(Guard, max_body_bytes=settings.max_body_bytes, https=settings.https)
    return app
