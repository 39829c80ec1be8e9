"""`hod serve` as a real process on loopback against slow and greedy clients:
a request is read in bounded time (408), headers are bounded (431), one
address holds a bounded number of connections (503), and meanwhile another
client is served within a second. Attackers connect from 127.0.0.2 (Linux
routes all of 127/8 to the loopback), the other client from 127.0.0.1.

Trickling clients need real time: each wait here is bounded and short."""

from __future__ import annotations

import errno
import socket
import threading
from time import monotonic

import httpx
import pytest

from hod_core.errors import ConfigurationError
from hod_core.server.server_settings import load_settings

from .test_serve import KEY, Server

LISTENING = "Application startup complete"  # the port is bound before the app starts

ATTACKER = "127.0.0.2"
TRICKLE = (
    b"POST /api/v1/referrals HTTP/1.1\r\nHost: hod\r\n"
    b"Content-Type: application/json\r\nContent-Length: 4000\r\n\r\n{"
)


def serve(tmp_path, **settings: str) -> Server:
    env = {"HOD_SECRET_KEY": KEY, "HOD_NOTIFIERS": "outbox", **settings}
    server = Server("serve", "--data-dir", str(tmp_path / "data"), env=env)
    server.wait_for(LISTENING)
    return server


def connect(server: Server, source: str, timeout: float = 5) -> socket.socket:
    sock = socket.socket()
    sock.settimeout(timeout)
    sock.bind((source, 0))
    sock.connect(("127.0.0.1", server.port))
    return sock


def answer(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes (b"" if it resets the connection)."""
    chunks = []
    try:
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    except ConnectionResetError:
        pass
    return b"".join(chunks)


def status(sock: socket.socket) -> int:
    head = answer(sock).split(b"\r\n", 1)[0]
    return int(head.split()[1]) if head else 0


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """One server for the short tests; each test connects from an address of its own,
    so connections another test holds or is closing do not count against it."""
    tmp_path = tmp_path_factory.mktemp("limits")
    server = serve(tmp_path, HOD_REQUEST_READ_SECONDS="0.5", HOD_MAX_CONNECTIONS_PER_CLIENT="3")
    yield server
    assert server.stop() == 0


def test_a_stalled_body_is_answered_408_and_dropped(server):
    with connect(server, "127.0.0.10") as sock:
        started = monotonic()
        sock.sendall(TRICKLE)
        assert status(sock) == 408
        assert monotonic() - started < 3
    assert "Traceback" not in server.log()


def test_a_connection_that_sends_nothing_is_dropped(server):
    with connect(server, "127.0.0.11") as sock:
        assert status(sock) == 408


def test_a_request_read_in_time_is_served_and_keeps_its_connection(server):
    transport = httpx.HTTPTransport(local_address="127.0.0.12")
    with httpx.Client(base_url=server.url, transport=transport, timeout=5) as http:
        for _ in range(3):
            assert http.get("/healthz").status_code == 200
            assert http.post("/api/v1/referrals", json={}).status_code == 422


def test_headers_over_max_header_bytes_are_answered_431(server):
    with connect(server, "127.0.0.13") as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: hod\r\nX-Big: " + b"a" * 20_000 + b"\r\n\r\n")
        assert status(sock) == 431


def test_more_than_max_headers_are_answered_431(server):
    many = b"".join(b"X-H%d: 1\r\n" % n for n in range(101))
    with connect(server, "127.0.0.14") as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: hod\r\n" + many + b"\r\n")
        assert status(sock) == 431
    within = b"".join(b"X-H%d: 1\r\n" % n for n in range(98))
    with connect(server, "127.0.0.15") as sock:
        sock.sendall(
            b"GET /healthz HTTP/1.1\r\nHost: hod\r\nConnection: close\r\n" + within + b"\r\n"
        )
        assert status(sock) == 200


def test_a_ten_megabyte_header_is_cut_off_not_buffered(server):
    with connect(server, "127.0.0.16") as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: hod\r\nX-Big: ")
        sent = 0
        with pytest.raises(OSError) as refused:  # the server closes while it is sent
            while sent < 10_000_000:
                sent += sock.send(b"a" * 65536)
        assert refused.value.errno in (errno.EPIPE, errno.ECONNRESET)
        assert sent < 10_000_000


def test_one_address_holds_at_most_max_connections_per_client(server):
    held = [connect(server, "127.0.0.17") for _ in range(3)]
    try:
        with connect(server, "127.0.0.17") as fourth:
            assert status(fourth) in (503, 0)  # a 503, or a reset if it came first
        with connect(server, "127.0.0.18") as other:
            other.sendall(b"GET /healthz HTTP/1.1\r\nHost: hod\r\nConnection: close\r\n\r\n")
            assert status(other) == 200
    finally:
        for sock in held:
            sock.close()


class Trickler(threading.Thread):
    """`count` connections from one address, each sending TRICKLE and then one byte
    every `every` seconds; a connection the server closes is opened again."""

    def __init__(self, server: Server, count: int, every: float):
        super().__init__(daemon=True)
        self.server, self.count, self.every = server, count, every
        self.stop = threading.Event()
        self.opened = self.closed = 0

    def open(self) -> socket.socket | None:
        try:
            sock = connect(self.server, ATTACKER, timeout=1)
            sock.sendall(TRICKLE)
        except OSError:
            self.closed += 1
            return None
        self.opened += 1
        return sock

    def run(self) -> None:
        socks = [self.open() for _ in range(self.count)]
        while not self.stop.wait(self.every):
            for i, sock in enumerate(socks):
                try:
                    if sock is None:
                        raise ConnectionResetError
                    sock.sendall(b" ")
                except OSError:
                    if sock is not None:
                        sock.close()
                        self.closed += 1
                    socks[i] = self.open()
        for sock in socks:
            if sock is not None:
                sock.close()


def test_another_client_is_served_within_a_second_while_one_address_trickles(tmp_path):
    server = serve(tmp_path, HOD_REQUEST_READ_SECONDS="2")
    trickler = Trickler(server, count=1000, every=1)
    trickler.start()
    try:
        waits: list[float] = []
        with httpx.Client(base_url=server.url, timeout=5) as http:
            until = monotonic() + 6
            while monotonic() < until:
                started = monotonic()
                healthz = http.get("/healthz", headers={"Connection": "close"})
                waits.append(monotonic() - started)
                assert healthz.status_code == 200, healthz.text
                trickler.stop.wait(0.1)
        assert max(waits) < 1, max(waits)
        # The connections over the cap were refused, the stalled ones dropped: all
        # were opened again and again.
        assert trickler.closed > 1000
    finally:
        trickler.stop.set()
        trickler.join(timeout=30)
        assert server.stop() == 0


def test_a_client_that_hangs_up_mid_body_is_logged_at_info_not_as_a_fault(server):
    with connect(server, "127.0.0.19") as sock:
        sock.sendall(TRICKLE)
    server.wait_for('"POST /api/v1/referrals" 499', timeout=10)
    log = server.log()
    assert "INFO hod.error: POST /api/v1/referrals: the client went away" in log
    assert "ERROR" not in log and "Traceback" not in log and "ClientDisconnect" not in log


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("HOD_REQUEST_READ_SECONDS", "0"),
        ("HOD_MAX_HEADER_BYTES", "100"),
        ("HOD_MAX_HEADERS", "5"),
        ("HOD_MAX_CONNECTIONS", "1"),
        ("HOD_MAX_CONNECTIONS_PER_CLIENT", "-1"),
    ],
)
def test_a_limit_out_of_range_stops_start_up_naming_it(variable, value):
    with pytest.raises(ConfigurationError) as refused:
        load_settings(environ={"HOD_SECRET_KEY": KEY, variable: value})
    assert str(refused.value).startswith(f"{variable[4:].lower()} must be ")
