"""hod_core's errors as HTTP answers: what a client sent is a 4xx, never a 5xx.

- `InputError` (and `FieldErrors`, several at once) -> 422 naming each field:
  `{"detail": [{"field": "phone", "message": "..."}]}`;
- `NotFound` -> 404; `OfferExpired` and any other `LifecycleError` -> 409,
  with the rule that refused (`{"detail": ..., "rule": "L3"}`);
- `StoreUnavailable` (a database down or restarting) -> 503 with Retry-After;
- FastAPI's own validation of paths and queries -> the same 422 shape;
- 405 -> `Allow` naming every method of the path, not only those of the
  first route that matched it (a path can have several routes).

A message about a consumer's name, phone or email never carries the value
(P1): the answer may be logged by a proxy, and the field name says enough.
"""

from __future__ import annotations

import re

from fastapi import FastAPI, Request, routing
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException
from starlette.routing import Match

from hod_core.errors import InputError, LifecycleError, NotFound, StoreUnavailable

CONTACT_FIELDS = {"first_name", "last_name", "phone", "email"}
_CONTACT_MESSAGES = {
    "first_name": "a first name is required (letters, not empty)",
    "last_name": "a last name is required (letters, not empty)",
    "phone": "not a phone number (e.g. +1 713 555 0100)",
    "email": "not an email address (e.g. name@example.com)",
}
MAX_MESSAGE = 200
_FIELD_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.\[\]]{0,80}")


class FieldErrors(Exception):
    """Several bad fields of one request, answered together as one 422."""

    def __init__(self, problems: list[InputError]):
        self.problems = problems
        super().__init__("; ".join(p.field or "-" for p in problems))


def problem(error: InputError) -> dict[str, str | None]:
    """One entry of a 422's detail: the field, and what is wrong without its value if personal."""
    field = error.field if _FIELD_NAME.fullmatch(error.field or "") else None
    leaf = (field or "").rsplit(".", 1)[-1]
    message = error.message
    if leaf in CONTACT_FIELDS and error.quotes_a_value:  # the core hides private values itself
        message = _CONTACT_MESSAGES[leaf]
    elif message.startswith("unknown field(s):"):
        names = [n.strip() for n in message.partition(":")[2].split(",")]
        message = "unknown field(s): " + ", ".join(
            n if _FIELD_NAME.fullmatch(n) else "(a field name that is not one)" for n in names
        )
    if len(message) > MAX_MESSAGE:
        message = message[: MAX_MESSAGE - 3] + "..."
    return {"field": field, "message": message}


def unprocessable(problems: list[InputError]) -> JSONResponse:
    return JSONResponse({"detail": [problem(p) for p in problems]}, status_code=422)


def install(app: FastAPI) -> None:
    """Register the handlers on `app`."""

    @app.exception_handler(InputError)
    async def _input(_: Request, exc: InputError) -> JSONResponse:
        return unprocessable([exc])

    @app.exception_handler(FieldErrors)
    async def _fields(_: Request, exc: FieldErrors) -> JSONResponse:
        return unprocessable(exc.problems)

    @app.exception_handler(NotFound)
    async def _not_found(_: Request, exc: NotFound) -> JSONResponse:
        return JSONResponse({"detail": exc.message, "rule": exc.rule or None}, status_code=404)

    @app.exception_handler(LifecycleError)
    async def _refused(_: Request, exc: LifecycleError) -> JSONResponse:
        return JSONResponse({"detail": exc.message, "rule": exc.rule or None}, status_code=409)

    @app.exception_handler(StoreUnavailable)
    async def _unavailable(_: Request, exc: StoreUnavailable) -> JSONResponse:
        # The store is down or restarting: nothing was half-done, try again soon.
        detail = "the service cannot reach its store just now: try again shortly"
        return JSONResponse({"detail": detail}, status_code=503, headers={"Retry-After": "5"})

    @app.exception_handler(HTTPException)
    async def _http(request: Request, exc: HTTPException):
        if exc.status_code == 405:
            exc.headers = {**(exc.headers or {}), "Allow": allowed_methods(request)}
        return await http_exception_handler(request, exc)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        problems = []
        for error in exc.errors():
            location = [str(part) for part in error.get("loc", ()) if part not in ("body",)]
            field = ".".join(location[1:] if location[:1] in (["query"], ["path"]) else location)
            problems.append(InputError(str(error.get("msg", "invalid")), field=field))
        return unprocessable(problems)


def allowed_methods(request: Request) -> str:
    """Every method some route of the app answers on this request's path."""
    methods: set[str] = set()
    scope = {**request.scope, "method": "GET"}
    flatten = getattr(routing, "iter_route_contexts", None)  # FastAPI nests included routers
    routes = request.app.routes
    for route in flatten(routes) if flatten else routes:
        if getattr(route, "methods", None) and route.matches(scope)[0] != Match.NONE:
            methods |= route.methods
    return ", ".join(sorted(methods))
