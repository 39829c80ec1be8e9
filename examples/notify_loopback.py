"""Real notices through the real adapters, to servers on loopback this script starts.

Run it (after installing the three notifier adapters and aiosmtpd):

    pip install -e adapters/notify_email -e adapters/notify_sms -e adapters/notify_webhook aiosmtpd
    python3 examples/notify_loopback.py

It starts an SMTP server (aiosmtpd), a Twilio-compatible gateway that checks
each request as Twilio does (hod_notify_sms.fake_twilio) and a webhook
receiver, all on 127.0.0.1. It loads the adapters by name, as a host would,
and sends a consumer's request to an agent whose contact method is
email + text + app. It prints what each server received. The text gateway
fails its first request (HTTP 503), so the text goes out on the retry. Last
come the agent's registration test text (R4) and the delivery records.
"""

from __future__ import annotations

import email
import email.policy
import json
from datetime import datetime

from aiosmtpd.controller import Controller

from hod_core import MemoryStore, Router, load_adapter
from hod_core.testing import FakeClock, closed_port
from hod_notify_sms.fake_twilio import FakeTwilio
from hod_notify_webhook import new_signing_secret, sign, signing_key
from hod_notify_webhook.receiver import Receiver

AGENT = {
    "npn": "17294001",
    "first_name": "María",
    "last_name": "López",
    "email": "maria.lopez@agency.example",
    "phone": "+17135550123",
    "zip": "77002",
    "home_state": "TX",
    "display_option": 1,
    "licenses": [
        {"state": "TX", "lines_of_authority": ["Accident & Health"], "expires_on": "2027-06-30"}
    ],
    "languages": ["es", "en"],
    "contact_method": "email_text_app",
    "participation": {
        "plan_year": 2026,
        "hod_training": True,
        "npn_on_ffm_list": True,
        "terms_accepted": True,
    },
}
CONSUMER = {
    "first_name": "Ana",
    "last_name": "Ruiz",
    "phone": "+17135550100",
    "email": "ana@example.com",
    "zip": "77002",
    "state": "TX",
    "language": "es",
}


class Mailbox:
    """The SMTP server's handler: keeps each message it accepts."""

    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(
            email.message_from_bytes(envelope.content, policy=email.policy.default)
        )
        return "250 OK"


def heading(text: str) -> None:
    print(f"\n== {text} ".ljust(78, "="))


def main() -> None:
    mailbox, secret = Mailbox(), new_signing_secret()
    smtp = Controller(mailbox, hostname="127.0.0.1", port=closed_port())
    smtp.start()
    with FakeTwilio() as twilio, Receiver() as receiver:
        twilio.fail_next(503)  # the gateway's first answer: Service Unavailable
        adapters = [
            load_adapter(
                "notify_email",
                {
                    "host": "127.0.0.1",
                    "port": str(smtp.port),
                    "security": "none",  # loopback; use starttls or ssl anywhere else
                    "from_address": "noreply@helpondemand.example",
                },
            ),
            load_adapter("notify_sms", twilio.settings()),
            load_adapter("notify_webhook", {"url": receiver.url, "signing_secret": secret}),
        ]
        clock = FakeClock(datetime.fromisoformat("2026-11-23T10:00:00-06:00"))  # a Monday
        router = Router(
            [MemoryStore(), clock, *adapters],
            link_base="https://hod.example.org/r/",
            freeze_after_load=False,
        )
        router.put_agent(AGENT)
        referral = router.request_contact(CONSUMER)
        router.drain(timeout=30)
        failed = next(e for e in router.events(referral.id) if e.kind == "notify.failed")
        clock.at = datetime.fromisoformat(failed.detail["retry_at"])
        router.tick()  # the text's retry is due
        router.drain(timeout=30)
        router.send_registration_test(AGENT["npn"])
        router.close()
    smtp.stop()

    [mail] = mailbox.messages
    heading("Email received by the loopback SMTP server")
    for header in ("From", "To", "Subject", "Date", "Message-ID", "Content-Language"):
        print(f"{header}: {mail[header]}")
    print(f"Parts: {', '.join(p.get_content_type() for p in mail.iter_parts())}\n")
    print(mail.get_body(("plain",)).get_content())

    heading(f"Text messages accepted by the loopback Twilio ({twilio.requests} requests)")
    for message in twilio.messages:
        fields = ("sid", "to", "from", "status", "num_segments", "body")
        print(json.dumps({k: message[k] for k in fields}, ensure_ascii=False, indent=1))

    heading("App event received by the loopback webhook receiver")
    [(headers, body)] = receiver.requests
    event_id, stamp, signature = (
        headers[f"webhook-{name}"] for name in ("id", "timestamp", "signature")
    )  # Standard Webhooks: any of its libraries verifies this the same way
    verified = signature == sign([signing_key(secret)], event_id, int(stamp), body)
    print(f"webhook-id: {event_id}")
    print(f"webhook-signature: {signature[:40]}... (verified: {verified})")
    print(json.dumps(json.loads(body), ensure_ascii=False, indent=1))

    heading("Delivery records (the audit trail)")
    for event in router.events():
        if event.kind.startswith("notify."):
            detail = {k: v for k, v in event.detail.items() if k != "channel"}
            print(
                f"{event.at:%H:%M:%S} {event.rule:3} {event.kind:14} {event.detail['channel']:5} {detail}"
            )


if __name__ == "__main__":
    main()
