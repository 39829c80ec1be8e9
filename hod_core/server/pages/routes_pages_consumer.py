"""The consumer's pages: home, Get Contacted with per-field errors, the status page;
the language switch and the static files.

Get Contacted posts a plain form; the answer is the status page (by its
unguessable token) or the form again with each bad field marked. Errors are
the page's own words: a bad phone or email is never echoed in a message (P1),
only kept in its own field for the consumer to correct.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse

from hod_core.domain.codes import US_STATES
from hod_core.domain.referrals import ReferralStatus
from hod_core.errors import NotFound
from hod_core.server.api.consumer_api import FIELDS, consumer_problems
from hod_core.server.context import Hod
from hod_core.server.deps import HodDep
from hod_core.server.pages.common import language_options, static_file
from hod_core.server.pages.i18n import COOKIE, LANGUAGES
from hod_core.server.pages.render import ECHO_CHARS, page, redirect, safe_next, translator
from hod_core.server.pages.session import csrf_of, form_of, optional_account
from hod_core.server.services.status_tokens import referral_of, status_token

router = APIRouter(include_in_schema=False)
YEAR_SECONDS = 365 * 24 * 3600


@router.get("/")
def home(request: Request):
    return page(request, "home.html", account=optional_account(request), csrf=csrf_of(request))


@router.get("/lang/{code}")
def switch_language(code: str, next: str = "/"):  # noqa: A002 - the query parameter's name
    """Remember the chosen language in a cookie and go back (works without JavaScript)."""
    response = RedirectResponse(safe_next(next), status_code=303)
    if code in LANGUAGES:
        response.set_cookie(COOKIE, code, max_age=YEAR_SECONDS, path="/", samesite="lax")
    return response


@router.get("/static/{name}")
def static(name: str):
    found = static_file(name)
    if found is None:
        raise NotFound("no such file")
    body, media_type = found
    return Response(body, media_type=media_type, headers={"cache-control": "public, max-age=3600"})


def _form_page(request: Request, values: dict, errors: dict, status: int = 200):
    t = translator(request)
    states = [("", t("contact.state_any")), *((s, s) for s in sorted(US_STATES))]
    return page(
        request,
        "contact.html",
        status=status,
        values=values,
        errors=errors,
        states=states,
        languages=language_options(t),
    )


@router.get("/get-contacted")
def contact_form(request: Request):
    return _form_page(request, {"language": translator(request).language}, {})


@router.post("/get-contacted")
async def contact_submit(request: Request, *, hod: HodDep):
    form = await form_of(request)
    values = {name: str(form.get(name, "")).strip() for name in FIELDS}
    data = {name: value for name, value in values.items() if value or name == "state"}
    t = translator(request)
    problems = consumer_problems(data)
    if problems:
        errors = {}
        for problem in problems:
            name = problem.field.split(".")[0] if problem.field else ""
            key = (
                f"contact.error_{name}" if t.has(f"contact.error_{name}") else "contact.error_form"
            )
            errors.setdefault(name if name in FIELDS else "first_name", t(key))
        kept = {name: value[:ECHO_CHARS] for name, value in values.items()}
        return _form_page(request, kept, errors, status=422)
    if not data.get("state"):
        data.pop("state", None)
    referral = hod.router.request_contact(data)
    return redirect(f"/status/{status_token(hod.settings.secret_key, referral.id)}")


@router.get("/status/{token}")
def status_page(token: str, request: Request, *, hod: HodDep):
    referral_id = referral_of(hod.settings.secret_key, token)
    if referral_id is None:
        return page(request, "status.html", status=404, view=None, referral=None, next_text="")
    view = hod.router.consumer_view(referral_id)
    referral = hod.router.referral(referral_id)
    return page(
        request,
        "status.html",
        view=view,
        referral=referral,
        next_text=_next_text(translator(request), referral.status, hod),
        zone=_zone_of(referral.consumer.zip) if referral.consumer else None,  # P2: erased
    )


def _next_text(t, status: ReferralStatus, hod: Hod) -> str:
    policy = hod.router.policy
    minutes = {
        "window": int(policy.offer_window.total_seconds() // 60),
        "deadline": int(policy.contact_deadline.total_seconds() // 60),
        "wait": int(policy.max_wait.total_seconds() // 60),
    }
    key = {
        ReferralStatus.OFFERED: "status.next_offered",
        ReferralStatus.WAITING: "status.next_waiting",
        ReferralStatus.UNMATCHED: "status.next_unmatched",
        ReferralStatus.ACCEPTED: "status.next_accepted",
        ReferralStatus.IN_PROGRESS: "status.next_accepted",
    }.get(status, "status.next_closed")
    return t(key, **minutes)


def _zone_of(zip_code: str) -> str | None:
    from hod_core.geo.zips import lookup

    place = lookup(zip_code)
    return place.zone if place else None
