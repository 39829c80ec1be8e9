"""A WhatsApp channel added from outside hod-core: one sender, one registration.

Run it (no adapter to install):

    python3 examples/whatsapp_channel.py

The module registers a `whatsapp` channel (its name, its hook and the agent
field its notices go to: the agent's mobile number) and defines the sender,
a plugin with one hook, `hod_notify_whatsapp`, that posts each notice to a
WhatsApp Business style HTTP API. `main()` starts a stand-in for that API on
127.0.0.1, gives a router the sender, and sends a consumer's request to an
agent whose contact method is `email_whatsapp`. The far end refuses the
first message (HTTP 503), so the WhatsApp notice goes out on the retry.
docs/howto/add-a-channel.md walks through it; examples/tests runs it.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler

from hod_core import (
    Channel,
    DeliveryFailed,
    MemoryStore,
    Notice,
    Router,
    deadline_text,
    hookimpl,
    register_channel,
)
from hod_core.testing import FakeClock, LoopbackHttpServer, Outbox, samples

# -- the registration: a name, a hook, an address field ------------------------
WHATSAPP = register_channel(
    Channel(
        "whatsapp",  # contact methods name it: email_whatsapp, email_text_whatsapp, ...
        address="phone",  # Notice.to is the agent's phone, an E.164 number
        hook="hod_notify_whatsapp",  # the default: hod_notify_<name>
        labels={"en": "WhatsApp", "es": "WhatsApp"},  # for the registration page
    )
)


# -- the adapter: the channel's sender --------------------------------------------
class WhatsAppSender:
    """Sends notices as WhatsApp text messages through an HTTP API."""

    def __init__(self, api_url: str, token: str, timeout: float = 10.0):
        self._url = f"{api_url}/messages"
        self._token = token  # a secret: in no log, no error, no repr
        self._timeout = timeout

    def __repr__(self) -> str:
        return f"WhatsAppSender({self._url!r})"

    @hookimpl
    def hod_notify_whatsapp(self, notice: Notice) -> None:
        body = {"to": notice.to, "type": "text", "text": {"body": message_of(notice)}}
        request = urllib.request.Request(
            self._url,
            data=json.dumps(body).encode(),
            headers={"Authorization": f"Bearer {self._token}", "Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=self._timeout):
                pass
        except urllib.error.HTTPError as exc:  # the far end answered, and said no
            exc.close()  # the error holds the answer's connection
            retry_after = exc.headers.get("Retry-After")
            raise DeliveryFailed(
                "the WhatsApp API refused the message",
                transient=exc.code == 429 or exc.code >= 500,
                code=str(exc.code),
                retry_after=float(retry_after) if retry_after else None,
            ) from None
        # An OSError (refused, timed out) propagates: the router counts it transient.


def message_of(notice: Notice) -> str:
    """What the agent reads: no consumer contact data, only the link and deadline."""
    if notice.kind == "test":
        return "Help On Demand: this is a test message. You will get new referrals here."
    return (
        f"Hi {notice.agent_first_name}, a consumer in {notice.consumer_state} asks for help. "
        f"Accept or reject by {deadline_text(notice)}: {notice.link}"
    )


# -- a stand-in for the WhatsApp API, and the whole path end to end ------------------
class FakeWhatsAppApi(LoopbackHttpServer):
    """An HTTP API on 127.0.0.1 that accepts messages (or answers what
    `fail_next` scripts) and keeps the JSON body of each one it accepts."""

    def __init__(self):
        super().__init__(_handler(self))
        self.messages: list[dict] = []

    def take(self, body: bytes) -> int:
        status = (self.scripted() or (200, {}))[0]
        if status == 200:
            self.messages.append(json.loads(body))
        return status


def _handler(api: FakeWhatsAppApi) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 (the name http.server calls)
            status = api.take(self.rfile.read(int(self.headers["Content-Length"])))
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args) -> None:
            pass

    return Handler


def main() -> None:
    clock = FakeClock(datetime(2026, 1, 14, 15, 0, tzinfo=UTC))  # a Wednesday, 9 AM in Houston
    emails = Outbox()  # email is in every contact method: here it stays in memory
    with FakeWhatsAppApi() as api:
        api.fail_next(503)
        sender = WhatsAppSender(api.url, token="s3cret-token")
        router = Router([MemoryStore(), clock, emails, sender], delivery_threads=0)
        router.put_agent(samples.agent("17294001", "77002", contact_method="email_whatsapp"))
        referral = router.request_contact(samples.CONSUMER)
        clock.advance(minutes=1)  # the retry is due on the clock, within the offer's window
        router.tick()
        router.close()
        for message in api.messages:
            print(f"WhatsApp to {message['to']}: {message['text']['body']}")
        print(f"Email to {emails.notices[0].to}: offer {emails.notices[0].referral_id}")
        print("Delivery records")
        for event in router.events(referral.id):
            if event.kind.startswith("notify."):
                print(f"  {event.rule}  {event.kind:<13} {event.detail}")


if __name__ == "__main__":
    main()
