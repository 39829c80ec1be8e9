"""A loopback webhook receiver: for tests, demos and trying a deployment out.

It answers 204 (or what `fail_next` scripts) and keeps every request as it
arrived, headers and raw body, so the caller verifies signatures exactly as a
real receiver would (README, "Verifying").

    with Receiver() as receiver:
        settings = {"url": receiver.url, "signing_secret": ...}
"""

from __future__ import annotations

import ssl
import threading
from collections import deque
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Receiver:
    """An HTTP(S) server on 127.0.0.1 that answers 204, or what `fail_next` scripts
    (a status; 0 hangs up without answering), and keeps each request."""

    def __init__(self, tls: ssl.SSLContext | None = None):
        self.requests: list[tuple[Message, bytes]] = []  # (headers, raw body)
        self._script: deque[tuple[int, dict]] = deque()
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._server.daemon_threads = True
        if tls is not None:
            self._server.socket = tls.wrap_socket(self._server.socket, server_side=True)
        scheme = "https" if tls else "http"
        self.url = f"{scheme}://127.0.0.1:{self._server.server_address[1]}/hooks/hod"

    def fail_next(self, status: int, times: int = 1, retry_after: int | None = None) -> None:
        headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
        with self._lock:
            self._script.extend([(status, headers)] * times)

    def take(self, headers: Message, body: bytes) -> tuple[int, dict]:
        with self._lock:
            self.requests.append((headers, body))
            return self._script.popleft() if self._script else (204, {})

    def __enter__(self) -> Receiver:
        threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()
        return self

    def __exit__(self, *_) -> None:
        self._server.shutdown()
        self._server.server_close()


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

        def log_message(self, *args) -> None:
            pass

    return Handler
