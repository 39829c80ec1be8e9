"""What each party may see of a referral: the personal-data boundary.

- The agent who accepted sees the consumer's name, phone and email (L3).
- Any other agent it was offered to sees "Missed Referral" and no contact data
  (L5, seed 002), and so does an agent whose offer is still Pending: the
  contact data is the prize of accepting, not a preview.
- Agent details shown to anyone else leave out the street address when the
  agent's MLMS display option is 2 (seeds 000, 004).
- Once the contact data is erased (P2, `contact_retention_days` after the
  end), the accepting agent sees "Contact details erased" and no contact data.

Every view a host may show goes through this module, so the rules live in one
place and the tests hold them there.
"""

from __future__ import annotations

from datetime import datetime

from attrs import frozen

from hod_core.domain.models import Agent, DisplayOption
from hod_core.domain.referrals import OfferStatus, Referral

MISSED_REFERRAL = "Missed Referral"
NEW_REFERRAL = "New Referral"
CONTACT_ERASED = "Contact details erased"


@frozen
class AgentReferralView:
    """One row of an agent's Manage Referrals page."""

    referral_id: str
    status: str  # a seed status label: Pending, Accepted, In Progress, ..., Missed, Rejected
    title: str  # the consumer's name once accepted (CONTACT_ERASED after P2); else
    # NEW_REFERRAL / MISSED_REFERRAL
    assigned_at: datetime  # "Referral Assigned": when the offer was sent
    expires_at: datetime
    consumer_state: str
    consumer_language: str
    phone: str | None = None
    email: str | None = None
    zip: str | None = None


_OFFER_LABELS = {
    OfferStatus.PENDING: "Pending",
    OfferStatus.REJECTED: "Rejected",
    OfferStatus.MISSED: "Missed",
}


def for_agent(referral: Referral, npn: str) -> AgentReferralView | None:
    """The referral as agent `npn` may see it; None if it was never offered to them."""
    offer = referral.offer_to(npn)
    if offer is None:
        return None
    common = {
        "referral_id": referral.id,
        "assigned_at": offer.offered_at,
        "expires_at": offer.expires_at,
        "consumer_state": referral.state,
        "consumer_language": referral.language,
    }
    if offer.status is OfferStatus.ACCEPTED and referral.agent_npn == npn:
        consumer = referral.consumer
        if consumer is None:  # erased (P2)
            return AgentReferralView(status=referral.status.label, title=CONTACT_ERASED, **common)
        return AgentReferralView(
            status=referral.status.label,
            title=f"{consumer.first_name} {consumer.last_name}",
            phone=consumer.phone,
            email=consumer.email,
            zip=consumer.zip,
            **common,
        )
    title = NEW_REFERRAL if offer.status is OfferStatus.PENDING else MISSED_REFERRAL
    return AgentReferralView(status=_OFFER_LABELS[offer.status], title=title, **common)


def agent_card(agent: Agent) -> dict[str, str | None]:
    """An agent's contact details as a consumer or directory may show them."""
    hide_street = agent.display_option is DisplayOption.ALL_LICENSED_STATES_NO_STREET_ADDRESS
    return {
        "npn": agent.npn,
        "name": f"{agent.first_name} {agent.last_name}",
        "email": agent.email,
        "phone": agent.phone,
        "street_address": None if hide_street else agent.street_address,
        "zip": agent.zip,
        "state": agent.home_state,
    }
