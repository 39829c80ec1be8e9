"""Who is asking: FastAPI dependencies for routes that need a logged-in
agent or operator, with CSRF protection for cookie sessions.

    @router.get("/api/v1/agent/referrals")
    def referrals(account: Account = Depends(current_agent)): ...

Credentials are a session cookie (the pages) or `Authorization: Bearer
<token>` (the mobile app, scripts). A cookie rides along on any request a
browser makes, including one another site triggers, so every state change
(POST, PUT, PATCH, DELETE) made with the cookie must also carry the
session's CSRF token, in the `X-CSRF-Token` header or a form's `csrf_token`
field. The token is derived from the session token by HMAC: bound to the
session, never stored, and unreadable to another site (the cookie is
HttpOnly and the token comes only in answers to this origin). A bearer
token is never sent by a browser on its own, so it needs none.

401: no credentials, or an unknown, expired, revoked session; 403: the
wrong role, or a cookie state change without the right CSRF token.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from urllib.parse import urlsplit

from fastapi import Depends, HTTPException, Request

from hod_core.domain.account_records import Account

COOKIE = "hod_session"
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
_CSRF_PURPOSE = b"hod csrf token v1"


def csrf_token(session_token: str) -> str:
    digest = hmac.new(session_token.encode(), _CSRF_PURPOSE, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def credentials(request: Request) -> tuple[str, str] | None:
    """(token, "bearer" or "cookie") from the request, the header first."""
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip(), "bearer"
    cookie = request.cookies.get(COOKIE)
    return (cookie, "cookie") if cookie else None


def same_origin(request: Request, public_url: str = "") -> bool:
    """Whether a browser says the request comes from a page of this server: its
    `Origin` is the Host it asked, or the public URL (behind a proxy that
    rewrites Host). A request with no `Origin`, from a script or an app,
    passes: it carries no ambient cookie of a victim."""
    origin = request.headers.get("origin")
    if origin is None:
        return True
    netloc = urlsplit(origin).netloc.lower()
    ours = {request.headers.get("host", "").lower(), urlsplit(public_url).netloc.lower()}
    return bool(netloc) and netloc in ours


async def _form_csrf(request: Request) -> str | None:
    """A form post's `csrf_token` field, read only when the header is absent."""
    if request.method in SAFE_METHODS or request.headers.get(CSRF_HEADER):
        return None
    if not request.headers.get("content-type", "").startswith(FORM_TYPES):
        return None
    try:
        value = (await request.form(max_files=0, max_fields=50)).get(CSRF_FIELD)
    except Exception:  # noqa: BLE001 - a malformed form is refused by the route itself
        return None
    return value if isinstance(value, str) else None


def current_account(request: Request, form_csrf: str | None = Depends(_form_csrf)) -> Account:
    """The logged-in account (agent or operator)."""
    cached = getattr(request.state, "hod_account", None)
    if cached is not None:
        return cached
    found = credentials(request)
    if found is None:
        raise HTTPException(401, "log in first", headers={"WWW-Authenticate": "Bearer"})
    token, via = found
    live = request.app.state.hod.accounts.session(token)
    if live is None or live[0].kind != via:
        raise HTTPException(
            401, "the session has ended: log in again", headers={"WWW-Authenticate": "Bearer"}
        )
    if via == "cookie" and request.method not in SAFE_METHODS:
        sent = request.headers.get(CSRF_HEADER) or form_csrf or ""
        if not hmac.compare_digest(sent.encode(), csrf_token(token).encode()):
            raise HTTPException(403, "CSRF token missing or wrong")
    request.state.hod_account = live[1]
    return live[1]


def current_agent(account: Account = Depends(current_account)) -> Account:
    """The logged-in agent; `account.npn` is theirs. An operator is refused (403)."""
    if account.role != "agent":
        raise HTTPException(403, "for agents only")
    return account


def current_operator(account: Account = Depends(current_account)) -> Account:
    """The logged-in operator. An agent is refused (403)."""
    if account.role != "operator":
        raise HTTPException(403, "for operators only")
    return account
