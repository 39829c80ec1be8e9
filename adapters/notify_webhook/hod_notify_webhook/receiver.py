"""A loopback webhook receiver: for tests, demos and trying a deployment out.

It answers 204 (or what `fail_next` scripts) and keeps every request as it
arrived, whatever its method: headers and raw body, so the caller verifies
signatures exactly as a real receiver would (README, "Verifying").

    with Receiver() as receiver:
        settings = {"url": receiver.url, "signing_secret": ...}
"""

from __future__ import annotations

import ssl
from email.message import Message
from http.server import BaseHTTPRequestHandler

from hod_core.testing import LoopbackHttpServer


class Receiver(LoopbackHttpServer):
    """A webhook receiver on 127.0.0.1 that answers 204, or what `fail_next`
    scripts, and keeps each request: (headers, raw body)."""

    def __init__(self, tls: ssl.SSLContext | None = None):
        super().__init__(_handler(self), tls)
        self.url += "/hooks/hod"
        self.requests: list[tuple[Message, bytes]] = []

    def take(self, headers: Message, body: bytes) -> tuple[int, dict]:
        with self._lock:
            self.requests.append((headers, body))
        return self.scripted() or (204, {})


def _handler(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            status, headers = receiver.take(self.headers, body)  # names case-insensitive
            if status == 0:
                self.close_connection = True
                self.connection.close()
                return
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", "0")
            self.end_headers()

        # Every method is kept: a test proves that no request, not even a GET, arrives.
        do_GET = do_PUT = do_PATCH = do_DELETE = do_POST

        def log_message(self, *args) -> None:
            pass

    return Handler
