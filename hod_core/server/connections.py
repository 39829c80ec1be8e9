"""Connections under `hod serve`: every request read in bounded time and size,
and a cap on the connections one address holds, so a slow or greedy client
cannot lock others out.

uvicorn's HTTP/1.1 protocol (httptools) waits for a request as long as the
client keeps the connection open, buffers headers of any size and number,
and lets one address open connections until the server's own limit answers
everybody 503. `protocol_class(settings)` makes a subclass of it that adds:

- a deadline: a request's line, headers and body must arrive within
  `request_read_seconds` of its first byte (for a connection's first request,
  of the connection itself); a client still sending then is answered 408 and
  the connection closed. While the server itself is not reading (flow
  control: the handler has not taken the body yet, a pipelined request waits
  its turn) the deadline moves on, so a busy server never blames the client.
- header limits: a request line and headers over `max_header_bytes` bytes,
  or more than `max_headers` header lines, are answered 431 and the
  connection closed, before the rest is buffered.
- a cap per address: a connection beyond `max_connections_per_client` from
  one address is answered 503 and closed at once (0: no cap).

What happens is logged (`hod.connections`) as counts at most every
`LOG_EVERY_S` seconds, never the client's address.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections import Counter
from http import HTTPStatus
from time import monotonic

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

log = logging.getLogger("hod.connections")
LOG_EVERY_S = 10.0


class _HeadersTooLarge(Exception):
    """Raised in a parser callback to stop parsing; uvicorn then calls `send_400_response`."""


class _RefusalTally:
    """Counts of refusals by reason, logged together at most every LOG_EVERY_S seconds."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()
        self.logged_at = -LOG_EVERY_S

    def add(self, reason: str) -> None:
        self.counts[reason] += 1
        if monotonic() - self.logged_at >= LOG_EVERY_S:
            self.logged_at = monotonic()
            summary = ", ".join(f"{n} {what}" for what, n in sorted(self.counts.items()))
            log.warning("connections closed by the server's limits: %s", summary)
            self.counts.clear()


def protocol_class(
    *, read_seconds: float, header_bytes: int, header_count: int, per_client: int
) -> type[HttpToolsProtocol]:
    """uvicorn's httptools protocol under these limits (pass it as `http=`); the
    server's settings `request_read_seconds`, `max_header_bytes`, `max_headers`
    and `max_connections_per_client`."""

    limits = {
        "read_seconds": read_seconds,
        "header_bytes": header_bytes,
        "header_count": header_count,
        "per_client": per_client,
        "per_address": Counter(),  # open connections by address, for this server
        "tally": _RefusalTally(),
    }
    return type("Protocol", (LimitedProtocol,), limits)


class LimitedProtocol(HttpToolsProtocol):
    """See the module; the limits are class attributes set by `protocol_class`."""

    read_seconds: float
    header_bytes: int
    header_count: int
    per_client: int
    per_address: Counter[str]
    tally: _RefusalTally

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._deadline: asyncio.TimerHandle | None = None
        self._address: str | None = None
        self._in_headers = True
        self._seen_bytes = 0
        self._seen_headers = 0
        self._header_size = 0
        self._too_large = ""

    # The connection

    def connection_made(self, transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        address = self.client[0] if self.client else None
        if address is not None and self.per_client:
            if self.per_address[address] >= self.per_client:
                self.tally.add("over max_connections_per_client")
                self._reply_and_close(503, "too many connections from one address")
                return
            self.per_address[address] += 1
            self._address = address
        self._arm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        if self._address is not None:
            self.per_address[self._address] -= 1
            if self.per_address[self._address] <= 0:
                del self.per_address[self._address]
            self._address = None
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._in_headers:
            self._seen_bytes += len(data)
        super().data_received(data)
        # The callbacks count the headers exactly (`_count`), but the parser buffers a
        # header until it ends: this bounds what it holds to one chunk over the limit.
        # Checked after parsing: a chunk that ends the headers may carry body bytes too.
        if self._in_headers and self._seen_bytes > self.header_bytes and not self._closing():
            self._headers_too_large(f"headers over {self.header_bytes} bytes")

    def send_400_response(self, msg: str) -> None:
        if self._too_large:  # a callback stopped the parser (see _count)
            self._headers_too_large(self._too_large)
        else:
            super().send_400_response(msg)

    # Parser callbacks

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._in_headers = True
        self._seen_bytes = 0
        self._seen_headers = 0
        self._header_size = 0
        self._arm()

    def on_url(self, url: bytes) -> None:
        self._count(len(url), lines=0)
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        self._count(len(name) + len(value) + 4, lines=1)  # 4: ": " and CRLF
        super().on_header(name, value)

    def _count(self, size: int, lines: int) -> None:
        """Stops the parser (see send_400_response) once the headers exceed a limit."""
        self._header_size += size
        self._seen_headers += lines
        if self._header_size > self.header_bytes:
            self._too_large = f"headers over {self.header_bytes} bytes"
        elif self._seen_headers > self.header_count:
            self._too_large = f"more than {self.header_count} headers"
        if self._too_large:
            raise _HeadersTooLarge

    def on_headers_complete(self) -> None:
        self._in_headers = False
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        self._disarm()
        super().on_message_complete()

    # The deadline

    def _arm(self) -> None:
        if self._deadline is None:
            self._deadline = self.loop.call_later(self.read_seconds, self._expired)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _expired(self) -> None:
        self._deadline = None
        if self._closing():
            return
        if self.flow.read_paused:  # the server stopped reading, not the client
            self._arm()
            return
        self.tally.add("requests not read within request_read_seconds")
        cycle = None if self._in_headers else self.cycle
        if cycle is not None and cycle.response_started:
            self.transport.close()  # the handler answers already; nothing more to say
            return
        if cycle is not None:
            # The handler waits for the body: it now reads a disconnect and its
            # answer, if any, is dropped, so only the 408 reaches the client.
            cycle.disconnected = True
            cycle.message_event.set()
        self._reply_and_close(408, f"the request was not read within {self.read_seconds:g} s")

    # Answers

    def _headers_too_large(self, why: str) -> None:
        self.tally.add("requests with too large headers")
        self._disarm()
        self._reply_and_close(431, f"request header fields too large: {why}")

    def _reply_and_close(self, status: int, detail: str) -> None:
        body = json.dumps({"detail": detail}).encode()
        head = (
            f"HTTP/1.1 {status} {HTTPStatus(status).phrase}\r\n"
            "content-type: application/json\r\n"
            f"content-length: {len(body)}\r\n"
            "connection: close\r\n\r\n"
        )
        self.transport.write(head.encode() + body)
        self.transport.close()

    def _closing(self) -> bool:
        return self.transport is None or self.transport.is_closing()
