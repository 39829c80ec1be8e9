"""What every request passes through: a body size limit, security headers, an
access log without personal data, and a last resort that answers 500 without
a traceback in the answer or the consumer's data in the log.

One pure ASGI middleware, so a request pays for one layer, not four.
- Body limit: a `Content-Length` over `max_body_bytes` is refused with 413
  before anything is read; a body that streams past it is cut off with 413.
- Headers: a CSP that allows no inline script and no framing, nosniff,
  `Referrer-Policy: no-referrer` (a status token in a URL must not leak to
  another site), `Cache-Control: no-store` on the API (contact data must not
  sit in a shared cache), HSTS when served over HTTPS.
- Access log (`hod.access`): method, the route's template
  (`/api/v1/referrals/status/{token}`, never the token), status, milliseconds.
  No query string, no body, no client address.
- A client that goes away before its request is read (Starlette's
  `ClientDisconnect`) is logged at INFO without a traceback and recorded as
  499 (nginx's "client closed request"): not a server fault, not a 5xx.
"""

from __future__ import annotations

import json
import logging
import traceback
from time import perf_counter

from starlette.requests import ClientDisconnect

access_log = logging.getLogger("hod.access")
error_log = logging.getLogger("hod.error")

API_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
# The interactive docs: Swagger UI from this server's own files; no inline script
# (its components set inline styles, and its icons are data: images).
DOCS_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'"
)
_COMMON = [
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
    (b"cross-origin-opener-policy", b"same-origin"),
]
HSTS = (b"strict-transport-security", b"max-age=31536000")
CLIENT_CLOSED = 499  # nobody reads an answer; the access log's mark for it


class _TooLarge(Exception):
    pass


class Guard:
    def __init__(self, app, *, max_body_bytes: int, https: bool = False, docs_prefix="/docs"):
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.docs_prefix = docs_prefix
        self.extra = [HSTS] if https else []

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = perf_counter()
        response = {"status": 0}
        path = scope.get("path", "")
        headers = [
            *_COMMON,
            *self.extra,
            (
                b"content-security-policy",
                (DOCS_CSP if path.startswith(self.docs_prefix) else API_CSP).encode(),
            ),
        ]
        if path.startswith("/api/"):
            headers.append((b"cache-control", b"no-store"))

        async def send_guarded(message):
            if message["type"] == "http.response.start":
                response["status"] = message["status"]
                present = {name.lower() for name, _ in message.get("headers", ())}
                added = [h for h in headers if h[0] not in present]
                message = {**message, "headers": [*message.get("headers", ()), *added]}
            await send(message)

        received = 0

        async def receive_limited():
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body_bytes:
                    raise _TooLarge
            return message

        try:
            if self._declared_too_large(scope):
                await self._answer(send_guarded, 413, self._too_large_text())
            else:
                await self.app(scope, receive_limited, send_guarded)
        except _TooLarge:
            if not response["status"]:
                await self._answer(send_guarded, 413, self._too_large_text())
        except ClientDisconnect:
            error_log.info(
                "%s %s: the client went away before its request was read",
                scope.get("method"),
                _template(scope),
            )
            response["status"] = response["status"] or CLIENT_CLOSED
        except Exception as exc:  # noqa: BLE001 - the last resort: log without data, answer 500
            error_log.error(
                "%s %s failed: %s\n%s",
                scope.get("method"),
                _template(scope),
                type(exc).__name__,
                "".join(traceback.format_tb(exc.__traceback__)).rstrip(),
            )
            if not response["status"]:
                await self._answer(send_guarded, 500, "internal error (logged)")
        finally:
            access_log.info(
                '"%s %s" %d %.1fms',
                scope.get("method"),
                _template(scope),
                response["status"],
                (perf_counter() - started) * 1000,
            )

    def _declared_too_large(self, scope) -> bool:
        for name, value in scope.get("headers", ()):
            if name == b"content-length":
                return not value.isdigit() or int(value) > self.max_body_bytes
        return False

    def _too_large_text(self) -> str:
        return f"the request body is larger than {self.max_body_bytes} bytes"

    @staticmethod
    async def _answer(send, status: int, detail: str) -> None:
        body = json.dumps({"detail": detail}).encode()
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


def _template(scope) -> str:
    """The matched route's path template; never the path itself (it may hold a token)."""
    route = scope.get("route")
    return getattr(route, "path", None) or "(no route)"
