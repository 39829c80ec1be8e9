"""Log in, log out, sign up from an invitation link (R1-R5), the terms of use.

- Sign-up (seed 001, "Get Started by Creating a Profile"): name and email
  from the imported record, read-only (R2); phone, Preferred Contact Method,
  ZIP, user name, password with the R3 checklist (ticked live by hod.js,
  checked again here: every failed rule is marked), both terms of use (R5).
  An expired, used or unknown link is refused with the page's own words (R1).
- After sign-up: "Your registration is almost complete!" with the test-text
  notice (R4), then log in. An agent missing a term of use is sent to the
  Registration page (seed 001 step 5) until both are accepted.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse

from hod_core.domain.account_records import TERMS
from hod_core.domain.channels import SEPARATOR, channel
from hod_core.domain.models import ContactMethod
from hod_core.server.accounts import account_service as acc
from hod_core.server.accounts.auth import (
    COOKIE,
    CSRF_FIELD,
    LOGIN_COOKIE,
    LOGIN_COOKIE_SECONDS,
    credentials,
    from_another_site,
    login_form_token,
    login_form_token_valid,
    login_nonce,
    new_login_nonce,
)
from hod_core.server.accounts.registration import RegistrationForm, RegistrationInvalid
from hod_core.server.context import Hod
from hod_core.server.deps import HodDep
from hod_core.server.pages.common import language_options, password_rules
from hod_core.server.pages.render import ECHO_CHARS, page, redirect, safe_next, translator
from hod_core.server.pages.session import PageAgent, csrf_of, form_of

router = APIRouter(include_in_schema=False)
HOME = {"agent": "/agent/referrals", "operator": "/operator/agents"}


def _message(problem, language: str) -> str:
    return problem.message_es if language == "es" else problem.message


def contact_methods(t) -> list[tuple[str, str]]:
    """Every contact method over the registered channels, as (value, label):
    the catalogue's label for the seed's four, else the channels' own labels
    joined ("Email, Text & WhatsApp")."""
    return [(value, contact_method_label(t, value)) for value in ContactMethod.allowed()]


def contact_method_label(t, value: str) -> str:
    if t.has(f"contact_method.{value}"):
        return t(f"contact_method.{value}")
    labels = [channel(name).label(t.language) for name in value.split(SEPARATOR)]
    return f"{', '.join(labels[:-1])} {t('contact_method.and')} {labels[-1]}"


# -- log in and out ---------------------------------------------------------------------
@router.get("/login")
def login_form(request: Request, next: str = "", why: str = "", out: str = "", *, hod: HodDep):  # noqa: A002
    t = translator(request)
    notice = t(f"login.{why}") if why in ("need_login", "not_agent", "not_operator") else ""
    notice = t("login.logged_out") if out else notice
    return _login_page(request, hod, next_=safe_next(next, ""), notice=notice)


def _login_page(
    request: Request,
    hod: Hod,
    *,
    status: int = 200,
    next_: str = "",
    notice: str = "",
    error: str = "",
    login_value: str = "",
):
    """The log-in form with its pre-session CSRF token (`auth`'s module docstring):
    the browser's nonce cookie is kept (several tabs share it), or made."""
    nonce = login_nonce(request) or new_login_nonce()
    response = page(
        request,
        "login.html",
        status=status,
        csrf=login_form_token(hod.settings.secret_key, nonce),
        next=next_,
        notice=notice,
        error=error,
        login_value=login_value,
    )
    response.set_cookie(
        LOGIN_COOKIE,
        nonce,
        max_age=LOGIN_COOKIE_SECONDS,
        path="/login",
        httponly=True,
        samesite="strict",  # never sent with another site's post
        secure=hod.settings.https,
    )
    return response


@router.post("/login")
async def login_submit(request: Request, *, hod: HodDep):
    form = await form_of(request)
    t = translator(request)
    login, password = str(form.get("login", "")), str(form.get("password", ""))
    target = safe_next(str(form.get("next", "")), "")
    refused = _login_csrf_refusal(request, hod, form.get(CSRF_FIELD))
    if refused:  # login CSRF: no password is checked, no session made
        return _login_page(
            request, hod, status=403, next_=target, error=t(refused), login_value=login[:ECHO_CHARS]
        )
    address = request.client.host if request.client else "unknown"
    try:
        token, account = hod.accounts.login(login, password, address, "cookie")
    except acc.Throttled:
        error, status = t("login.throttled"), 429
    except acc.BadCredentials:
        error, status = t("login.failed"), 401
    else:
        if account.role == "agent" and not account.registration_complete:
            target = "/terms"
        response = redirect(target or HOME.get(account.role, "/"))
        response.set_cookie(
            COOKIE,
            token,
            max_age=int(acc.SESSION_TTL["cookie"].total_seconds()),
            path="/",
            httponly=True,
            samesite="lax",
            secure=hod.settings.https,
        )
        return response
    return _login_page(
        request, hod, status=status, next_=target, error=error, login_value=login[:ECHO_CHARS]
    )


def _login_csrf_refusal(request: Request, hod: Hod, sent: object) -> str | None:
    """Why a log-in post is refused as cross-site (a message key), or None."""
    if from_another_site(request, hod.settings.base_url):
        return "login.other_site"
    if not login_form_token_valid(request, hod.settings.secret_key, sent):
        return "login.form_expired"  # no nonce cookie, or a token not of this browser
    return None


@router.post("/logout")
async def logout(request: Request, *, hod: HodDep):
    await page_agent_or_operator(request)
    found = credentials(request)
    if found:
        hod.accounts.logout(found[0])
    response = redirect("/login?out=1")
    response.delete_cookie(
        COOKIE, path="/", httponly=True, samesite="lax", secure=hod.settings.https
    )
    return response


async def page_agent_or_operator(request: Request):
    """Any logged-in account, with the CSRF token checked (log-out is a state change)."""
    from hod_core.server.pages.session import _login_required

    return await _login_required(request, None)


# -- R1-R5: sign up ----------------------------------------------------------------------
def _signup(request: Request, token: str, hod: Hod, values: dict, errors: dict, status: int = 200):
    t = translator(request)
    try:
        link, agent = hod.accounts.invitation(token)
    except acc.LinkInvalid:
        return page(
            request, "register.html", status=410, agent=None, token="", values={}, errors={}
        )
    return page(
        request,
        "register.html",
        status=status,
        agent=agent,
        token=token,
        values={
            "phone": agent.phone,
            "zip": agent.zip,
            "contact_method": agent.contact_method.value,
            **values,
        },
        errors=errors,
        failed=errors.get("_failed", ()),
        rules=password_rules(t.language),
        methods=contact_methods(t),
        terms=TERMS,
    )


@router.get("/register")
def register_form(request: Request, token: str = "", *, hod: HodDep):
    return _signup(request, token, hod, {}, {})


@router.post("/register")
async def register_submit(request: Request, *, hod: HodDep):
    form = await form_of(request)
    text = {
        name: str(form.get(name, ""))
        for name in (
            "token",
            "username",
            "password",
            "password_confirm",
            "phone",
            "contact_method",
            "zip",
        )
    }
    token = text.pop("token")
    ticks = {term: form.get(term) == "on" for term in TERMS}
    language = translator(request).language
    try:
        done = hod.accounts.register(token, RegistrationForm(**text, **ticks))
    except acc.LinkInvalid:
        return _signup(request, "", hod, {}, {})
    except acc.AlreadyRegistered:
        return redirect("/login?why=need_login")
    except (RegistrationInvalid, acc.LoginTaken) as exc:
        problems = getattr(exc, "problems", None)
        errors: dict = {}
        if problems is None:
            errors["username"] = (
                "este nombre de usuario ya existe"
                if language == "es"
                else "this user name is taken"
            )
        for problem in problems or ():
            errors.setdefault(problem.field, _message(problem, language))
        errors["_failed"] = [p.id for p in problems or () if p.id]
        keep = {k: v[:ECHO_CHARS] for k, v in text.items() if not k.startswith("password")}
        return _signup(request, token, hod, {**keep, **ticks}, errors, status=422)
    return redirect(f"/register/done?text={'1' if done.test_text_sent else '0'}")


@router.get("/register/done")
def register_done(request: Request, text: str = "0"):
    return page(request, "register_done.html", text_sent=text == "1")


# -- R5: both terms of use after log-in (seed 001 step 5) -------------------------------------------
@router.get("/terms")
def terms_form(request: Request, *, account: PageAgent, hod: HodDep):
    agent = hod.agent(account.npn)
    t = translator(request)
    return page(
        request,
        "terms.html",
        account=account,
        csrf=csrf_of(request),
        agent=agent,
        languages=dict(language_options(t, agent.languages)),
        missing=account.terms_missing,
        declined=False,
    )


@router.post("/terms")
async def terms_submit(request: Request, *, account: PageAgent, hod: HodDep):
    form = await form_of(request)
    if form.get("decision") != "accept" or not all(
        form.get(term) == "on" for term in account.terms_missing
    ):
        agent = hod.agent(account.npn)
        return page(
            request,
            "terms.html",
            status=422,
            account=account,
            csrf=csrf_of(request),
            agent=agent,
            languages=dict(language_options(translator(request), agent.languages)),
            missing=account.terms_missing,
            declined=True,
        )
    hod.accounts.accept_terms(account, account.terms_missing)
    return redirect("/agent/referrals")


@router.get("/agent")
def agent_home() -> RedirectResponse:
    return redirect("/agent/referrals")
