"""An agent as the matcher keeps it: located, zoned, with licences digested.

Built once when an agent is added or updated, so that nothing per match has
to look at ZIP tables, licence lists or weekly hours again.
"""

from __future__ import annotations

from datetime import date

from hod_core.domain.models import Agent
from hod_core.errors import InputError
from hod_core.geo import zips
from hod_core.matching.availability import AvailabilityPlan, ScheduleBook
from hod_core.rules.policy import Policy


class AgentRecord:
    """The fields the rule vocabulary reads (`agent.*`), plus place and plan."""

    __slots__ = (
        "agent",
        "npn",
        "zip",
        "display_option",
        "zone",
        "policy",
        "plan",
        "schedule_key",
        "gate",
        "static_failure",
    )

    def __init__(self, agent: Agent, policy: Policy, book: ScheduleBook):
        zone = agent_zone(agent)
        self.agent = agent
        self.npn = agent.npn  # read per match (offers): a slot, not a property
        self.zip = agent.zip  # buckets group by it: one read less per membership
        self.display_option = int(agent.display_option)  # E4, E7, E8 read it at every placement
        self.zone = zone
        self.policy = policy
        self.plan: AvailabilityPlan = book.plan(agent.availability)
        # Agents in one zone with one (interned) schedule share an answer per match.
        self.schedule_key = book.shared_key(zone, self.plan.schedule)
        # Whether the agent is available is the shared schedule's answer alone
        # (no time off, no override): a match may ask the schedule instead.
        self.gate = self.schedule_key if self.plan.plain else None
        self.static_failure: str | None = None

    # The agent's own fields, for views such as the directory: not slots (the
    # rules read them from `agent`, see rules.vocabulary), since six slots
    # and two floats per record would be 11 MB at 100k agents.
    home_state = property(lambda self: self.agent.home_state)
    languages = property(lambda self: self.agent.languages)
    state_preferences = property(lambda self: self.agent.state_preferences)
    suspended = property(lambda self: self.agent.suspended)
    participation = property(lambda self: self.agent.participation)
    contact_method = property(lambda self: self.agent.contact_method._value_)
    # The ZIP's centroid, from the ZIP table (buckets keep their groups' own).
    lat = property(lambda self: _centroid(self.agent.zip)[0])
    lon = property(lambda self: _centroid(self.agent.zip)[1])

    @property
    def health_licenses(self) -> dict[str, date | None]:
        """Computed when asked (at placement, and by explain), not stored: at
        national scale a dict per agent is tens of MB for a rare read."""
        return health_licenses(self.agent, self.policy)

    def __repr__(self) -> str:
        return f"AgentRecord(npn={self.npn!r}, zip={self.zip!r})"


_MEMO_MOST = 65_536  # distinct names and tuples judged and kept; beyond, judged each time


def agent_zone(agent: Agent) -> str:
    """The IANA zone the agent's hours are read in: their own, else their ZIP's.
    InputError for an unknown or unlocated ZIP, or a ZIP with no zone and no
    zone given: the one check an agent meets when the matcher places it."""
    place_zone = _centroid(agent.zip)[2]  # raises for an unknown or unlocated ZIP
    zone = agent.timezone or place_zone
    if zone is None:
        raise InputError(
            f"no timezone given and ZIP {agent.zip} has none in the shipped data",
            field="timezone",
        )
    return zone


def _centroid(code: str) -> tuple[float, float, str | None]:
    """(lat, lon, zone) of the agent's ZIP; InputError for an unknown or unlocated one."""
    return zips.zip_table().centroid(code)


def health_licenses(agent: Agent, policy: Policy) -> dict[str, date | None]:
    """State -> last valid day of its active health licence (None: no end date)."""
    states: dict[str, date | None] = {}
    # Readers share one tuple per distinct list of lines of authority, and the
    # policy memoises its verdict per name: judge each tuple once too (its
    # own key in the same memo: a tuple never equals a name).
    memo = policy._health_memo
    for licence in agent.licenses:
        if not licence.active:
            continue
        lines = licence.lines_of_authority
        health = memo.get(lines)
        if health is None:
            health = any(map(policy.is_health_line, lines))
            if len(memo) < _MEMO_MOST:
                memo[lines] = health
        if not health:
            continue
        if licence.state in states:
            known = states[licence.state]
            states[licence.state] = (
                None if None in (known, licence.expires_on) else max(known, licence.expires_on)
            )
        else:
            states[licence.state] = licence.expires_on
    return states
