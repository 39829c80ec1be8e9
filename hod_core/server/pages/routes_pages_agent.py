"""Manage Referrals (seed 002): Pending offers with a live countdown and
Accept/Reject; accepted referrals with the consumer's contact data and the
L6 status buttons (Not a Good Referral with its reasons); Missed and
Rejected rows titled "Missed Referral" with no contact data; the L8 alert
only when something was missed. And the Today's Availability switch.

Everything comes from the router through `hod_core.domain.disclosure` (the personal-data
boundary); every action is a form post with the session's CSRF token, then a
redirect back to the list (303), so a reload never repeats it.
"""

from __future__ import annotations

from fastapi import APIRouter, Request

from hod_core.domain.referrals import AGENT_MOVES, NotAGoodReason, ReferralStatus
from hod_core.errors import HodError, InputError, LifecycleError, NotFound
from hod_core.server.context import Hod
from hod_core.server.deps import HodDep
from hod_core.server.http_errors import FieldErrors
from hod_core.server.pages.agent_view import agent_context
from hod_core.server.pages.render import page, redirect, translator
from hod_core.server.pages.session import PageAgent, csrf_of, form_of
from hod_core.server.services.agent_edits import edited_availability, today_switch

router = APIRouter(include_in_schema=False)
_STATUS_OF_LABEL = {status.label: status for status in ReferralStatus}
_DONE = {"accepted": "referrals.accepted_ok", "rejected": "referrals.rejected_ok"}


def _rows(hod: Hod, npn: str) -> dict[str, list[dict]]:
    now = hod.now()
    sections: dict[str, list[dict]] = {"pending": [], "accepted": [], "missed": []}
    for view in hod.router.agent_referrals(npn):
        row = {"view": view}
        if view.status == "Pending":
            row["seconds_left"] = max(0, int((view.expires_at - now).total_seconds()))
            sections["pending"].append(row)
        elif view.phone is not None:  # accepted by this agent (L3): contact data
            current = _STATUS_OF_LABEL.get(view.status)
            row["moves"] = sorted(m.value for m in AGENT_MOVES.get(current, ()))
            sections["accepted"].append(row)
        else:  # missed or rejected (L5): "Missed Referral", no contact data
            sections["missed"].append(row)
    return sections


@router.get("/agent/referrals")
def referrals_page(
    request: Request,
    done: str = "",
    status: str = "",
    error: str = "",
    *,
    account: PageAgent,
    hod: HodDep,
):
    t = translator(request)
    agent = hod.agent(account.npn)
    message = ""
    if done in _DONE:
        message = t(_DONE[done])
    elif done == "moved" and t.has(f"referrals.{status}"):
        message = t("referrals.moved_ok", status=t(f"referrals.{status}"))
    policy = hod.router.policy
    return page(
        request,
        "referrals.html",
        account=account,
        csrf=csrf_of(request),
        sections=_rows(hod, account.npn),
        message=message,
        error=error if error.isalnum() and len(error) <= 20 else "refused" if error else "",
        reasons=[r.value for r in NotAGoodReason],
        target=int(policy.contact_target.total_seconds() // 60),
        deadline=int(policy.contact_deadline.total_seconds() // 60),
        **agent_context(hod, agent, t.language),
    )


@router.get("/agent/referrals/{referral_id}")
def one_referral(referral_id: str, *, account: PageAgent, hod: HodDep):
    """The link in an offer's notice: the referral in the agent's list."""
    hod.router.referral_for_agent(referral_id, account.npn)  # NotFound unless offered to them
    return redirect(f"/agent/referrals#r-{referral_id}")


def _act(action, referral_id: str, done: str):
    try:
        action()
    except LifecycleError as exc:
        return redirect(f"/agent/referrals?error={exc.rule or 'refused'}#r-{referral_id}")
    except (InputError, NotFound):
        return redirect(f"/agent/referrals?error=refused#r-{referral_id}")
    return redirect(f"/agent/referrals?{done}#r-{referral_id}")


@router.post("/agent/referrals/{referral_id}/accept")
def accept(referral_id: str, *, account: PageAgent, hod: HodDep):
    return _act(lambda: hod.router.accept(referral_id, account.npn), referral_id, "done=accepted")


@router.post("/agent/referrals/{referral_id}/reject")
def reject(referral_id: str, *, account: PageAgent, hod: HodDep):
    return _act(lambda: hod.router.reject(referral_id, account.npn), referral_id, "done=rejected")


@router.post("/agent/referrals/{referral_id}/status")
async def move(referral_id: str, request: Request, *, account: PageAgent, hod: HodDep):
    form = await form_of(request)
    status = str(form.get("status", ""))
    reason = str(form.get("reason", "")) or None
    label = ReferralStatus(status).label if status in {s.value for s in ReferralStatus} else ""

    def update():
        hod.router.update_status(referral_id, account.npn, status, reason=reason)

    return _act(update, referral_id, f"done=moved&status={label.replace(' ', '+')}")


@router.post("/agent/availability/today")
async def today(request: Request, *, account: PageAgent, hod: HodDep):
    """Today's Availability on until a Stop Referrals time, off, or back to standard hours."""
    form = await form_of(request)
    agent = hod.agent(account.npn)
    choice = form.get("today")
    back = str(form.get("back", "/agent/availability"))
    back = (
        back
        if back in ("/agent/referrals", "/agent/availability", "/agent/profile")
        else "/agent/availability"
    )
    try:
        if choice == "standard":
            record = edited_availability(agent, {"today": None})
        else:
            until = str(form.get("until", "")).strip() or None
            record = today_switch(hod, agent, choice == "on", until if choice == "on" else None)
        hod.router.put_agent(record, actor="agent")
    except (InputError, FieldErrors, HodError):
        return redirect(f"{back}?error=today")
    return redirect(f"{back}?saved=today")
