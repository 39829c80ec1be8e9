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

Before a session there is nothing to bind a token to, yet a log-in is a
state change too (login CSRF: another site's form logs the victim's browser
into the attacker's account). The log-in form therefore carries a pre-session
token: a random nonce in an HttpOnly, SameSite=Strict cookie scoped to
`/login`, and in the form the HMAC of that nonce under the server's secret
key. Another site can neither read the cookie nor compute the HMAC of a nonce
it plants. The page also refuses a post the browser says comes from another
site (`from_another_site`).

401: no credentials, or an unknown, expired, revoked session; 403: the
wrong role, or a cookie state change without the right CSRF token.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from urllib.parse import urlsplit

from fastapi import Depends, HTTPException, Request

from hod_core.domain.account_records import Account

COOKIE = "hod_session"
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
_CSRF_PURPOSE = b"hod csrf token v1"
LOGIN_COOKIE = "hod_login"
LOGIN_COOKIE_SECONDS = 24 * 3600  # a log-in page left open for a day still works
_LOGIN_PURPOSE = b"hod log-in form token v1:"
_NONCE = re.compile(r"[A-Za-z0-9_-]{32}")
# What `Sec-Fetch-Site` says of a post from our own page (or one a person typed).
_OWN_FETCH_SITES = frozenset({"same-origin", "none"})


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
    netloc = _netloc(origin)
    ours = {request.headers.get("host", "").lower(), _netloc(public_url)}
    return bool(netloc) and netloc in ours


def login_nonce(request: Request) -> str | None:
    """The browser's log-in nonce from its cookie, if it holds a well-formed one."""
    nonce = request.cookies.get(LOGIN_COOKIE, "")
    return nonce if _NONCE.fullmatch(nonce) else None


def new_login_nonce() -> str:
    return secrets.token_urlsafe(24)  # 32 characters of the URL-safe alphabet


def login_form_token(secret_key: str, nonce: str) -> str:
    """The log-in form's hidden token for the browser that holds `nonce`."""
    digest = hmac.new(secret_key.encode(), _LOGIN_PURPOSE + nonce.encode(), hashlib.sha256)
    return base64.urlsafe_b64encode(digest.digest()).decode().rstrip("=")


def login_form_token_valid(request: Request, secret_key: str, sent: object) -> bool:
    """Whether the posted log-in form carries the token of the browser's own nonce."""
    nonce = login_nonce(request)
    if nonce is None or not isinstance(sent, str):
        return False
    return hmac.compare_digest(sent.encode(), login_form_token(secret_key, nonce).encode())


def from_another_site(request: Request, public_url: str = "") -> bool:
    """Whether the browser says this post comes from a page of another site:
    `Sec-Fetch-Site` other than same-origin, an `Origin` or a `Referer` that is
    neither the Host asked nor the public URL. Our own pages send no Referer
    (`Referrer-Policy: no-referrer`), so their Origin is `null`: a null or absent
    Origin proves nothing either way, and the form token decides."""
    fetch_site = request.headers.get("sec-fetch-site")
    if fetch_site is not None and fetch_site.lower() not in _OWN_FETCH_SITES:
        return True
    ours = {request.headers.get("host", "").lower(), _netloc(public_url)} - {""}
    for name in ("origin", "referer"):
        value = request.headers.get(name)
        if value is None or (name == "origin" and value == "null"):
            continue
        if _netloc(value) not in ours:
            return True
    return False


def _netloc(url: str) -> str:
    """The host[:port] of a URL a client sent, lower case; "" when it is not a URL."""
    try:
        return urlsplit(url).netloc.lower()
    except ValueError:  # e.g. an unclosed IPv6 bracket
        return ""


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
