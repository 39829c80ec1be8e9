"""`hod serve`: the app under uvicorn, with logs that carry no personal data.

uvicorn's own access log writes each request's path and query string, which
may hold a status token; it is turned off, and the guard middleware logs
the route's template instead (`hod.access`). SIGINT and SIGTERM stop the
server gracefully: requests under way finish, then the lifespan stops the
sweep and closes the router (notices under way are finished and recorded).
Each connection is read under the limits of `hod_core.server.connections`
(time, header size, connections per address); there are no WebSockets.

The port is taken (`listen`) before anything is loaded or printed: a second
server on a busy port says so in one line and exits 1, instead of loading,
printing a demo's banner and dying inside uvicorn.
"""

from __future__ import annotations

import errno
import logging
import signal
import socket
import sys
from collections.abc import Callable
from time import perf_counter

from hod_core.errors import HodError
from hod_core.server.server_settings import ServerSettings

log = logging.getLogger("hod.serve")
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
GRACEFUL_SHUTDOWN_S = 10
SWITCH_INTERVAL_S = 0.001
BACKLOG = 2048  # uvicorn's default


class CannotListen(HodError):
    """The address and port cannot be listened on (taken, not ours, no such host)."""


def listen(settings: ServerSettings) -> socket.socket:
    """A socket listening on the settings' host and port, as uvicorn would open it
    (SO_REUSEADDR: a restart does not wait for the old connections' TIME_WAIT)."""
    family = socket.AF_INET6 if ":" in settings.host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((settings.host, settings.port))
        sock.listen(BACKLOG)
    except OSError as exc:
        sock.close()
        problem = exc.strerror or str(exc)
        if exc.errno == errno.EADDRINUSE:
            problem += " (is another server running?)"
        raise CannotListen(
            f"cannot listen on {settings.host}:{settings.port}: {problem}; "
            "stop the other server or give another --port"
        ) from None
    return sock


def configure_logging() -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter(LOG_FORMAT))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO)


def build(settings: ServerSettings, seed: Callable | None = None):
    """The app, built and timed: the store opened and every agent loaded.
    `seed(hod)` fills an empty store first (the demo's), logged as such, so
    the count logged is what the server holds; what it returns is kept in
    `app.state.seeded`."""
    from hod_core.server.app import create_app

    started = perf_counter()
    app = create_app(settings)
    hod = app.state.hod
    if seed is not None:
        before = hod.router.agent_count()
        app.state.seeded = seed(hod)
        if hod.router.agent_count() > before:
            log.info("demo: %d agents seeded", hod.router.agent_count() - before)
    log.info(
        "%d agents loaded in %.2f s from %s (store %s)",
        hod.router.agent_count(),
        perf_counter() - started,
        settings.data_dir,
        settings.store,
    )
    if settings.fake_clock is not None:
        log.warning("fake clock at %s: for tests only", hod.now().isoformat())
    return app


def run(app, settings: ServerSettings, sock: socket.socket) -> None:
    """Serve on `sock` (from `listen`) until SIGINT or SIGTERM."""
    import uvicorn

    from hod_core.server.connections import protocol_class

    config = uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        access_log=False,  # the guard's access log has no paths, tokens or queries
        log_config=None,  # keep configure_logging's handler
        server_header=False,
        ws="none",  # no WebSocket routes: an upgrade request is plain HTTP
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_S,
        limit_concurrency=settings.max_connections,
        # Bounded reading time, header size and connections per address (slow clients).
        http=protocol_class(
            read_seconds=settings.request_read_seconds,
            header_bytes=settings.max_header_bytes,
            header_count=settings.max_headers,
            per_client=settings.max_connections_per_client,
        ),
    )
    # uvicorn shuts down gracefully on SIGTERM, then raises the signal again for its
    # default action; after a graceful stop that is a plain exit, status 0.
    signal.signal(signal.SIGTERM, _exit_quietly)
    # A request passes between the event loop and a handler thread several times;
    # each pass may wait for the GIL as long as this interval (Python's default: 5 ms).
    sys.setswitchinterval(SWITCH_INTERVAL_S)
    host, port = sock.getsockname()[:2]
    log.info("serving on http://%s:%d (Ctrl-C stops it)", host, port)
    uvicorn.Server(config).run(sockets=[sock])


def _exit_quietly(*_) -> None:
    raise SystemExit(0)
