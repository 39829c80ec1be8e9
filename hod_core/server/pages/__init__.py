"""The web pages of `hod serve`, in English and Spanish.

`router` holds every page route, the Find Local Help JSON endpoint and the
static files; the app includes it like any route module. Pages reach the
router, the accounts and the operator tools in Python, through the same
helpers as the JSON API, so a page and the API can never disagree. May
import `api` and every layer of the server below it; never the app or the
commands.
"""

from __future__ import annotations

from fastapi import APIRouter

from hod_core.server.pages import (
    routes_pages_agent,
    routes_pages_consumer,
    routes_pages_directory,
    routes_pages_operator,
    routes_pages_password,
    routes_pages_registration,
    routes_pages_settings,
)

router = APIRouter()
for _module in (
    routes_pages_consumer,
    routes_pages_directory,
    routes_pages_registration,
    routes_pages_password,
    routes_pages_agent,
    routes_pages_settings,
    routes_pages_operator,
):
    router.include_router(_module.router)
