"""Who is looking at a page: the auth dependencies, answered as a browser expects.

The JSON API answers 401 and 403; a page sends a person who is not logged in
to the log-in page (and back afterwards), and one with the wrong role to the
log-in page with a word on why. The CSRF token of a cookie session is checked
exactly as for the API (`auth.current_account`), from the form's hidden
`csrf_token` field.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import Depends, HTTPException, Request
from starlette.datastructures import FormData

from hod_core.server.accounts.account_service import Account
from hod_core.server.accounts.auth import (
    COOKIE,
    CSRF_FIELD,
    credentials,
    csrf_token,
    current_account,
)

MAX_FIELDS = 200
MAX_FILE_BYTES = 20 * 1024 * 1024


async def form_of(request: Request) -> FormData:
    """The posted form (parsed once; Starlette keeps it on the request)."""
    if request.method in ("GET", "HEAD"):
        return FormData()
    try:
        return await request.form(max_fields=MAX_FIELDS)
    except Exception:  # noqa: BLE001 - not a form at all: the route sees an empty one
        return FormData()


async def _login_required(request: Request, role: str | None) -> Account:
    form = await form_of(request)
    sent = form.get(CSRF_FIELD)
    try:
        account = current_account(request, sent if isinstance(sent, str) else None)
    except HTTPException as exc:
        if exc.status_code != 401:
            raise
        raise _to_login(request, "need_login") from None
    if role is not None and account.role != role:
        raise _to_login(request, f"not_{role}")
    return account


def _to_login(request: Request, why: str) -> HTTPException:
    here = request.url.path if request.method == "GET" else "/"
    location = f"/login?next={quote(here, safe='')}&why={why}"
    return HTTPException(303, why, headers={"location": location, "cache-control": "no-store"})


async def page_agent(request: Request) -> Account:
    """Depends(page_agent): the logged-in agent, or a redirect to the log-in page."""
    return await _login_required(request, "agent")


async def page_operator(request: Request) -> Account:
    return await _login_required(request, "operator")


def optional_account(request: Request) -> Account | None:
    """The logged-in account if any (for the menu of public pages); never refuses."""
    found = credentials(request)
    if found is None:
        return None
    live = request.app.state.hod.accounts.session(found[0])
    return live[1] if live else None


def csrf_of(request: Request) -> str:
    """The CSRF token of this cookie session, for the hidden fields of its forms."""
    token = request.cookies.get(COOKIE)
    return csrf_token(token) if token else ""


PageAgent = Annotated[Account, Depends(page_agent)]
PageOperator = Annotated[Account, Depends(page_operator)]
