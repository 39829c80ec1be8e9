"""Misbehaving SMTP servers, written by hand on raw sockets: one that accepts
and never speaks, one that hangs up in the middle of the conversation."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import pytest


class ScriptedServer:
    """A loopback TCP server that greets with `banner` (None: silence), answers
    each command line from `replies` in order, and hangs up when they run out."""

    def __init__(self, banner: bytes | None, replies: list[bytes]):
        self.banner, self.replies = banner, replies
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.connections: list[socket.socket] = []
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        try:
            conn, _ = self.listener.accept()
        except OSError:
            return
        self.connections.append(conn)
        if self.banner is None:
            return  # accepted; never a word
        conn.sendall(self.banner)
        reader = conn.makefile("rb")
        for reply in self.replies:
            if not reader.readline():
                break
            conn.sendall(reply)
        conn.close()  # hang up

    def close(self) -> None:
        for conn in self.connections:
            conn.close()
        self.listener.close()


@pytest.fixture
def scripted() -> Iterator:
    servers: list[ScriptedServer] = []

    def start(banner: bytes | None, replies: list[bytes] = ()) -> ScriptedServer:
        servers.append(ScriptedServer(banner, list(replies)))
        return servers[-1]

    yield start
    for server in servers:
        server.close()
