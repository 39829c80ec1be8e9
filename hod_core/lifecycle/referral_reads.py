"""What people see of referrals: reads through the personal-data boundary (P1).

The host reads a referral whole (`referral`, never for display); an agent
sees only what `disclosure.for_agent` lets through (contact data only after
accepting); a consumer sees the status and, once accepted, the agent's card.
`Router` takes these in as a mixin; they work on the router's own parts.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from hod_core.domain import disclosure
from hod_core.domain.referrals import Event, Referral
from hod_core.errors import LifecycleError, NotFound
from hod_core.lifecycle import decisions
from hod_core.notify.notices import missed_alert, notice_language

if TYPE_CHECKING:
    from hod_core.lifecycle.router import Router


class ReferralReads:
    """The router's reads of referrals, for hosts, agents and consumers."""

    def referral(self: Router, referral_id: str) -> Referral:
        """The whole record, contact data included: for the host, never for display."""
        stored = self.hook.hod_store_referral(referral_id=referral_id)
        if stored is None:
            raise NotFound(f"no referral {referral_id}")
        return stored

    def referral_for_agent(
        self: Router, referral_id: str, npn: str
    ) -> disclosure.AgentReferralView:
        """The referral as agent `npn` may see it. `NotFound` in the same words
        whether it does not exist or was never offered to them (`decisions.not_theirs`)."""
        stored = self.hook.hod_store_referral(referral_id=referral_id)
        view = disclosure.for_agent(stored, npn) if stored is not None else None
        if view is None:
            raise decisions.not_theirs(referral_id)
        return view

    def agent_referrals(
        self: Router, npn: str, limit: int | None = 100
    ) -> list[disclosure.AgentReferralView]:
        """Manage Referrals: the referrals offered to the agent, newest first."""
        history = self.hook.hod_store_agent_offers(npn=npn, since=None, limit=limit)
        return [disclosure.for_agent(self.referral(h.referral_id), npn) for h in history]

    def missed_alert(self: Router, npn: str, language: str | None = None) -> str | None:
        """L8: the alert text when the agent missed offers in the lookback, else None."""
        agent = self.roster.agent(npn)
        since = self.now() - self.policy.missed_alert_lookback
        history = self.hook.hod_store_agent_offers(
            npn=npn, since=since - self.policy.offer_window, limit=None
        )
        return missed_alert(
            decisions.missed_since(history, since),
            self.policy.missed_alert_lookback,
            self.policy.offer_window,
            language or notice_language(agent.languages),
        )

    def consumer_view(self: Router, referral_id: str) -> dict[str, Any]:
        """What the consumer may see: the status and, once accepted, the agent's card."""
        referral = self.referral(referral_id)
        agent = self.roster.agent(referral.agent_npn) if referral.agent_npn else None
        return {
            "referral_id": referral.id,
            "status": referral.status.label,
            "agent": disclosure.agent_card(agent) if agent else None,
        }

    def events(
        self: Router, referral_id: str | None = None, *, after: int = 0, limit: int = 1000
    ) -> list[Event]:
        self.flush()
        return list(self.hook.hod_store_events(referral_id=referral_id, after=after, limit=limit))

    def why(self: Router, referral_id: str, npn: str) -> dict[str, Any]:
        """Why agent `npn` would (not) get this referral now: every rule's verdict."""
        referral = self.referral(referral_id)
        if referral.consumer is None:
            raise LifecycleError(f"referral {referral_id}: its request was erased", rule="P2")
        return self.roster.why(npn, referral, self.now())
