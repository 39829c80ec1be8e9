"""Availability Settings (seed 003) and Profile (seeds 000, 002) for the logged-in agent.

Availability: each weekday on or off with its hours (one interval a day on
this page; the API takes several), Add a Break (every day or some days),
Out of Office from a date and time to another or with No End Date, and the
Today's Availability switch shared with every agent page. Profile: phone,
Preferred Contact Method, ZIP, street address, languages, and State
Preferences offered only from the states where the agent may receive
referrals (E5-E7); name and email are read-only (R2).

Each form saves through `agent_edits` and `router.put_agent`, the same
validation as the API; a refused value comes back as the page with the
field's message.
"""

from __future__ import annotations

from fastapi import APIRouter, Request

from hod_core import wire
from hod_core.domain import validate
from hod_core.domain.codes import WEEKDAYS
from hod_core.errors import InputError
from hod_core.server.context import Hod
from hod_core.server.deps import HodDep
from hod_core.server.http_errors import FieldErrors
from hod_core.server.pages.agent_view import agent_context, from_local_input
from hod_core.server.pages.common import LANGUAGE_CHOICES, language_options
from hod_core.server.pages.render import page, redirect, translator
from hod_core.server.pages.routes_pages_registration import contact_methods
from hod_core.server.pages.session import PageAgent, csrf_of, form_of
from hod_core.server.services.agent_edits import (
    edited_availability,
    edited_profile,
    out_of_office,
    profile,
    state_options,
)

router = APIRouter(include_in_schema=False)


def _problems(exc: Exception) -> list[str]:
    problems = exc.problems if isinstance(exc, FieldErrors) else [exc]
    return [p.render() for p in problems]


# -- Availability Settings ------------------------------------------------------------------
def _availability_page(
    request: Request, account, hod: Hod, errors: list[str], status: int = 200, saved: str = ""
):
    t = translator(request)
    agent = hod.agent(account.npn)
    weekly = agent.availability.weekly
    names = t("dates.weekdays").split()
    days = []
    for day in WEEKDAYS:
        intervals = (weekly or hod.router.policy.default_hours).get(day, ())
        first = intervals[0] if intervals else None
        days.append(
            {
                "day": day,
                "name": names[WEEKDAYS.index(day)],
                "on": bool(intervals),
                "start": validate.hhmm(first.start) if first else "08:00",
                "end": validate.hhmm(first.end) if first else "17:00",
            }
        )
    return page(
        request,
        "availability.html",
        status=status,
        account=account,
        csrf=csrf_of(request),
        days=days,
        defaults=weekly is None,
        breaks=[
            (
                index,
                f"{validate.hhmm(b.start)}–{validate.hhmm(b.end)}",
                " ".join(names[WEEKDAYS.index(d)] for d in WEEKDAYS if d in (b.days or ())),
            )
            for index, b in enumerate(agent.availability.breaks)
        ],
        periods=agent.availability.out_of_office,
        errors=errors,
        saved=t("common.saved") if saved else "",
        **agent_context(hod, agent, t.language),
    )


@router.get("/agent/availability")
def availability_page(
    request: Request, saved: str = "", error: str = "", *, account: PageAgent, hod: HodDep
):
    errors = [translator(request)("common.refused")] if error else []
    return _availability_page(request, account, hod, errors, saved=saved)


async def _save_availability(request: Request, account, hod: Hod, change):
    form = await form_of(request)
    agent = hod.agent(account.npn)
    try:
        hod.router.put_agent(change(form, agent, hod.router.agent_zone(agent.npn)), actor="agent")
    except (InputError, FieldErrors) as exc:
        return _availability_page(request, account, hod, _problems(exc), status=422)
    return redirect("/agent/availability?saved=1")


@router.post("/agent/availability/hours")
async def save_hours(request: Request, *, account: PageAgent, hod: HodDep):
    def change(form, agent, zone):
        weekly = {
            day: [[str(form.get(f"{day}_start", "")), str(form.get(f"{day}_end", ""))]]
            for day in WEEKDAYS
            if form.get(f"{day}_on") == "on"
        }
        return edited_availability(agent, {"weekly": weekly})

    return await _save_availability(request, account, hod, change)


@router.post("/agent/availability/breaks")
async def add_break(request: Request, *, account: PageAgent, hod: HodDep):
    def change(form, agent, zone):
        days = [day for day in WEEKDAYS if form.get(f"break_{day}") == "on"]
        added = {
            "start": str(form.get("start", "")),
            "end": str(form.get("end", "")),
            "days": days or None,
        }
        kept = wire.unstructure(agent.availability).get("breaks") or []
        return edited_availability(agent, {"breaks": [*kept, added]})

    return await _save_availability(request, account, hod, change)


@router.post("/agent/availability/breaks/{index}/remove")
async def remove_break(index: int, request: Request, *, account: PageAgent, hod: HodDep):
    def change(form, agent, zone):
        kept = wire.unstructure(agent.availability).get("breaks") or []
        return edited_availability(agent, {"breaks": [b for i, b in enumerate(kept) if i != index]})

    return await _save_availability(request, account, hod, change)


@router.post("/agent/availability/out-of-office")
async def set_out_of_office(request: Request, *, account: PageAgent, hod: HodDep):
    def change(form, agent, zone):
        start = from_local_input(str(form.get("from", "")), zone)
        end = (
            None if form.get("no_end") == "on" else from_local_input(str(form.get("to", "")), zone)
        )
        if form.get("no_end") != "on" and end is None:
            raise InputError("a To Date/Time, or No End Date", field="to")
        return out_of_office(agent, start, end, hod.now())

    return await _save_availability(request, account, hod, change)


@router.post("/agent/availability/out-of-office/off")
async def out_of_office_off(request: Request, *, account: PageAgent, hod: HodDep):
    return await _save_availability(
        request,
        account,
        hod,
        lambda form, agent, zone: edited_availability(agent, {"out_of_office": []}),
    )


# -- Profile ------------------------------------------------------------------------------------
def _profile_page(
    request: Request, account, hod: Hod, errors: list[str], status: int = 200, saved: str = ""
):
    t = translator(request)
    agent = hod.agent(account.npn)
    data = profile(hod, agent)
    chosen = set(agent.state_preferences or data["state_preference_options"])
    languages = list(dict.fromkeys([*agent.languages, *LANGUAGE_CHOICES]))
    return page(
        request,
        "profile.html",
        status=status,
        account=account,
        csrf=csrf_of(request),
        data=data,
        chosen=chosen,
        languages=language_options(t, languages),
        methods=contact_methods(t),
        errors=errors,
        saved=t("common.saved") if saved else "",
        **agent_context(hod, agent, t.language),
    )


@router.get("/agent/profile")
def profile_page(request: Request, saved: str = "", *, account: PageAgent, hod: HodDep):
    return _profile_page(request, account, hod, [], saved=saved)


@router.post("/agent/profile")
async def save_profile(request: Request, *, account: PageAgent, hod: HodDep):
    form = await form_of(request)
    agent = hod.agent(account.npn)
    changes = {
        "phone": str(form.get("phone", "")).strip(),
        "contact_method": str(form.get("contact_method", "")),
        "zip": str(form.get("zip", "")).strip(),
        "street_address": str(form.get("street_address", "")).strip() or None,
        "languages": [str(code) for code in form.getlist("languages")],
    }
    options = state_options(hod, agent)
    if options and int(agent.display_option) != 3:
        picked = sorted({str(s) for s in form.getlist("states")})
        changes["state_preferences"] = None if picked == options else picked
    try:
        hod.router.put_agent(edited_profile(hod, agent, changes), actor="agent")
    except (InputError, FieldErrors) as exc:
        return _profile_page(request, account, hod, _problems(exc), status=422)
    return redirect("/agent/profile?saved=1")
