"""App notices as signed webhooks: an HTTP(S) POST of a JSON event that a
mobile-push backend or a CRM receives and verifies.

The signature (`X-HOD-Signature: t=<unix seconds>,v1=<hex>`) is HMAC-SHA256,
keyed with the shared secret, over `"<t>." + body`. Signing the timestamp
with the body lets a receiver refuse replays: it accepts an event only when
`t` is within its window of its own clock (README: "Verifying"). A retry is
the same event (same `id`, for de-duplication) signed afresh.

The receiver's answers, mapped to the router's delivery policy: 2xx sent;
408, 429, 5xx, timeouts and dropped connections transient (retried, after
Retry-After when given); any other 4xx permanent.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import ssl
import urllib.error
import urllib.request

from attrs import field, frozen, validators

from hod_core.config import adapter_config, secret
from hod_core.errors import DeliveryFailed
from hod_core.hookspecs import hookimpl
from hod_core.notices import Notice

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-HOD-Signature"
EVENT_ID_HEADER = "X-HOD-Event-Id"
RETRYABLE = {408, 429}


@frozen
class WebhookConfig:
    """Settings of the webhook adapter (environment variables HOD_WEBHOOK_*)."""

    url: str = field(validator=validators.matches_re(r"^https?://\S+$"))
    signing_secret: str = secret(validator=validators.min_len(16))
    timeout_s: float = 10.0
    ca_file: str = ""  # a CA to trust for an https URL (else the system's)


def sign(signing_secret: str, timestamp: int, body: bytes) -> str:
    """The signature header's value for `body` sent at `timestamp`."""
    digest = hmac.new(
        signing_secret.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256
    ).hexdigest()
    return f"t={timestamp},v1={digest}"


def event(notice: Notice) -> dict:
    """The JSON event: what the app needs to show the offer, nothing of the consumer's."""
    return {
        "id": f"{notice.kind}.{notice.referral_id}.{notice.npn}",
        "type": "referral.offered" if notice.kind == "offer" else f"agent.{notice.kind}",
        "created": notice.sent_at.isoformat(),
        "attempt": notice.attempt,
        "data": {
            "npn": notice.npn,
            "agent_first_name": notice.agent_first_name,
            "language": notice.language,
            "referral_id": notice.referral_id,
            "link": notice.link,
            "deadline": notice.deadline.isoformat() if notice.deadline else None,
            "deadline_local": notice.deadline_local.isoformat() if notice.deadline_local else None,
            "consumer_state": notice.consumer_state,
            "consumer_language": notice.consumer_language,
        },
    }


class SignedWebhook:
    """The `hod_notify_app` hook as a signed HTTP POST."""

    def __init__(self, config: WebhookConfig):
        self.config = config
        self._tls = ssl.create_default_context(cafile=config.ca_file or None)

    @classmethod
    def from_settings(cls, settings=None) -> SignedWebhook:
        return cls(adapter_config(WebhookConfig, settings, env_prefix="HOD_WEBHOOK_"))

    def __repr__(self) -> str:
        return f"SignedWebhook({self.config.url!r})"

    @hookimpl
    def hod_notify_app(self, notice: Notice) -> None:
        payload = event(notice)
        body = json.dumps(payload, separators=(",", ":")).encode()
        signature = sign(self.config.signing_secret, int(notice.sent_at.timestamp()), body)
        self.post(body, {SIGNATURE_HEADER: signature, EVENT_ID_HEADER: payload["id"]})
        log.info("app event %s for agent %s delivered", payload["id"], notice.npn)

    def post(self, body: bytes, headers: dict[str, str]) -> None:
        request = urllib.request.Request(
            self.config.url,
            data=body,
            headers={
                "Content-Type": "application/json",
                "User-Agent": "hod-notify-webhook/0.1",
                **headers,
            },
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=self.config.timeout_s, context=self._tls):
                return
        except urllib.error.HTTPError as exc:
            retry_after = exc.headers.get("Retry-After", "") if exc.headers else ""
            raise DeliveryFailed(
                f"the receiver answered HTTP {exc.code}",
                transient=exc.code in RETRYABLE or exc.code >= 500,
                code=str(exc.code),
                retry_after=float(retry_after) if retry_after.isdigit() else None,
            ) from None
        except OSError as exc:  # refused, timed out, reset; URLError wraps the socket's error
            reason = getattr(exc, "reason", exc)
            if isinstance(reason, ssl.SSLCertVerificationError):
                raise DeliveryFailed(
                    "the receiver's certificate did not verify", transient=False, code="tls"
                ) from None
            name = type(reason).__name__
            raise DeliveryFailed(
                f"no answer from the receiver: {name}", transient=True, code=name
            ) from None
