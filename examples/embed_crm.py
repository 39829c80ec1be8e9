"""A CRM embeds hod-core with its own store, clock and notifier objects.

Run it:  python3 examples/embed_crm.py

The CRM brings plain objects (no pluggy import): a store that keeps the
referral records in its own tables (here: the core's in-memory store, which
it extends to mirror every audit event into the CRM's activity feed), a
clock it moves by hand, and a notifier that would hand notices to its
messaging service. One consumer's referral then goes through its whole
life: offered, rejected by one agent, timed out on the next, accepted by
the third, moved to In Progress and to Referral Completed. The event log
is printed at the end.
"""

from __future__ import annotations

import itertools
from datetime import datetime

from hod_core import MemoryStore, Router
from hod_core.testing import FakeClock

AGENTS = [  # three agents near downtown Houston, nearest first
    ("17294001", "Maria", "77002"),
    ("17294002", "Luis", "77030"),
    ("17294003", "Jane", "77005"),
]


class CrmStore(MemoryStore):
    """The CRM's store: every audit event also lands in its activity feed."""

    def __init__(self):
        super().__init__()
        self.activity_feed: list[str] = []

    def hod_store_put_agent(self, agent, events):
        self._mirror(events)
        return super().hod_store_put_agent(agent, events)

    def hod_store_commit(self, referral, expected_version, events, max_pending):
        committed = super().hod_store_commit(referral, expected_version, events, max_pending)
        if committed:
            self._mirror(events)
        return committed

    def hod_store_append_events(self, events):
        super().hod_store_append_events(events)
        self._mirror(events)

    def _mirror(self, events):
        self.activity_feed.extend(f"{e.kind} {e.npn or ''}".strip() for e in events)


class CrmMessaging:
    """The CRM's messaging: here it only prints what it would send."""

    def hod_notify_email(self, notice):
        self._send("email", notice)

    def hod_notify_text(self, notice):
        self._send("text", notice)

    def hod_notify_app(self, notice):
        self._send("app", notice)

    def _send(self, channel, notice):
        deadline = notice.deadline_local.strftime("%H:%M %Z")
        print(f"  [{channel:5}] to {notice.to}: new referral {notice.link}, accept by {deadline}")


def agent(npn: str, first_name: str, zip_code: str) -> dict:
    return {
        "npn": npn,
        "first_name": first_name,
        "last_name": "Agent",
        "email": f"{first_name.lower()}@agency.example",
        "phone": "+17135550199",
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
        "contact_method": "email_text" if npn.endswith("1") else "email",
        "participation": {
            "plan_year": 2026,
            "hod_training": True,
            "npn_on_ffm_list": True,
            "terms_accepted": True,
        },
    }


def main() -> None:
    clock = FakeClock(datetime.fromisoformat("2026-11-23T10:00:00-06:00"))  # a Monday
    store = CrmStore()
    case_numbers = itertools.count(1001)
    router = Router(
        [store, clock, CrmMessaging()],
        new_id=lambda now: f"CRM-{next(case_numbers)}",  # the CRM's own case numbers
        delivery_threads=0,  # notices go out inline, so the story prints in order
    )
    for npn, name, zip_code in AGENTS:
        router.put_agent(agent(npn, name, zip_code))

    print("10:00 consumer asks to be contacted")
    referral = router.request_contact(
        {
            "first_name": "Ana",
            "last_name": "Ruiz",
            "phone": "+17135550100",
            "email": "ana@example.com",
            "zip": "77002",
            "language": "es",
        }
    )
    first = referral.pending_offer.npn
    print(f"10:02 {first} rejects")
    clock.advance(minutes=2)
    router.reject(referral.id, first)

    second = router.referral(referral.id).pending_offer.npn
    print(f"10:17 {second} never answered: the sweep marks it missed")
    clock.advance(minutes=15)
    router.tick()

    third = router.referral(referral.id).pending_offer.npn
    print(f"10:20 {third} accepts and sees the consumer's contact data:")
    clock.advance(minutes=3)
    view = router.accept(referral.id, third)
    print(f"  {view.title}, {view.phone}, {view.email}")
    print(f"  {second} sees: {router.referral_for_agent(referral.id, second).title}")
    print(f"  {second}'s alert: {router.missed_alert(second)}")

    clock.advance(minutes=10)
    router.update_status(referral.id, third, "in_progress")
    clock.advance(hours=1)
    router.update_status(referral.id, third, "completed")
    print(f"11:30 status: {router.consumer_view(referral.id)['status']}")

    print("\nevent log:")
    for event in router.events(referral.id):
        local = event.at.astimezone(clock.at.tzinfo).strftime("%H:%M")
        who = event.npn or "-"
        print(
            f"  {event.seq:3} {local} {event.rule or '':3} {event.kind:24} {who:9} {dict(event.detail)}"
        )
    print(f"\nCRM activity feed: {len(store.activity_feed)} entries")


if __name__ == "__main__":
    main()
