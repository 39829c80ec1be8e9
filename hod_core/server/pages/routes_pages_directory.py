"""Find Local Help (D1-D3): the search page, and the same search as JSON.

Both read `hod_core.matching.local_help`: nearest first within the radius, the street
address only for display option 1, option 3 only for searches in the agent's
home state, option 4 never. The radius choices and page size come from the
rule file's [directory] table. A bad ZIP, radius, language or page is a 422
naming the field (JSON) or the form with the field marked (page).
"""

from __future__ import annotations

from typing import Any

from attrs import asdict
from fastapi import APIRouter, Request

from hod_core.errors import InputError
from hod_core.matching.local_help import DirectoryPage
from hod_core.server.context import Hod
from hod_core.server.deps import HodDep
from hod_core.server.pages.common import language_options
from hod_core.server.pages.render import ECHO_CHARS, page, translator
from hod_core.server.pages.session import csrf_of, optional_account

router = APIRouter()


def _search(
    hod: Hod, zip_code: str, radius: str | None, language: str | None, page_no: str | None
) -> DirectoryPage:
    return hod.router.find_local_help(
        zip_code.strip(),
        radius_miles=_whole(radius, "radius"),
        language=language or None,
        page=_whole(page_no, "page") or 1,
    )


def _whole(text: str | None, field: str) -> int | None:
    if text in (None, ""):
        return None
    digits = text.strip()
    if not (digits.isascii() and digits.isdigit()) or len(digits) > 6:  # not "³" or "٣"
        raise InputError(f"expected a whole number, got {text[:12]!r}", field=field)
    return int(text)


@router.get(
    "/api/v1/directory",
    tags=["consumer"],
    summary="Find Local Help: agents near a ZIP, nearest first (D1-D3)",
)
def directory_json(
    zip: str,  # noqa: A002 - the field's name in the wire format
    radius: str | None = None,
    language: str | None = None,
    page: str | None = None,
    *,
    hod: HodDep,
) -> dict[str, Any]:
    """`radius` in miles (default and choices from the rule file), `language` an
    ISO 639-1 code (any when left out), `page` from 1."""
    found = _search(hod, zip, radius, language, page)
    return {
        **{k: v for k, v in asdict(found).items() if k != "listings"},
        "pages": found.pages,
        "listings": [asdict(listing) for listing in found.listings],
    }


@router.get("/find-local-help", include_in_schema=False)
def directory_page(
    request: Request,
    zip: str = "",  # noqa: A002
    radius: str = "",
    language: str = "",
    page_no: str = "",
    *,
    hod: HodDep,
):
    t = translator(request)
    policy = hod.router.policy.directory
    values = {  # given back in the form: never a whole hostile query
        "zip": zip[:ECHO_CHARS],
        "radius": (radius or str(policy.default_radius_miles))[:ECHO_CHARS],
        "language": language[:ECHO_CHARS],
    }
    found, errors = None, {}
    if zip:
        try:
            found = _search(hod, zip, radius, language, page_no)
        except InputError as exc:
            errors[exc.field or "zip"] = (
                exc.message if exc.field != "zip" else t("contact.error_zip")
            )
    radii = [(str(m), t("directory.radius_miles", miles=m)) for m in policy.radius_choices_miles]
    return page(
        request,
        "directory.html",
        status=422 if errors else 200,
        values=values,
        errors=errors,
        found=found,
        radii=radii,
        languages=[("", t("directory.any_language")), *language_options(t)],
        account=optional_account(request),
        csrf=csrf_of(request),
    )
