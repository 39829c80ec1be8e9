"""The consumer's API: Get Contacted (L1), and the request's status by token.

`POST /api/v1/referrals` takes a consumer's wire fields (`Consumer`) as JSON or as a
form post, and answers 201 with a reference, a status token and what
happens next, or 422 naming every bad field (never its value: P1).
`GET /api/v1/referrals/status/{token}` shows the status and, once an agent
accepted, that agent's public card (display option 2 hides the street
address); nothing about the consumer beyond what they typed is added.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from hod_core import wire
from hod_core.domain import limits
from hod_core.domain.models import Consumer
from hod_core.domain.referrals import Referral, ReferralStatus
from hod_core.errors import InputError, NotFound
from hod_core.matching.match_facts import ConsumerFacts
from hod_core.server.bodies import read_data
from hod_core.server.context import Hod
from hod_core.server.deps import HodDep
from hod_core.server.http_errors import FieldErrors
from hod_core.server.services.status_tokens import referral_of, status_token

router = APIRouter(prefix="/api/v1/referrals", tags=["consumer"])

FIELDS = ("first_name", "last_name", "phone", "email", "zip", "state", "language")
# Stand-ins for fields found bad, so the next bad field can be found too.
_GOOD = {
    "first_name": "A",
    "last_name": "B",
    "phone": "+12025550100",
    "email": "a@example.com",
    "zip": "20001",
    "language": "en",
    "state": None,
}
CONSUMER_SCHEMA = {
    "type": "object",
    "required": ["first_name", "last_name", "phone", "email", "zip", "language"],
    "additionalProperties": False,
    "properties": {
        "first_name": {"type": "string", "maxLength": limits.NAME_CHARS, "example": "Ana"},
        "last_name": {"type": "string", "maxLength": limits.NAME_CHARS, "example": "Ruiz"},
        "phone": {"type": "string", "maxLength": limits.PHONE_CHARS, "example": "+17135550100"},
        "email": {
            "type": "string",
            "format": "email",
            "maxLength": limits.EMAIL_CHARS,
            "example": "ana@example.com",
        },
        "zip": {"type": "string", "pattern": "^[0-9]{5}$", "example": "77002"},
        "state": {
            "type": "string",
            "pattern": "^[A-Za-z]{2}$",
            "description": "USPS code; derived from the ZIP if left out",
        },
        "language": {
            "type": "string",
            "pattern": "^[A-Za-z]{2}$",
            "description": "ISO 639-1",
            "example": "es",
        },
    },
}
_BODY_DOC = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": CONSUMER_SCHEMA},
            "application/x-www-form-urlencoded": {"schema": CONSUMER_SCHEMA},
        },
    }
}


def checked_consumer(data: dict[str, Any]) -> Consumer:
    """The Get Contacted request as a Consumer, or FieldErrors naming every bad field."""
    consumer, problems = _check(data)
    if problems or consumer is None:
        raise FieldErrors(problems)
    return consumer


def consumer_problems(data: dict[str, Any]) -> list[InputError]:
    """Every bad field of a Get Contacted request, each named once (the pages ask)."""
    return _check(data)[1]


def _check(data: dict[str, Any]) -> tuple[Consumer | None, list[InputError]]:
    """Each bad field is swapped for a good stand-in and the request tried again,
    so every bad field is found, not just the first."""
    problems = []
    unknown = sorted(set(data) - set(FIELDS))
    if unknown:
        problems.append(InputError(f"unknown field(s): {', '.join(unknown)}"))
    trial = {name: data[name] for name in FIELDS if name in data}
    if trial.get("state") in ("", None):  # a form's empty select: derive it from the ZIP
        trial.pop("state", None)
    consumer = None
    for _ in FIELDS:
        try:
            consumer = wire.structure(trial, Consumer)
            ConsumerFacts.of(consumer)  # an unlocated ZIP is refused here
            break
        except InputError as exc:
            consumer = None
            problems.append(exc)
            name = exc.field.split(".")[0].split("[")[0]
            if name not in _GOOD:
                break
            trial[name] = _GOOD[name]
    return (None if problems else consumer), problems


async def consumer_data(request: Request) -> Consumer:
    return checked_consumer(await read_data(request))


@router.post("", status_code=201, openapi_extra=_BODY_DOC, summary="Get Contacted (L1)")
def create_referral(
    consumer: Annotated[Consumer, Depends(consumer_data)], hod: HodDep
) -> JSONResponse:
    referral = hod.router.request_contact(consumer)
    token = status_token(hod.settings.secret_key, referral.id)
    body = {
        "reference": referral.id,
        "status": referral.status.label,
        "status_token": token,
        "status_url": f"{hod.settings.base_url}{router.prefix}/status/{token}",
        "next": what_next(referral, hod),
    }
    return JSONResponse(body, status_code=201)


def what_next(referral: Referral, hod: Hod) -> str:
    policy = hod.router.policy
    window = int(policy.offer_window.total_seconds() // 60)
    deadline = int(policy.contact_deadline.total_seconds() // 60)
    if referral.status is ReferralStatus.OFFERED:
        return (
            f"Your request was sent to a licensed agent near you, who has {window} minutes to "
            f"accept it; if they cannot, the next agent gets it. Once an agent accepts, they "
            f"should contact you within {deadline} minutes."
        )
    if referral.status is ReferralStatus.WAITING:
        wait = int(policy.max_wait.total_seconds() // 60)
        return (
            "No agent is available right now. Your request will be sent to the first one "
            f"who becomes available in the next {wait} minutes."
        )
    return (
        "No agent can take requests for your state through this service right now. "
        "Visit HealthCare.gov or call the Marketplace Call Center for help."
    )


@router.get("/status/{token}", summary="A Get Contacted request's status, by its token")
def referral_status(token: str, hod: HodDep) -> dict[str, Any]:
    referral_id = referral_of(hod.settings.secret_key, token)
    if referral_id is None:
        raise NotFound("no request with this status token")
    view = hod.router.consumer_view(referral_id)
    referral = hod.router.referral(referral_id)
    return {
        "reference": referral.id,
        "status": view["status"],
        "created_at": referral.created_at.isoformat(),
        "agent": view["agent"],
    }
