"""Test doubles for hosts, adapter authors and examples; no pytest needed.

- `FakeClock`: the clock hook, moved by hand.
- `Outbox`: a notifier on every channel that keeps what it is given.
- `closed_port()`: a loopback port nobody listens on (a far end that is down).
- `LoopbackHttpServer`: an HTTP server on 127.0.0.1 in a thread, whose next
  answers can be scripted to fail, the base of the notifier adapters'
  stand-ins for Twilio and for a webhook receiver.
"""

from __future__ import annotations

import socket
import ssl
import threading
from collections import deque
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from hod_core.notify.notices import Notice


class FakeClock:
    """The clock hook, moved by hand: 15-minute windows pass in microseconds."""

    def __init__(self, at: datetime):
        if at.tzinfo is None:
            raise ValueError("a fake clock needs a timezone-aware start")
        self.at = at

    def hod_now(self) -> datetime:
        return self.at

    def advance(self, **delta: float) -> datetime:
        """Move on by `timedelta(**delta)`, e.g. `clock.advance(minutes=15)`."""
        self.at += timedelta(**delta)
        return self.at


class Outbox:
    """A notifier on every channel that keeps what it is given, in order."""

    def __init__(self):
        self.notices: list[Notice] = []

    def hod_notify_email(self, notice: Notice) -> None:
        self.notices.append(notice)

    def hod_notify_text(self, notice: Notice) -> None:
        self.notices.append(notice)

    def hod_notify_app(self, notice: Notice) -> None:
        self.notices.append(notice)


def closed_port() -> int:
    """A loopback port nobody listens on: a far end that is down (connections
    are refused at once, so a test of an outage waits for no timeout)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class LoopbackHttpServer:
    """An HTTP(S) server on 127.0.0.1, serving in a thread while used as a
    context manager. `fail_next` scripts the next answers (a status, with
    Retry-After or other headers if given; 0 hangs up without a word); a
    handler asks `scripted()` for the next one before answering on its own."""

    def __init__(self, handler: type[BaseHTTPRequestHandler], tls: ssl.SSLContext | None = None):
        self._script: deque[tuple[int, dict[str, str]]] = deque()
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        if tls is not None:
            self._server.socket = tls.wrap_socket(self._server.socket, server_side=True)
        scheme = "https" if tls else "http"
        self.url = f"{scheme}://127.0.0.1:{self._server.server_address[1]}"

    def fail_next(
        self,
        status: int,
        times: int = 1,
        retry_after: int | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        """Answer the next `times` requests with `status` (0: drop the connection)
        and `headers` (a redirect's Location, say)."""
        headers = dict(headers or {})
        if retry_after is not None:
            headers["Retry-After"] = str(retry_after)
        with self._lock:
            self._script.extend([(status, headers)] * times)

    def scripted(self) -> tuple[int, dict[str, str]] | None:
        with self._lock:
            return self._script.popleft() if self._script else None

    def __enter__(self):
        threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()
        return self

    def __exit__(self, *_) -> None:
        self._server.shutdown()
        self._server.server_close()
