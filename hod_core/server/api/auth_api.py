"""Log-in, log-out, registration (R1-R5) and forgotten passwords: the API.

Bodies are JSON or a form post. Every answer about a link or a password
tells the client what to do and nothing it could use to find accounts:
`/password/forgot` answers 202 whether or not the account exists, and a
wrong user name reads exactly like a wrong password (and costs the same
argon2id check).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Request, Response
from fastapi.responses import JSONResponse

from hod_core.domain.account_records import TERMS, Account
from hod_core.errors import InputError
from hod_core.server.accounts import account_service as acc
from hod_core.server.accounts.auth import (
    COOKIE,
    credentials,
    csrf_token,
    current_account,
    current_agent,
    same_origin,
)
from hod_core.server.accounts.registration import Problem, RegistrationForm, RegistrationInvalid
from hod_core.server.bodies import read_data
from hod_core.server.deps import get_hod

router = APIRouter(prefix="/api/v1", tags=["accounts"])

_LINK_STATUS = {"unknown": 404, "used": 410, "expired": 410}
_LINK_MESSAGE = {
    "unknown": "no such link: check it was copied whole",
    "used": "this link was used already (R1): log in, or ask for a new one",
    "expired": "this link has expired (R1: 48 hours from sending): ask for a new one",
}


_SCHEMA_TYPES = {str: "string", bool: "boolean", list: "array"}


def _body(fields: dict[str, type], required: tuple[str, ...] = ()) -> dict:
    """The OpenAPI description of a body read by `read_data` (JSON or form)."""
    schema = {
        "type": "object",
        "properties": {name: {"type": _SCHEMA_TYPES[kind]} for name, kind in fields.items()},
        "required": list(required),
        "additionalProperties": False,
    }
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": schema}}}}


def _take(data: dict[str, Any], fields: dict[str, type]) -> dict[str, Any]:
    """The body's fields of the given types (a form's "true"/"on" reads as True)."""
    unknown = sorted(set(data) - set(fields))
    if unknown:
        raise InputError(f"unknown field(s): {', '.join(unknown)}")
    taken = {}
    for name, kind in fields.items():
        if name not in data:
            continue
        value = data[name]
        if kind is bool and isinstance(value, str):
            value = value.lower() in ("true", "on", "1", "yes")
        if not isinstance(value, kind):
            raise InputError(f"expected {kind.__name__}", field=name)
        if kind is str and len(value) > 1000:
            raise InputError("too long", field=name)
        taken[name] = value
    return taken


def account_view(account: Account) -> dict[str, Any]:
    return {
        "id": account.id,
        "role": account.role,
        "login": account.login,
        "npn": account.npn,
        "registration_complete": account.registration_complete,  # R5
        "terms_missing": list(account.terms_missing),
    }


def _link_error(exc: acc.LinkInvalid) -> HTTPException:
    return HTTPException(_LINK_STATUS[exc.why], _LINK_MESSAGE[exc.why])


# -- log-in -----------------------------------------------------------------------------
_LOGIN_FIELDS = {"login": str, "password": str, "token": bool}


@router.post(
    "/login",
    summary="Log in: a session cookie, or a bearer token with `token: true`",
    openapi_extra=_body(_LOGIN_FIELDS, ("login", "password")),
)
def login(
    request: Request, response: Response, data: dict = Depends(read_data), hod=Depends(get_hod)
):
    body = _take(data, _LOGIN_FIELDS)
    if "login" not in body or "password" not in body:
        raise InputError(
            "required field missing", field="login" if "login" not in body else "password"
        )
    kind = "bearer" if body.get("token") else "cookie"
    if kind == "cookie" and not same_origin(request, hod.settings.base_url):
        # Login CSRF: another site's form must not log a browser into an account.
        raise HTTPException(403, "a cookie log-in must come from this site's own pages")
    address = request.client.host if request.client else "unknown"
    try:
        token, account = hod.accounts.login(body["login"], body["password"], address, kind)
    except acc.Throttled as exc:
        raise HTTPException(
            429,
            "too many failed log-ins: try again later",
            headers={"Retry-After": str(exc.retry_after)},
        ) from None
    except acc.BadCredentials:
        raise HTTPException(401, "wrong user name or password") from None
    answer: dict[str, Any] = {"account": account_view(account)}
    if kind == "bearer":
        answer["token"] = token
    else:
        answer["csrf_token"] = csrf_token(token)
        response.set_cookie(
            COOKIE,
            token,
            max_age=int(acc.SESSION_TTL["cookie"].total_seconds()),
            path="/",
            httponly=True,  # no script can read it
            samesite="lax",  # sent on a link from an email, not on another site's POST
            secure=hod.settings.https,
        )
    return answer


@router.post("/logout", status_code=204, summary="End this session (cookie or bearer token)")
def logout(request: Request, _: Account = Depends(current_account), hod=Depends(get_hod)):
    token, _via = credentials(request)
    hod.accounts.logout(token)
    response = Response(status_code=204)
    response.delete_cookie(
        COOKIE, path="/", httponly=True, samesite="lax", secure=hod.settings.https
    )
    return response


@router.get("/session", summary="Who is logged in, and the CSRF token for cookie sessions")
def session(request: Request, account: Account = Depends(current_account)):
    token, via = credentials(request)
    answer = {"account": account_view(account)}
    if via == "cookie":
        answer["csrf_token"] = csrf_token(token)
    return answer


# -- R1-R5: registration ----------------------------------------------------------------------
@router.get("/invitations/{token}", summary="What the sign-up page shows for an invitation link")
def invitation(token: str, hod=Depends(get_hod)):
    """Name and email come from the imported record and are read-only (R2);
    phone, ZIP and contact method are offered as they are on record."""
    try:
        link, agent = hod.accounts.invitation(token)
    except acc.LinkInvalid as exc:
        raise _link_error(exc) from None
    return {
        "npn": agent.npn,
        "first_name": agent.first_name,
        "last_name": agent.last_name,
        "email": agent.email,
        "read_only": ["first_name", "last_name", "email"],
        "phone": agent.phone,
        "zip": agent.zip,
        "contact_method": agent.contact_method.value,
        "expires_at": link.expires_at.isoformat(),
        "terms": list(TERMS),
    }


_FORM_FIELDS = {
    "token": str,
    "username": str,
    "password": str,
    "password_confirm": str,
    "phone": str,
    "contact_method": str,
    "zip": str,
    **{term: bool for term in TERMS},
}
_READ_ONLY = ("first_name", "last_name", "email")
_READ_ONLY_TEXT = (
    "comes from your MLMS profile and cannot be changed here (R2)",
    "proviene de su perfil de MLMS y no se puede cambiar aquí (R2)",
)


def _problems(problems: list[Problem]) -> JSONResponse:
    """422 listing every problem of a form, in English and Spanish."""
    return JSONResponse({"detail": [p.as_dict() for p in problems]}, status_code=422)


@router.post(
    "/register",
    status_code=201,
    summary="Sign up from an invitation link (R1-R5)",
    openapi_extra=_body(
        _FORM_FIELDS,
        ("token", "username", "password", "password_confirm", "phone", "contact_method", "zip"),
    ),
)
def register(data: dict = Depends(read_data), hod=Depends(get_hod)):
    """201 with the account; `registration_complete` is false until both terms
    of use are accepted (R5: no referral is offered until then), and
    `test_text_sent` says whether the R4 test text went out. 422 lists every
    problem (each R3 rule broken, in English and Spanish); 404/410 for a bad link."""
    read_only = [name for name in _READ_ONLY if name in data]
    if read_only:
        return _problems([Problem(name, "R2", *_READ_ONLY_TEXT) for name in read_only])
    fields = _take(data, _FORM_FIELDS)
    token = fields.pop("token", "")
    try:
        done = hod.accounts.register(token, RegistrationForm(**fields))
    except acc.LinkInvalid as exc:
        raise _link_error(exc) from None
    except RegistrationInvalid as exc:
        return _problems(exc.problems)
    except acc.AlreadyRegistered:
        raise HTTPException(409, "you already have an account (R1): log in with it") from None
    except acc.LoginTaken:
        taken = ("this user name is taken", "este nombre de usuario ya existe")
        return _problems([Problem("username", "R2", *taken)])
    return {**account_view(done.account), "test_text_sent": done.test_text_sent}


@router.post(
    "/terms",
    summary="Accept the terms of use still missing (R5, seed 001 step 5)",
    openapi_extra=_body({"accept": list}, ("accept",)),
)
def accept_terms(
    data: dict = Depends(read_data), account: Account = Depends(current_agent), hod=Depends(get_hod)
):
    accept = data.get("accept")
    if isinstance(accept, str):  # a form's single value
        accept = [accept]
    if not isinstance(accept, list) or not all(isinstance(t, str) for t in accept):
        raise InputError(f"a list of terms ids: {', '.join(TERMS)}", field="accept")
    unknown = [t for t in accept if t not in TERMS]
    if unknown:
        raise InputError(f"unknown terms; the terms are {', '.join(TERMS)}", field="accept")
    return account_view(hod.accounts.accept_terms(account, accept))


# -- forgotten passwords ----------------------------------------------------------------------
@router.post(
    "/password/forgot",
    status_code=202,
    summary="Email a single-use reset link (always 202: says nothing about accounts)",
    openapi_extra=_body({"login": str}, ("login",)),
)
def forgot(data: dict = Depends(read_data), hod=Depends(get_hod)):
    body = _take(data, {"login": str})
    hod.accounts.forgot(body.get("login", ""))
    return {"detail": "if an account matches, a reset link is on its way to its email address"}


_RESET_FIELDS = {"token": str, "password": str, "password_confirm": str}


@router.post(
    "/password/reset",
    summary="Set a new password with a reset link (used once; ends every session)",
    openapi_extra=_body(_RESET_FIELDS, tuple(_RESET_FIELDS)),
)
def reset(data: dict = Depends(read_data), hod=Depends(get_hod)):
    body = _take(data, _RESET_FIELDS)
    try:
        account = hod.accounts.reset(
            body.get("token", ""), body.get("password", ""), body.get("password_confirm", "")
        )
    except acc.LinkInvalid as exc:
        raise _link_error(exc) from None
    except RegistrationInvalid as exc:
        return _problems(exc.problems)
    return {"account": account_view(account), "detail": "password changed: log in with it"}
