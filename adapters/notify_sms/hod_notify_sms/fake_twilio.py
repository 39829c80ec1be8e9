"""A loopback stand-in for Twilio's Messages API, as strict as Twilio.

For tests and demos: it checks each request the way Twilio does (the path,
HTTP basic auth, form fields, E.164 numbers, the sender belonging to the
account, the 1,600-character limit) and answers with Twilio's JSON: the
Message resource on success, Twilio's error object and code otherwise. Its
answers are checked against Twilio's own Python client (the adapter's tests
drive it with `twilio`), so an adapter tested here meets Twilio's answers.

It serves `POST .../Messages.json` (send) and `GET .../Messages/{Sid}.json`
(fetch); any other path is Twilio's 404 (20404).

Scripted outages, the two kinds a text adapter must tell apart:
- `fail_next(status)`: the request is refused before Twilio takes the
  message (a 429 with Retry-After, a 503; 0 hangs up at once);
- `accept_then(status)`: Twilio takes the message, then answers `status`
  instead of 201 (a 500, as its 20500 page warns), `HANG_UP` or `STALL`
  (no answer until the client gives up). The text is out; a retry would
  send it twice.

    with FakeTwilio() as twilio:
        settings = twilio.settings()  # for TwilioSms.from_settings
        ...
        twilio.messages  # what was accepted, as Twilio stored it
"""

from __future__ import annotations

import base64
import json
import re
import secrets
import socket
import time
import urllib.parse
from collections import deque
from http.server import BaseHTTPRequestHandler

from hod_core.testing import LoopbackHttpServer

from .gsm7 import segments

E164 = re.compile(r"^\+[1-9]\d{1,14}$")
ACCOUNT = r"/2010-04-01/Accounts/(AC[0-9a-fA-F]{32})"  # the pattern of Twilio's API definition
MESSAGES = re.compile(rf"^{ACCOUNT}/Messages\.json$")
MESSAGE = re.compile(rf"^{ACCOUNT}/Messages/((?:SM|MM)[0-9a-fA-F]{{32}})\.json$")
MAX_BODY = 1600
HANG_UP, STALL = 0, -1  # outcomes without an answer
TWILIO_CODES = {401: 20003, 404: 20404, 429: 20429, 500: 20500, 503: 20503}
MESSAGES_OF_CODE = {
    20003: "Authenticate",
    20429: "Too Many Requests",
    20500: "Internal Server Error",
    20503: "Service unavailable",
}
STALL_LIMIT_S = 30  # a stalled answer waits this long at most for the client to give up


class FakeTwilio(LoopbackHttpServer):
    def __init__(
        self, from_numbers: tuple[str, ...] = ("+15005550006",), account_sid: str | None = None
    ):
        super().__init__(_handler(self))
        self.account_sid = account_sid or "AC" + secrets.token_hex(16)
        self.auth_token = secrets.token_hex(16)
        self.from_numbers = from_numbers
        self.messages: list[dict] = []
        self.requests = 0  # of any method, answered or not
        self._after_accepting: deque[int] = deque()

    def settings(self) -> dict[str, str]:
        return {
            "account_sid": self.account_sid,
            "auth_token": self.auth_token,
            "from_number": self.from_numbers[0],
            "base_url": self.url,
            "timeout_s": "5",
        }

    def accept_then(self, status: int, times: int = 1) -> None:
        """Take the next `times` messages as usual, then answer `status`
        instead of 201 (HANG_UP: close the connection; STALL: no answer)."""
        with self._lock:
            self._after_accepting.extend([status] * times)

    # -- Twilio's rules ---------------------------------------------------------
    def answer(self, path: str, authorization: str, content_type: str, raw: bytes):
        """A send: (status, headers, JSON body, or None for no answer)."""
        with self._lock:
            self.requests += 1
        scripted = self.scripted()
        if scripted is not None:
            status, headers = scripted
            if status == HANG_UP:
                return HANG_UP, {}, None
            return status, headers, _error(status, TWILIO_CODES.get(status, status))
        match = MESSAGES.match(path)
        if not match:
            return _not_found(path)
        if not self._authenticated(match.group(1), authorization):
            return _unauthenticated()
        # Twilio reads form fields only: a JSON body has no 'To' (21604).
        form = {}
        if content_type.startswith("application/x-www-form-urlencoded"):
            form = urllib.parse.parse_qs(raw.decode("utf-8", "replace"), keep_blank_values=True)
        fields, media = {k: v[-1] for k, v in form.items()}, form.get("MediaUrl", [])
        problem = self._check(fields, media)
        if problem:
            return 400, {}, _error(400, *problem)
        message = self._resource(fields, media)
        with self._lock:
            self.messages.append(message)
            after = self._after_accepting.popleft() if self._after_accepting else None
        if after is None:
            return 201, {}, message
        if after in (HANG_UP, STALL):
            return after, {}, None
        return after, {}, _error(after, TWILIO_CODES.get(after, after))

    def fetch(self, path: str, authorization: str):
        """A GET of one message: (status, headers, JSON body)."""
        with self._lock:
            self.requests += 1
        match = MESSAGE.match(path.split("?", 1)[0])
        if not match:
            return _not_found(path)
        if not self._authenticated(match.group(1), authorization):
            return _unauthenticated()
        with self._lock:
            found = [m for m in self.messages if m["sid"] == match.group(2)]
        return (200, {}, found[0]) if found else _not_found(path)

    def _authenticated(self, account_sid: str, authorization: str) -> bool:
        expected = base64.b64encode(f"{self.account_sid}:{self.auth_token}".encode()).decode()
        return account_sid == self.account_sid and authorization == f"Basic {expected}"

    def _check(self, form: dict[str, str], media: list[str]) -> tuple[int, str] | None:
        to, sender, body = form.get("To"), form.get("From"), form.get("Body")
        if not to:
            return 21604, "A 'To' phone number is required."
        if not sender and not form.get("MessagingServiceSid"):
            return 21603, "A 'From' phone number is required."
        if not body and not media:
            return 21602, "Message body is required."
        if not E164.match(to):
            return 21211, f"The 'To' number {to} is not a valid phone number."
        if sender and sender not in self.from_numbers:
            return 21606, (
                f"The From phone number {sender} is not a valid, SMS-capable inbound phone "
                "number or short code for your account."
            )
        if any(not url.startswith(("http://", "https://")) for url in media):
            return 21620, "Invalid media URL(s)"
        if len(body or "") > MAX_BODY:
            return 21617, "The concatenated message body exceeds the 1600 character limit."
        return None

    def _resource(self, form: dict[str, str], media: list[str]) -> dict:
        sid = ("MM" if media else "SM") + secrets.token_hex(16)
        now = time.strftime("%a, %d %b %Y %H:%M:%S +0000", time.gmtime())
        body = form.get("Body", "")
        service = form.get("MessagingServiceSid") or None
        uri = f"/2010-04-01/Accounts/{self.account_sid}/Messages/{sid}"
        return {
            "account_sid": self.account_sid,
            "api_version": "2010-04-01",
            "body": body,
            "date_created": now,
            "date_sent": None,
            "date_updated": now,
            "direction": "outbound-api",
            "error_code": None,
            "error_message": None,
            "from": form.get("From") or None,
            "messaging_service_sid": service,
            "num_media": str(len(media)),
            # A Messaging Service has not picked its sender yet: 0 segments, "accepted".
            "num_segments": "0" if service else str(segments(body)),
            "price": None,
            "price_unit": "USD",
            "sid": sid,
            "status": "accepted" if service else "queued",
            "subresource_uris": {"media": f"{uri}/Media.json"},
            "to": form["To"],
            "uri": f"{uri}.json",
        }


def _error(status: int, code: int, message: str = "") -> dict:
    return {
        "code": code,
        "message": message or MESSAGES_OF_CODE.get(code, "Error"),
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }


def _not_found(path: str):
    return 404, {}, _error(404, 20404, f"The requested resource {path} was not found")


def _unauthenticated():
    return 401, {"WWW-Authenticate": 'Basic realm="Twilio API"'}, _error(401, 20003)


def _wait_for_the_client_to_leave(connection: socket.socket) -> None:
    """Hold a stalled answer until the client closes its end (its timeout)."""
    connection.settimeout(STALL_LIMIT_S)
    try:
        while connection.recv(1024):
            pass
    except OSError:
        pass


def _handler(twilio: FakeTwilio) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            status, headers, body = twilio.answer(
                self.path,
                self.headers.get("Authorization", ""),
                self.headers.get("Content-Type", ""),
                raw,
            )
            self._reply(status, headers, body)

        def do_GET(self):
            self._reply(*twilio.fetch(self.path, self.headers.get("Authorization", "")))

        def _reply(self, status: int, headers: dict, body: dict | None) -> None:
            if body is None:  # no answer at all: hang up, at once or when the client does
                if status == STALL:
                    _wait_for_the_client_to_leave(self.connection)
                self.close_connection = True
                self.connection.close()
                return
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args) -> None:  # the test's output stays clean
            pass

    return Handler
