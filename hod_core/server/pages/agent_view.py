"""What the agent's pages show around their forms: Today's Availability and the banners.

Kept apart from the routes so Manage Referrals, Availability Settings and
Profile all show the same Today's Availability switch (seed 003: "in the
top right corner of the screen") and the same notices.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from hod_core.domain.models import Agent
from hod_core.server.context import Hod


def today_state(hod: Hod, agent: Agent, zone: str) -> dict[str, Any]:
    """Today's Availability (A2) as the switch shows it: on (with its Stop
    Referrals time), off, or the standard hours."""
    now = hod.now()
    from zoneinfo import ZoneInfo

    local_date = now.astimezone(ZoneInfo(zone)).date()
    today = agent.availability.today
    if today is None or today.date != local_date:
        return {"state": "standard", "until": None}
    if not today.on:
        return {"state": "off", "until": None}
    return {"state": "on", "until": today.until}


def agent_context(hod: Hod, agent: Agent, language: str) -> dict[str, Any]:
    """The parts every agent page shows: zone, Today's Availability, suspension, the L8 alert."""
    zone = hod.router.agent_zone(agent.npn)
    return {
        "agent": agent,
        "zone": zone,
        "today": today_state(hod, agent, zone),
        "now": hod.now(),
        "alert": hod.router.missed_alert(agent.npn, language),
    }


def local_input(at: datetime | None, zone: str) -> str:
    """An instant as a datetime-local field's value in the agent's zone."""
    if at is None:
        return ""
    from zoneinfo import ZoneInfo

    return at.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%dT%H:%M")


def from_local_input(text: str, zone: str) -> str | None:
    """A datetime-local field's value, read in the agent's zone, as ISO 8601 with its offset."""
    text = text.strip()
    if not text:
        return None
    from zoneinfo import ZoneInfo

    try:
        naive = datetime.fromisoformat(text)
    except ValueError:
        return text  # the router names the field and says what is wrong
    return naive.replace(tzinfo=ZoneInfo(zone)).isoformat()
