"""The operator's tools, shared by the API and the command line: agents
(search, suspend, reinstate), referrals with their audit trail (L11), `why`,
waiting and unmatched referrals, delivery failures, the in-app outbox.

An operator runs the service but is not the agent who accepted: a referral
is shown with its state, language, times, offers and events, never the
consumer's name, phone or email (P1).
"""

from __future__ import annotations

from typing import Any

from hod_core import wire
from hod_core.domain.referrals import Event, Referral, ReferralStatus
from hod_core.errors import InputError
from hod_core.server.context import Hod
from hod_core.server.outbox import hide_tokens

AGENT_SUMMARY = ("npn", "first_name", "last_name", "email", "phone", "zip", "home_state")
STATUSES = {status.value for status in ReferralStatus}
MAX_PAGE = 500


def agent_summary(agent) -> dict[str, Any]:
    return {
        **{name: getattr(agent, name) for name in AGENT_SUMMARY},
        "display_option": int(agent.display_option),
        "languages": list(agent.languages),
        "contact_method": agent.contact_method.value,
        "suspended": agent.suspended,
    }


def search_agents(
    hod: Hod,
    text: str = "",
    state: str | None = None,
    suspended: bool | None = None,
    limit: int = 50,
    offset: int = 0,
) -> dict[str, Any]:
    """Agents whose NPN, name or email contains `text` (any case), by NPN."""
    needle = text.strip().casefold()
    state = state.upper() if state else None
    found = []
    for agent in hod.router.agents():
        if state and agent.home_state != state:
            continue
        if suspended is not None and agent.suspended != suspended:
            continue
        if needle:
            haystack = f"{agent.npn} {agent.first_name} {agent.last_name} {agent.email}".casefold()
            if needle not in haystack:
                continue
        found.append(agent)
    found.sort(key=lambda a: (len(a.npn), a.npn))
    page = found[offset : offset + limit]
    return {"total": len(found), "agents": [agent_summary(a) for a in page]}


def agent_detail(hod: Hod, npn: str) -> dict[str, Any]:
    agent = hod.agent(npn)
    return {**wire.unstructure(agent), "timezone_used": hod.router.agent_zone(npn)}


def suspend(hod: Hod, npn: str, actor: str) -> dict[str, Any]:
    """Suspend an agent (E3) until an operator reinstates them."""
    return agent_summary(hod.router.suspend(npn, actor=actor))


def reinstate(hod: Hod, npn: str, actor: str) -> dict[str, Any]:
    """Lift a suspension (L9); misses before it do not count towards another."""
    hod.agent(npn)
    return agent_summary(hod.router.reinstate(npn, actor=actor))


def referral_summary(referral: Referral) -> dict[str, Any]:
    """A referral as an operator sees it: everything but the consumer's contact data."""
    return {
        "id": referral.id,
        "status": referral.status.value,
        "label": referral.status.label,
        "state": referral.state,
        "language": referral.language,
        "created_at": referral.created_at.isoformat(),
        "wait_until": referral.wait_until.isoformat(),
        "agent_npn": referral.agent_npn,
        "accepted_at": referral.accepted_at.isoformat() if referral.accepted_at else None,
        "reason": referral.reason.value if referral.reason else None,
        "offers": [
            {
                "npn": o.npn,
                "status": o.status.value,
                "offered_at": o.offered_at.isoformat(),
                "expires_at": o.expires_at.isoformat(),
                "answered_at": o.answered_at.isoformat() if o.answered_at else None,
            }
            for o in referral.offers
        ],
    }


def event_row(event: Event) -> dict[str, Any]:
    return wire.unstructure(event)


def list_referrals(
    hod: Hod, status: str | None = None, before: str | None = None, limit: int = 50
) -> dict[str, Any]:
    """Referrals newest first, of one status if given (waiting, unmatched, ...)."""
    if status is not None and status not in STATUSES:
        raise InputError(f"one of {', '.join(sorted(STATUSES))}", field="status")
    referrals = hod.router.referrals(status=status, before=before, limit=_page(limit))
    rows = [referral_summary(r) for r in referrals]
    return {"referrals": rows, "next": rows[-1]["id"] if len(rows) == _page(limit) else None}


def referral_detail(hod: Hod, referral_id: str) -> dict[str, Any]:
    """One referral and its whole audit trail (L11)."""
    referral = hod.router.referral(referral_id)
    events = hod.router.events(referral_id, limit=10_000)
    return {**referral_summary(referral), "events": [event_row(e) for e in events]}


def why(hod: Hod, referral_id: str, npn: str) -> dict[str, Any]:
    """Every rule's verdict on agent `npn` for this referral, now."""
    return hod.router.why(referral_id, npn)


def delivery_failures(hod: Hod, before: int | None = None, limit: int = 50) -> dict[str, Any]:
    """Failed notification attempts (`notify.failed`), newest first."""
    events = hod.router.events_of_kind(["notify.failed"], before=before, limit=_page(limit))
    rows = [event_row(e) for e in events]
    return {"failures": rows, "next": rows[-1]["seq"] if len(rows) == _page(limit) else None}


def outbox(hod: Hod, limit: int = 100, npn: str | None = None) -> list[dict[str, Any]]:
    """The newest notices of the in-app outbox, the tokens of account links hidden
    (`outbox.hide_tokens`) except under `--demo`, whose operator needs them."""
    notices = hod.outbox.notices(limit, npn)
    return notices if hod.settings.demo else [hide_tokens(n) for n in notices]


def _page(limit: int) -> int:
    return max(1, min(limit, MAX_PAGE))
