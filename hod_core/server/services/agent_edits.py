"""What an agent may change of their own record: Profile and Availability Settings.

Every edit produces the agent's whole wire record with the change applied,
which the router validates like any agent (`router.put_agent`): one
validation for a file import and for an agent's own save. The rules here
are the ones the seeds add on top:
- Name and email come from the MLMS profile and are read-only (R2); so are
  the NPN, licences, display option, participation and suspension.
- State Preferences may name only states where the agent may receive
  referrals at all (E5-E7), judged by the policy's own rules (seed 002:
  the field "is filled in with every HealthCare.gov state where you hold an
  active licence with a health line of authority").
- Today's Availability: switched on now until a "Stop Referrals" time, or
  off for the rest of the local day (A2); Out of Office from/to, or with
  "No End Date" (A1).
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any

from hod_core import wire
from hod_core.domain import validate
from hod_core.domain.codes import US_STATES
from hod_core.domain.models import Agent, Consumer
from hod_core.domain.referrals import Referral, ReferralStatus
from hod_core.errors import InputError
from hod_core.matching.availability import zone
from hod_core.server.context import Hod
from hod_core.server.http_errors import FieldErrors

PROFILE_FIELDS = (
    "phone",
    "contact_method",
    "zip",
    "street_address",
    "languages",
    "state_preferences",
)
READ_ONLY = {
    "npn": "the NPN",
    "first_name": "your name comes from your MLMS profile",
    "last_name": "your name comes from your MLMS profile",
    "email": "your email comes from your MLMS profile (change it at portal.cms.gov)",
    "home_state": "your home state comes from your MLMS profile",
    "display_option": "your display option comes from your MLMS profile",
    "licenses": "licences come from NIPR through your MLMS profile",
    "participation": "participation comes from CMS",
    "suspended": "only an operator lifts a suspension",
}
AVAILABILITY_FIELDS = ("weekly", "breaks", "today", "out_of_office")


def profile(hod: Hod, agent: Agent) -> dict[str, Any]:
    """The Profile page's data: what may be edited, what may not, and the state choices."""
    data = wire.unstructure(agent)
    return {
        **{name: data.get(name) for name in ("npn", "first_name", "last_name", "email")},
        **{name: data.get(name) for name in PROFILE_FIELDS},
        "home_state": agent.home_state,
        "display_option": int(agent.display_option),
        "suspended": agent.suspended,
        "timezone": hod.router.agent_zone(agent.npn),
        "state_preference_options": state_options(hod, agent),
        "read_only": sorted(READ_ONLY),
    }


def state_options(hod: Hod, agent: Agent) -> list[str]:
    """The states where this agent may receive referrals by E5, E6 and E7, now."""
    now = hod.now()
    options = []
    for state in sorted(US_STATES):
        verdicts = hod.router.verdicts(agent.npn, _probe(agent, state, now), now)["rules"]
        if all(r["passed"] for r in verdicts if r["id"] in ("E5", "E6", "E7")):
            options.append(state)
    return options


def _probe(agent: Agent, state: str, now: datetime) -> Referral:
    """A referral from `state` to ask the rules about; never stored."""
    consumer = Consumer(
        first_name="Probe",
        last_name="Probe",
        phone="+12025550100",
        email="probe@example.com",
        zip=agent.zip,
        language="en",
        state=state,
    )
    return Referral(
        id="probe",
        consumer=consumer,
        state=state,
        created_at=now,
        wait_until=now,
        status=ReferralStatus.WAITING,
    )


def edited_profile(hod: Hod, agent: Agent, changes: dict[str, Any]) -> dict[str, Any]:
    """The agent's record with Profile `changes`, or FieldErrors naming each refused field."""
    problems = []
    for name in changes:
        if name in READ_ONLY:
            problems.append(InputError(f"read-only: {READ_ONLY[name]}", field=name))
        elif name not in PROFILE_FIELDS:
            problems.append(
                InputError(
                    f"not a Profile field (editable: {', '.join(PROFILE_FIELDS)})", field=name
                )
            )
    preferences = changes.get("state_preferences")
    if preferences is not None:
        problems += _preference_problems(hod, agent, preferences)
    if problems:
        raise FieldErrors(problems)
    return {**wire.unstructure(agent), **changes}


def _preference_problems(hod: Hod, agent: Agent, preferences: Any) -> list[InputError]:
    if not isinstance(preferences, list) or not all(isinstance(s, str) for s in preferences):
        return [
            InputError(
                "a list of state codes, or null for every state you may serve",
                field="state_preferences",
            )
        ]
    if not preferences:
        return [
            InputError(
                "choose at least one state, or null for every state you may serve",
                field="state_preferences",
            )
        ]
    options = state_options(hod, agent)
    refused = sorted({s.upper() for s in preferences} - set(options))
    if refused:
        return [
            InputError(
                f"you may not receive referrals from {', '.join(refused)} (E5-E7); "
                f"choose among {', '.join(options) or 'none'}",
                field="state_preferences",
            )
        ]
    return []


def edited_availability(agent: Agent, changes: dict[str, Any]) -> dict[str, Any]:
    """The agent's record with the Availability Settings parts in `changes` replaced."""
    unknown = [name for name in changes if name not in AVAILABILITY_FIELDS]
    if unknown:
        raise FieldErrors(
            [
                InputError(
                    f"not an availability setting (known: {', '.join(AVAILABILITY_FIELDS)})",
                    field=n,
                )
                for n in unknown
            ]
        )
    data = wire.unstructure(agent)
    return {**data, "availability": {**(data.get("availability") or {}), **changes}}


def today_switch(hod: Hod, agent: Agent, on: Any, stop_at: Any) -> dict[str, Any]:
    """Today's Availability (A2): on from now until `stop_at` ("HH:MM" local, an
    instant, or None for the end of the day), or off for the rest of the local day."""
    if not isinstance(on, bool):
        raise InputError(
            "true (take referrals now) or false (none for the rest of today)", field="on"
        )
    now = hod.now()
    tz = zone(hod.router.agent_zone(agent.npn))
    local = now.astimezone(tz)
    until = None
    if on and stop_at is not None:
        until = _stop_instant(stop_at, local)
        if until <= now:
            raise InputError("Stop Referrals must be later than now", field="until")
    today = {"date": local.date().isoformat(), "on": on, "since": now.isoformat()}
    today["until"] = until.isoformat() if until else None
    return edited_availability(agent, {"today": today})


def _stop_instant(stop_at: Any, local: datetime) -> datetime:
    if isinstance(stop_at, str) and len(stop_at) == 5:  # "HH:MM" on today's local date
        try:
            minutes = validate.minutes_of_day(stop_at)
        except InputError as exc:
            raise exc.located(prefix="until") from None
        midnight = datetime.combine(local.date(), time(), local.tzinfo)
        return midnight + timedelta(minutes=minutes)
    try:
        return validate.instant(stop_at)
    except InputError as exc:
        raise exc.located(prefix="until") from None


def out_of_office(agent: Agent, start: Any, end: Any, now: datetime) -> dict[str, Any]:
    """Out of Office from `start` (default now) to `end`, or with No End Date (None)."""
    period = {"from": start if start is not None else now.isoformat(), "to": end}
    kept = [p for p in wire.unstructure(agent.availability).get("out_of_office") or []]
    return edited_availability(agent, {"out_of_office": [*kept, period]})
