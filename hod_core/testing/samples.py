"""Valid agents, consumers and referrals for the conformance suite."""

from __future__ import annotations

from datetime import datetime, timedelta

from attrs import evolve

from hod_core.domain.models import Agent, Consumer
from hod_core.domain.referrals import Offer, OfferStatus, Referral, ReferralStatus
from hod_core.wire import structure

START = datetime.fromisoformat("2026-11-23T16:00:00+00:00")


def agent(npn: str = "17294003", zip_code: str = "77030", **changes) -> Agent:
    data = {
        "npn": npn,
        "first_name": "Jane",
        "last_name": "Doe",
        "email": f"agent{npn}@example.com",
        "phone": "+12222222222",
        "street_address": "1 Main St",
        "zip": zip_code,
        "home_state": "TX",
        "display_option": 1,
        "licenses": [
            {
                "state": "TX",
                "lines_of_authority": ["Accident & Health"],
                "active": True,
                "expires_on": "2027-06-30",
            }
        ],
        "languages": ["en", "es"],
        "contact_method": "email_text_app",
        "participation": {
            "plan_year": 2026,
            "hod_training": True,
            "npn_on_ffm_list": True,
            "terms_accepted": True,
        },
    }
    return evolve(structure(data, Agent), **changes)


CONSUMER = Consumer(
    first_name="Ana",
    last_name="Ruiz",
    phone="+17135550100",
    email="ana@example.com",
    zip="77002",
    language="es",
    state="TX",
)


def referral(rid: str = "r1", *, offered_to: str | None = None, at: datetime = START) -> Referral:
    """A new referral: Waiting, or Offered to `offered_to` at `at`."""
    new = Referral(
        id=rid,
        consumer=CONSUMER,
        state="TX",
        created_at=at,
        wait_until=at + timedelta(hours=1),
        status=ReferralStatus.WAITING,
        version=1,
    )
    if offered_to is None:
        return new
    offer = Offer(offered_to, at, at + timedelta(minutes=15))
    return evolve(new, status=ReferralStatus.OFFERED, offers=(offer,))


def answered(r: Referral, outcome: OfferStatus, at: datetime) -> Referral:
    """The next version of `r` with its Pending offer answered."""
    status = ReferralStatus.ACCEPTED if outcome is OfferStatus.ACCEPTED else ReferralStatus.WAITING
    return evolve(r.answered(outcome, at, status=status), version=r.version + 1)
