"""Server-rendered pages: one Jinja2 environment, one way to answer with a page.

Every page is HTML that works without JavaScript: links and form posts, the
CSRF token in a hidden field. `static/hod.js` only adds what a person gains
from a script (a live countdown, the password rules ticked as one types, an
import's progress). The CSP allows scripts and styles from this server only,
no inline ones; pages that may show contact data are never cached.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from hod_core.server.pages.i18n import COOKIE, LANGUAGES, Translator, choose

PAGE_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
# The most of a refused value a page gives back in its form: the longest any field
# may hold (an email address, 254), never a whole hostile body.
ECHO_CHARS = 256
_ENV = Environment(
    loader=PackageLoader("hod_core.server.pages", "templates"),
    autoescape=select_autoescape(default=True),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
_ENV.filters["dict_without"] = lambda d, *keys: {k: v for k, v in d.items() if k not in keys}


def language_of(request: Request) -> str:
    return choose(request.cookies.get(COOKIE), request.headers.get("accept-language"))


def translator(request: Request) -> Translator:
    return Translator(language_of(request))


def page(request: Request, template: str, *, status: int = 200, **context: Any) -> HTMLResponse:
    """The template rendered in the request's language, with the page headers."""
    language = language_of(request)
    t = Translator(language)
    other = next(code for code in LANGUAGES if code != language)
    back = safe_next(_here(request), safe_next(request.url.path))  # never a whole hostile query
    html = _ENV.get_template(template).render(
        t=t,
        lang=language,
        other_lang=other,
        here=request.url.path,
        switch_url=f"/lang/{other}?next={quote(back, safe='')}",
        account=context.pop("account", None),
        csrf=context.pop("csrf", ""),
        when=lambda at, zone=None: when(t, at, zone),
        **context,
    )
    return HTMLResponse(html, status_code=status, headers=page_headers(language))


def page_headers(language: str) -> dict[str, str]:
    return {
        "content-security-policy": PAGE_CSP,
        "cache-control": "no-store",
        "content-language": language,
        "vary": "Accept-Language, Cookie",
    }


def redirect(url: str) -> RedirectResponse:
    """After a form post: see the result with a GET (303), so a reload does not post again."""
    return RedirectResponse(url, status_code=303, headers={"cache-control": "no-store"})


def _here(request: Request) -> str:
    query = request.url.query
    return request.url.path + (f"?{query}" if query else "")


def safe_next(target: str | None, default: str = "/") -> str:
    """A path on this site to go back to; never another site (an open redirect), nor a
    path longer than any of ours (the log-in form would carry it back)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    if len(target) > 2 * ECHO_CHARS:
        return default
    return target


def when(t: Translator, at: datetime | None, zone: str | None = None) -> str:
    """A moment as people read it, in the agent's (or the given) zone: "Mon 23 Nov 2026, 10:05 AM CST"."""
    if at is None:
        return ""
    local = at.astimezone(ZoneInfo(zone)) if zone else at
    day = t("dates.weekdays").split()[local.weekday()]
    month = t("dates.months").split()[local.month - 1]
    half = t("dates.am_pm").split("|")[local.hour >= 12]
    clock = f"{local.hour % 12 or 12}:{local.minute:02d} {half}"
    return f"{day} {local.day} {month} {local.year}, {clock} {local.strftime('%Z')}".strip()
