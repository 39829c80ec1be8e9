"""A loopback stand-in for Twilio's Messages API, as strict as Twilio.

For tests and demos: it checks each request the way Twilio does (the path,
HTTP basic auth, form fields, E.164 numbers, the sender belonging to the
account, the 1,600-character limit) and answers with Twilio's JSON: the
Message resource on success, Twilio's error object and code otherwise.
`fail_next` scripts outages: 429s with Retry-After, 5xx, dropped connections.

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
import urllib.parse
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler

from hod_core.doubles import LoopbackHttpServer

from .gsm7 import segments

E164 = re.compile(r"^\+[1-9]\d{1,14}$")
MESSAGES = re.compile(r"^/2010-04-01/Accounts/(AC[0-9a-f]{32})/Messages\.json$")
MAX_BODY = 1600


class FakeTwilio(LoopbackHttpServer):
    def __init__(self, from_numbers: tuple[str, ...] = ("+15005550006",)):
        super().__init__(_handler(self))
        self.account_sid = "AC" + secrets.token_hex(16)
        self.auth_token = secrets.token_hex(16)
        self.from_numbers = from_numbers
        self.messages: list[dict] = []
        self.requests = 0

    def settings(self) -> dict[str, str]:
        return {
            "account_sid": self.account_sid,
            "auth_token": self.auth_token,
            "from_number": self.from_numbers[0],
            "base_url": self.url,
            "timeout_s": "5",
        }

    # -- Twilio's rules ---------------------------------------------------------
    def answer(self, path: str, authorization: str, content_type: str, raw: bytes):
        """(status, headers, JSON body, or None to drop the connection)."""
        with self._lock:
            self.requests += 1
        scripted = self.scripted()
        if scripted is not None:
            status, headers = scripted
            if status == 0:
                return 0, {}, None
            return status, headers, _error(status, 20429 if status == 429 else 20500)
        match = MESSAGES.match(path)
        if not match:
            return 404, {}, _error(404, 20404, "The requested resource was not found")
        expected = base64.b64encode(f"{self.account_sid}:{self.auth_token}".encode()).decode()
        if match.group(1) != self.account_sid or authorization != f"Basic {expected}":
            return 401, {"WWW-Authenticate": 'Basic realm="Twilio API"'}, _error(401, 20003)
        if not content_type.startswith("application/x-www-form-urlencoded"):
            return 400, {}, _error(400, 21620, "Invalid media or content type")
        form = {k: v[0] for k, v in urllib.parse.parse_qs(raw.decode()).items()}
        problem = self._check(form)
        if problem:
            return 400, {}, _error(400, *problem)
        message = self._resource(form)
        with self._lock:
            self.messages.append(message)
        return 201, {}, message

    def _check(self, form: dict[str, str]) -> tuple[int, str] | None:
        to, sender, body = form.get("To"), form.get("From"), form.get("Body")
        if not to:
            return 21604, "A 'To' phone number is required."
        if not sender and not form.get("MessagingServiceSid"):
            return 21603, "A 'From' phone number is required."
        if not body:
            return 21602, "Message body is required."
        if not E164.match(to):
            return 21211, f"The 'To' number {to} is not a valid phone number."
        if sender and sender not in self.from_numbers:
            return 21606, (
                f"The From phone number {sender} is not a valid, SMS-capable inbound phone "
                "number or short code for your account."
            )
        if len(body) > MAX_BODY:
            return 21617, "The concatenated message body exceeds the 1600 character limit."
        return None

    def _resource(self, form: dict[str, str]) -> dict:
        sid = "SM" + secrets.token_hex(16)
        now = formatdate(usegmt=True)
        return {
            "account_sid": self.account_sid,
            "api_version": "2010-04-01",
            "body": form["Body"],
            "date_created": now,
            "date_sent": None,
            "date_updated": now,
            "direction": "outbound-api",
            "error_code": None,
            "error_message": None,
            "from": form.get("From"),
            "messaging_service_sid": form.get("MessagingServiceSid"),
            "num_media": "0",
            "num_segments": str(segments(form["Body"])),
            "price": None,
            "price_unit": "USD",
            "sid": sid,
            "status": "queued",
            "to": form["To"],
            "uri": f"/2010-04-01/Accounts/{self.account_sid}/Messages/{sid}.json",
        }


def _error(status: int, code: int, message: str = "") -> dict:
    messages = {20003: "Authenticate", 20429: "Too Many Requests", 20500: "Internal Server Error"}
    return {
        "code": code,
        "message": message or messages.get(code, "Error"),
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }


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
            if body is None:  # a dropped connection: no answer at all
                self.close_connection = True
                self.connection.close()
                return
            self._reply(status, headers, body)

        def do_GET(self):
            self._reply(405, {}, _error(405, 20004, "Method not allowed"))

        def _reply(self, status: int, headers: dict, body: dict) -> None:
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
