"""Forgotten passwords as pages: ask for a reset link, then choose a new password.

- `/password/forgot` (seed 001's "Forgot Password?"): a user name or email;
  the answer is always the same "if an account exists, we sent a link", so
  the form tells nobody which accounts exist. `accounts.forgot` sends the
  link and caps the emails per account (RESETS_PER_HOUR), as for the API.
- `/password/reset?token=...` (the emailed link, R1: one hour, used once):
  new password and confirmation with the R3 checklist ticked live as on the
  sign-up page and checked again here, every failed rule named. An expired,
  used or unknown link says which, with a link to ask for a new one.

Like the log-in and sign-up forms these come before any session, so there
is no session CSRF token to carry; the reset link's token is the secret.
"""

from __future__ import annotations

from fastapi import APIRouter, Request

from hod_core.server.accounts import account_service as acc
from hod_core.server.accounts.registration import RegistrationInvalid
from hod_core.server.deps import HodDep
from hod_core.server.pages.common import password_rules
from hod_core.server.pages.render import ECHO_CHARS, page, translator
from hod_core.server.pages.session import form_of

router = APIRouter(include_in_schema=False)


# -- ask for a link -------------------------------------------------------------------------
@router.get("/password/forgot")
def forgot_form(request: Request):
    return page(request, "password_forgot.html", sent=False, notice="", login_value="")


@router.post("/password/forgot")
async def forgot_submit(request: Request, *, hod: HodDep):
    form = await form_of(request)
    login = str(form.get("login", "")).strip()
    if not login:
        t = translator(request)
        return page(
            request,
            "password_forgot.html",
            status=422,
            sent=False,
            notice=t("password.blank"),
            login_value="",
        )
    hod.accounts.forgot(login[:ECHO_CHARS])
    return page(request, "password_forgot.html", sent=True, notice="", login_value="")


# -- choose a new password --------------------------------------------------------------------
def _reset_page(
    request: Request,
    token: str,
    *,
    status: int = 200,
    bad_link: str = "",
    errors: dict | None = None,
    failed=(),
    done: bool = False,
):
    return page(
        request,
        "password_reset.html",
        status=status,
        token=token,
        bad_link=bad_link,
        errors=errors or {},
        failed=failed,
        rules=password_rules(translator(request).language),
        done=done,
    )


def _refused_link(request: Request, exc: acc.LinkInvalid):
    """The page for an unusable link: why, and where to ask for a new one (R1)."""
    status = 404 if exc.why == "unknown" else 410
    return _reset_page(
        request, "", status=status, bad_link=translator(request)(f"password.link_{exc.why}")
    )


@router.get("/password/reset")
def reset_form(request: Request, token: str = "", *, hod: HodDep):
    try:
        hod.accounts.reset_link(token[:ECHO_CHARS])
    except acc.LinkInvalid as exc:
        return _refused_link(request, exc)
    return _reset_page(request, token)


@router.post("/password/reset")
async def reset_submit(request: Request, *, hod: HodDep):
    form = await form_of(request)
    token = str(form.get("token", ""))[:ECHO_CHARS]
    password = str(form.get("password", ""))
    confirm = str(form.get("password_confirm", ""))
    try:
        hod.accounts.reset_link(token)  # an unusable link says so before any rule
        hod.accounts.reset(token, password, confirm)
    except acc.LinkInvalid as exc:
        return _refused_link(request, exc)
    except RegistrationInvalid as exc:
        spanish = translator(request).language == "es"
        named: dict[str, list[str]] = {}
        for problem in exc.problems:
            named.setdefault(problem.field, []).append(
                problem.message_es if spanish else problem.message
            )
        errors = {field: "; ".join(messages) for field, messages in named.items()}
        failed = [p.id for p in exc.problems if p.id]
        return _reset_page(request, token, status=422, errors=errors, failed=failed)
    return _reset_page(request, "", done=True)
