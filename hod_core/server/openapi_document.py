"""The OpenAPI document at `/openapi.json`: FastAPI's, completed with what it cannot see.

FastAPI writes the paths, parameters and the bodies routes declare. This
module adds, in one place:
- the answers every operation can give besides its success, by the kind of
  route (anonymous or logged in, with a body, with path parameters; 408, 431
  and 503 from the connection's own limits on all) plus the few that one
  route alone gives (`EXTRA`), each with the shared `Error`
  schema or, for 422, `FieldProblems` (`{"detail": [{"field", "message"}]}`,
  what `http_errors` sends);
- the security schemes (bearer token; session cookie with the `X-CSRF-Token`
  header on state changes) and each logged-in operation's security;
- the bodies of the agent's edits (`bodies()`), which the routes read as plain
  JSON objects and check themselves: the schemas say the same rules, the
  server's checks stay the source of truth.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, routing
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute

from hod_core.domain import limits
from hod_core.domain.codes import US_STATES, WEEKDAYS
from hod_core.domain.models import ContactMethod
from hod_core.domain.referrals import NotAGoodReason, ReferralStatus
from hod_core.server.accounts.auth import (
    COOKIE,
    CSRF_HEADER,
    SAFE_METHODS,
    current_account,
    current_agent,
    current_operator,
)
from hod_core.server.bodies import read_data, read_object

ERROR = {
    "type": "object",
    "description": "What went wrong, for a person; `rule` names the rule that refused, if one did.",
    "required": ["detail"],
    "properties": {
        "detail": {"type": "string"},
        "rule": {"type": ["string", "null"]},
    },
}
PROBLEM = {
    "type": "object",
    "description": "One bad field: its name (null when it is not one) and what is wrong, "
    "never a consumer's value. Registration adds the rule and a Spanish message.",
    "required": ["field", "message"],
    "properties": {
        "field": {"type": ["string", "null"]},
        "message": {"type": "string"},
        "rule": {"type": "string"},
        "message_es": {"type": "string"},
        "id": {"type": "string"},
    },
}
FIELD_PROBLEMS = {
    "type": "object",
    "description": "Every bad field of the request, each named once.",
    "required": ["detail"],
    "properties": {"detail": {"type": "array", "items": {"$ref": "#/components/schemas/Problem"}}},
}
SECURITY_SCHEMES = {
    "bearerAuth": {
        "type": "http",
        "scheme": "bearer",
        "description": "A token from `POST /api/v1/login` with `token: true`.",
    },
    "sessionCookie": {
        "type": "apiKey",
        "in": "cookie",
        "name": COOKIE,
        "description": "The session cookie `POST /api/v1/login` sets (the web pages).",
    },
    "csrfToken": {
        "type": "apiKey",
        "in": "header",
        "name": CSRF_HEADER,
        "description": "With the session cookie, on every POST, PUT, PATCH and DELETE: the "
        "`csrf_token` of the log-in answer or of `GET /api/v1/session`.",
    },
}
_RETRY_AFTER = {"Retry-After": {"description": "Seconds to wait", "schema": {"type": "string"}}}
_WWW_AUTHENTICATE = {"WWW-Authenticate": {"schema": {"type": "string"}}}
# status -> (description, schema name, headers)
ANSWERS: dict[str, tuple[str, str, dict]] = {
    "401": ("Not logged in, or the session has ended", "Error", _WWW_AUTHENTICATE),
    "403": ("Not for this role, or a cookie state change without its CSRF token", "Error", {}),
    "404": ("Not found, or not yours (the same answer)", "Error", {}),
    "408": ("The request was not read within `request_read_seconds`", "Error", {}),
    "409": ("Refused by a rule in the current state (`rule` names it)", "Error", {}),
    "410": ("The link was used already or has expired", "Error", {}),
    "413": ("The request body is larger than `max_body_bytes`", "Error", {}),
    "422": ("Bad input: every bad field, named", "FieldProblems", {}),
    "431": ("Too many header lines, or too long (`max_headers`, `max_header_bytes`)", "Error", {}),
    "429": ("Too many attempts: wait `Retry-After` seconds", "Error", _RETRY_AFTER),
    "503": (
        "The store cannot be reached just now, or too many connections from this address "
        "(`max_connections_per_client`): try again shortly",
        "Error",
        _RETRY_AFTER,
    ),
}
# What one operation can answer besides what its kind gives.
EXTRA: dict[tuple[str, str], tuple[str, ...]] = {
    ("post", "/api/v1/login"): ("401", "403", "429"),
    ("post", "/api/v1/register"): ("404", "409", "410"),
    ("post", "/api/v1/password/reset"): ("404", "410"),
    ("get", "/api/v1/invitations/{token}"): ("404", "410"),
    ("get", "/api/v1/referrals/status/{token}"): ("404",),
    ("post", "/api/v1/agent/referrals/{referral_id}/accept"): ("409",),
    ("post", "/api/v1/agent/referrals/{referral_id}/reject"): ("409",),
    ("post", "/api/v1/agent/referrals/{referral_id}/status"): ("409",),
    ("post", "/api/v1/operator/agents/{npn}/suspend"): ("409",),
    ("post", "/api/v1/operator/agents/{npn}/reinstate"): ("409",),
    ("get", "/api/v1/operator/outbox"): ("404",),
}

_HHMM = {"type": "string", "pattern": "^[0-9]{2}:[0-9]{2}$", "example": "08:00"}
_INSTANT = {"type": "string", "description": "ISO 8601 with a UTC offset"}
_INTERVAL = {"type": "array", "items": _HHMM, "minItems": 2, "maxItems": 2}
_OUT_OF_OFFICE = {
    "type": "object",
    "required": ["from"],
    "additionalProperties": False,
    "properties": {"from": _INSTANT, "to": {**_INSTANT, "type": ["string", "null"]}},
}


def _object(properties: dict, required: tuple[str, ...] = (), closed: bool = True) -> dict:
    schema: dict[str, Any] = {"type": "object", "properties": properties}
    if required:
        schema["required"] = list(required)
    if closed:
        schema["additionalProperties"] = False
    return schema


def bodies() -> dict[tuple[str, str], dict]:
    """The agent's edit bodies, as the routes and `agent_edits` check them."""
    state = {"type": "string", "enum": sorted(US_STATES)}
    return {
        ("post", "/api/v1/agent/referrals/{referral_id}/status"): _object(
            {
                "status": {"type": "string", "enum": [s.value for s in ReferralStatus]},
                "reason": {
                    "type": ["string", "null"],
                    "enum": [r.value for r in NotAGoodReason] + [None],
                    "description": "Required with not_a_good_referral (L6)",
                },
            },
            ("status",),
        ),
        ("patch", "/api/v1/agent/availability"): _object(
            {
                "weekly": {
                    "type": ["object", "null"],
                    "description": "Hours per weekday; null = Monday-Friday 08:00-17:00 (A4)",
                    "properties": {day: {"type": "array", "items": _INTERVAL} for day in WEEKDAYS},
                    "additionalProperties": False,
                },
                "breaks": {
                    "type": "array",
                    "items": _object(
                        {
                            "start": _HHMM,
                            "end": _HHMM,
                            "days": {
                                "type": ["array", "null"],
                                "items": {"type": "string", "enum": list(WEEKDAYS)},
                            },
                        },
                        ("start", "end"),
                    ),
                },
                "today": {
                    "type": ["object", "null"],
                    "description": "Today's Availability (A2); null = the standard hours",
                },
                "out_of_office": {"type": "array", "items": _OUT_OF_OFFICE},
            }
        ),
        ("post", "/api/v1/agent/availability/today"): _object(
            {
                "on": {"type": "boolean"},
                "until": {
                    "type": ["string", "null"],
                    "description": 'Stop Referrals: "HH:MM" today or an ISO 8601 instant; '
                    "null = the end of the day",
                },
            },
            ("on",),
            closed=False,
        ),
        ("post", "/api/v1/agent/availability/out-of-office"): _object(
            {
                "from": {**_INSTANT, "type": ["string", "null"], "description": "null = now"},
                "to": {**_INSTANT, "type": ["string", "null"], "description": "null = No End Date"},
            },
            closed=False,
        ),
        ("patch", "/api/v1/agent/profile"): _object(
            {
                "phone": {"type": "string", "maxLength": limits.PHONE_CHARS},
                "contact_method": {"type": "string", "enum": ContactMethod.allowed()},
                "zip": {"type": "string", "pattern": "^[0-9]{5}$"},
                "street_address": {
                    "type": ["string", "null"],
                    "maxLength": limits.STREET_ADDRESS_CHARS,
                },
                "languages": {
                    "type": "array",
                    "minItems": 1,
                    "items": {"type": "string", "pattern": "^[A-Za-z]{2}$"},
                    "description": "ISO 639-1 codes",
                },
                "state_preferences": {
                    "type": ["array", "null"],
                    "minItems": 1,
                    "items": state,
                    "description": "null = every state you may serve (E5-E7)",
                },
            }
        ),
    }


def api_routes(app: FastAPI) -> list:
    """The app's API routes, flattened out of included routers (FastAPI keeps them
    nested from 0.16x on: `iter_route_contexts` gives each with its router's dependencies)."""
    flatten = getattr(routing, "iter_route_contexts", None)
    routes = flatten(app.routes) if flatten else app.routes
    return [r for r in routes if isinstance(getattr(r, "original_route", r), APIRoute)]


def _callables(dependant) -> set:
    found = {dependant.call}
    for sub in dependant.dependencies:
        found |= _callables(sub)
    return found


def role(route) -> str | None:
    """ "agent", "operator", "account" (either) or None (anonymous), from the route's dependencies."""
    calls = _callables(route.dependant)
    for name, check in (
        ("agent", current_agent),
        ("operator", current_operator),
        ("account", current_account),
    ):
        if check in calls:
            return name
    return None


def reads_body(route) -> bool:
    """Whether the route reads a request body (as JSON, or JSON or a form)."""
    return bool(_callables(route.dependant) & {read_object, read_data})


def _answer(status: str) -> dict:
    description, schema, headers = ANSWERS[status]
    answer: dict[str, Any] = {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema}"}}},
    }
    if headers:
        answer["headers"] = headers
    return answer


def _statuses(route, method: str, operation: dict) -> set[str]:
    statuses = {"408", "431", "503"}  # from the connection's own limits, for any request
    if role(route):
        statuses |= {"401", "403"}
    if role(route) == "agent":
        statuses.add("404")  # the agent's record may be gone while the account lives
    if "{" in route.path_format:
        statuses.add("404")
    if operation.get("parameters") or "requestBody" in operation:
        statuses.add("422")
    if "requestBody" in operation:
        statuses |= {"413", "422"}
    return statuses | set(EXTRA.get((method, route.path_format), ()))


def _security(method: str) -> list[dict]:
    cookie = {"sessionCookie": []}
    if method.upper() not in SAFE_METHODS:
        cookie["csrfToken"] = []
    return [{"bearerAuth": []}, cookie]


def document(app: FastAPI) -> dict[str, Any]:
    """The whole document for `app`."""
    doc = get_openapi(
        title=app.title,
        version=app.version,
        description=app.description,
        routes=app.routes,
    )
    schemas = doc.setdefault("components", {}).setdefault("schemas", {})
    for name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)
    schemas.update({"Error": ERROR, "Problem": PROBLEM, "FieldProblems": FIELD_PROBLEMS})
    doc["components"]["securitySchemes"] = SECURITY_SCHEMES
    edit_bodies = bodies()
    for route in api_routes(app):
        if not route.include_in_schema:
            continue
        for method in (m.lower() for m in route.methods):
            operation = doc["paths"].get(route.path_format, {}).get(method)
            if operation is None:
                continue
            body = edit_bodies.get((method, route.path_format))
            if body is not None and "requestBody" not in operation:
                content = {"application/json": {"schema": body}}
                operation["requestBody"] = {"required": True, "content": content}
            answers = operation["responses"]
            answers.update(
                {status: _answer(status) for status in _statuses(route, method, operation)}
            )
            operation["responses"] = dict(sorted(answers.items()))
            if role(route):
                operation["security"] = _security(method)
    if "/healthz" in doc["paths"]:
        doc["paths"]["/healthz"]["get"]["responses"]["503"] = {
            "description": "The store does not answer (`status`), or too many connections "
            "from this address (`detail`)",
            "content": {
                "application/json": {
                    "schema": _object(
                        {"status": {"type": "string"}, "detail": {"type": "string"}}, closed=False
                    )
                }
            },
        }
    return doc


def install(app: FastAPI) -> None:
    """Serve `document(app)` at `/openapi.json`, built once on first use."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = document(app)
        return app.openapi_schema

    app.openapi = openapi
