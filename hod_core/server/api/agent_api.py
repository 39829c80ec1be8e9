"""The agent's API: their own Manage Referrals, Availability Settings and Profile.

Every route takes the agent from the session (`current_agent`), never from
the path, so an agent can reach only their own data: a referral that was
never offered to them is a 404, the same as one that does not exist.
- Manage Referrals (seed 002): Pending with the seconds left to answer,
  accepted ones with the consumer's contact data (L3), missed and rejected
  ones as "Missed Referral" with none (L5), and the missed alert (L8).
- Accept (L3), reject (L4), and the status moves after accept (L6).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse

from hod_core import wire
from hod_core.domain import disclosure
from hod_core.domain.models import member
from hod_core.domain.referrals import AGENT_MOVES, NotAGoodReason, ReferralStatus
from hod_core.errors import InputError
from hod_core.server.context import Hod
from hod_core.server.deps import AgentAccount, HodDep, JsonObject
from hod_core.server.services import agent_edits

# The hot routes answer JSONResponse themselves: FastAPI's generic encoder walks
# every value of a returned dict again, which costs more than the answer's rules.
router = APIRouter(prefix="/api/v1/agent", tags=["agent"])
_STATUS_OF_LABEL = {status.label: status for status in ReferralStatus}


def _row(view: disclosure.AgentReferralView, hod: Hod) -> dict[str, Any]:
    row = wire.unstructure(view)
    if view.status == "Pending":
        row["seconds_left"] = max(0, int((view.expires_at - hod.now()).total_seconds()))
        row["actions"] = ["accept", "reject"] if row["seconds_left"] > 0 else []
    else:
        current = _STATUS_OF_LABEL.get(view.status)
        moves = AGENT_MOVES.get(current, ()) if view.phone is not None else ()
        row["actions"] = sorted(m.value for m in moves)
    return row


@router.get("/referrals", summary="Manage Referrals: the referrals offered to me, newest first")
def my_referrals(
    account: AgentAccount, hod: HodDep, limit: Annotated[int, Query(ge=1, le=500)] = 100
) -> JSONResponse:
    rows = [_row(v, hod) for v in hod.router.agent_referrals(account.npn, limit=limit)]
    return JSONResponse({"alert": hod.router.missed_alert(account.npn), "referrals": rows})


@router.get("/referrals/{referral_id}", summary="One of my referrals")
def my_referral(referral_id: str, account: AgentAccount, hod: HodDep):
    return JSONResponse(_row(hod.router.referral_for_agent(referral_id, account.npn), hod))


@router.post("/referrals/{referral_id}/accept", summary="Accept a Pending offer (L3)")
def accept(referral_id: str, account: AgentAccount, hod: HodDep):
    return JSONResponse(_row(hod.router.accept(referral_id, account.npn), hod))


@router.post("/referrals/{referral_id}/reject", summary="Reject a Pending offer, no penalty (L4)")
def reject(referral_id: str, account: AgentAccount, hod: HodDep):
    hod.router.reject(referral_id, account.npn)
    return JSONResponse(_row(hod.router.referral_for_agent(referral_id, account.npn), hod))


@router.post(
    "/referrals/{referral_id}/status",
    summary="Move an accepted referral: in_progress, not_a_good_referral (with a reason), completed (L6)",
)
def move(referral_id: str, account: AgentAccount, body: JsonObject, hod: HodDep):
    unknown = sorted(set(body) - {"status", "reason"})
    if unknown:
        raise InputError(f"unknown field(s): {', '.join(unknown)}")
    status = _field("status", member(ReferralStatus, "status"), body.get("status"))
    reason = body.get("reason")
    if reason is not None:
        reason = _field("reason", member(NotAGoodReason, "reason"), reason)
    view = hod.router.update_status(referral_id, account.npn, status, reason=reason)
    return JSONResponse(_row(view, hod))


def _field(name: str, convert, value):
    try:
        return convert(value)
    except InputError as exc:
        raise exc.located(prefix=name) from None


@router.get("/availability", summary="Availability Settings: hours, breaks, today, out of office")
def my_availability(account: AgentAccount, hod: HodDep):
    agent = hod.agent(account.npn)
    return {
        "timezone": hod.router.agent_zone(agent.npn),
        **wire.unstructure(agent.availability),
    }


@router.patch(
    "/availability",
    summary="Replace any of weekly (null = Monday-Friday 08:00-17:00), breaks, today, out_of_office",
)
def change_availability(account: AgentAccount, body: JsonObject, hod: HodDep):
    agent = hod.agent(account.npn)
    _save(hod, agent_edits.edited_availability(agent, body))
    return my_availability(account, hod)


@router.post(
    "/availability/today",
    summary='Today\'s Availability: {"on": true, "until": "18:30"} or {"on": false} (A2)',
)
def switch_today(account: AgentAccount, body: JsonObject, hod: HodDep):
    agent = hod.agent(account.npn)
    _save(hod, agent_edits.today_switch(hod, agent, body.get("on"), body.get("until")))
    return my_availability(account, hod)


@router.delete("/availability/today", summary="Back to the standard hours for today")
def clear_today(account: AgentAccount, hod: HodDep):
    agent = hod.agent(account.npn)
    _save(hod, agent_edits.edited_availability(agent, {"today": None}))
    return my_availability(account, hod)


@router.post(
    "/availability/out-of-office",
    summary='Out of Office: {"from": ISO or omitted for now, "to": ISO or null for No End Date} (A1)',
)
def add_out_of_office(account: AgentAccount, body: JsonObject, hod: HodDep):
    agent = hod.agent(account.npn)
    _save(hod, agent_edits.out_of_office(agent, body.get("from"), body.get("to"), hod.now()))
    return my_availability(account, hod)


@router.delete("/availability/out-of-office", summary="Out of Office off: every period removed")
def clear_out_of_office(account: AgentAccount, hod: HodDep):
    agent = hod.agent(account.npn)
    _save(hod, agent_edits.edited_availability(agent, {"out_of_office": []}))
    return my_availability(account, hod)


@router.get(
    "/profile", summary="Profile: contact details, languages, State Preferences and their choices"
)
def my_profile(account: AgentAccount, hod: HodDep):
    return agent_edits.profile(hod, hod.agent(account.npn))


@router.patch(
    "/profile",
    summary="Change phone, contact_method, zip, street_address, languages, state_preferences",
)
def change_profile(account: AgentAccount, body: JsonObject, hod: HodDep):
    agent = hod.agent(account.npn)
    _save(hod, agent_edits.edited_profile(hod, agent, body))
    return my_profile(account, hod)


def _save(hod: Hod, record: dict[str, Any]) -> None:
    hod.router.put_agent(record, actor="agent")
