"""App notices as Standard Webhooks: an HTTP(S) POST of a JSON event that a
mobile-push backend or a CRM verifies with an off-the-shelf library, in any
language (https://www.standardwebhooks.com, "Verifying webhook authenticity").

Each request carries the three headers of the specification:
- `webhook-id`: the event's id, the same on every retry (a receiver
  de-duplicates on it); no dots, which the signed content uses as separators;
- `webhook-timestamp`: unix seconds of this attempt (the router's clock);
- `webhook-signature`: `v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`,
  keyed with the bytes of a `whsec_` secret; one signature per configured
  secret, space-separated, so a secret can be rotated without a gap.

The receiver's answers, mapped to the router's delivery policy: 2xx sent;
408, 429, 5xx, timeouts and dropped connections transient (retried, after
Retry-After when given: a retry is the same event, which the receiver
de-duplicates); a 3xx is never followed (the specification's advice: fix
the URL) and, like any other 4xx, is permanent.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import http.client
import json
import logging
import secrets
import ssl
import urllib.error
import urllib.request

from attrs import field, frozen, validators

from hod_core import DeliveryFailed, Notice, adapter_config, hookimpl, secret

log = logging.getLogger(__name__)

SECRET_PREFIX = "whsec_"
KEY_BYTES = range(24, 65)  # the specification's bounds for a symmetric key
RETRYABLE = {408, 429}
SECRET_HELP = (
    "expected whsec_ and the base64 of 24 to 64 random bytes (two, space-separated, "
    "while one is rotated); make one with "
    "python -c 'import hod_notify_webhook as w; print(w.new_signing_secret())'"
)


def new_signing_secret() -> str:
    """A fresh secret in the specification's form: whsec_ + base64 of 32 random bytes."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def signing_key(signing_secret: str) -> bytes:
    """The HMAC key a `whsec_` secret stands for (its decoded bytes), or ValueError."""
    if not signing_secret.startswith(SECRET_PREFIX):
        raise ValueError(SECRET_HELP)
    try:
        key = base64.b64decode(signing_secret.removeprefix(SECRET_PREFIX), validate=True)
    except binascii.Error:
        raise ValueError(SECRET_HELP) from None
    if len(key) not in KEY_BYTES:
        raise ValueError(SECRET_HELP)
    return key


def _signing_secrets(_, attribute, value: str) -> None:
    if not value.split():
        raise ValueError(f"{attribute.name}: {SECRET_HELP}")
    for one in value.split():
        try:
            signing_key(one)
        except ValueError:  # the message names the setting, never the value
            raise ValueError(f"{attribute.name}: {SECRET_HELP}") from None


@frozen
class WebhookConfig:
    """Settings of the webhook adapter (environment variables HOD_WEBHOOK_*)."""

    url: str = field(validator=validators.matches_re(r"^https?://\S+$"))
    """Where each event is POSTed (http:// or https://); redirects are not followed."""
    signing_secret: str = secret(validator=_signing_secrets)
    """One `whsec_` secret; two, space-separated, while one is rotated (each signs)."""
    timeout_s: float = 10.0
    """Seconds to wait for the receiver's answer; a timeout is transient (retried)."""
    ca_file: str = ""
    """A CA's certificate file (PEM) to trust for an https URL; default: the system's CAs."""


def sign(keys: list[bytes], event_id: str, timestamp: int, body: bytes) -> str:
    """The `webhook-signature` value: one `v1,<base64>` per key, space-separated."""
    signed = f"{event_id}.{timestamp}.".encode() + body
    return " ".join(
        "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
        for key in keys
    )


def event_id(notice: Notice) -> str:
    """Stable across retries, unique per notice, and without the dots the
    signed content is split on: `offer_<referral id>_<npn>`."""
    parts = (notice.kind, notice.referral_id, notice.npn)
    return "_".join(part for part in parts if part).replace(".", "_")


def event(notice: Notice) -> dict:
    """The JSON event: what the app needs to show the offer, nothing of the consumer's."""
    return {
        "id": event_id(notice),
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


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A 3xx is an answer, not an instruction: the event goes to the
    configured URL or nowhere (urllib would resend it, as a GET, to any
    Location)."""

    def redirect_request(self, *args, **kwargs):
        return None


class SignedWebhook:
    """The `hod_notify_app` hook as a Standard Webhooks POST."""

    def __init__(self, config: WebhookConfig):
        self.config = config
        self._keys = [signing_key(one) for one in config.signing_secret.split()]
        tls = ssl.create_default_context(cafile=config.ca_file or None)
        self._opener = urllib.request.build_opener(
            _NoRedirects, urllib.request.HTTPSHandler(context=tls)
        )

    @classmethod
    def from_settings(cls, settings=None) -> SignedWebhook:
        return cls(adapter_config(WebhookConfig, settings, env_prefix="HOD_WEBHOOK_"))

    def __repr__(self) -> str:
        return f"SignedWebhook({self.config.url!r})"

    @hookimpl
    def hod_notify_app(self, notice: Notice) -> None:
        payload = event(notice)
        body = json.dumps(payload, separators=(",", ":")).encode()
        timestamp = int(notice.sent_at.timestamp())
        self.post(body, self.headers(payload["id"], timestamp, body))
        log.info("app event %s for agent %s delivered", payload["id"], notice.npn)

    def headers(self, event_id: str, timestamp: int, body: bytes) -> dict[str, str]:
        """The Standard Webhooks headers of one attempt."""
        return {
            "webhook-id": event_id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": sign(self._keys, event_id, timestamp, body),
        }

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
            with self._opener.open(request, timeout=self.config.timeout_s):
                return
        except urllib.error.HTTPError as exc:
            with exc:  # the error holds the answer's connection: closed here
                raise _refusal(exc) from None
        except (OSError, http.client.HTTPException) as exc:  # refused, timed out, reset, garbled
            reason = getattr(exc, "reason", exc)  # URLError wraps the socket's error
            if isinstance(reason, ssl.SSLCertVerificationError):
                raise DeliveryFailed(
                    "the receiver's certificate did not verify", transient=False, code="tls"
                ) from None
            name = type(reason).__name__
            raise DeliveryFailed(
                f"no answer from the receiver: {name}", transient=True, code=name
            ) from None


def _refusal(exc: urllib.error.HTTPError) -> DeliveryFailed:
    if 300 <= exc.code < 400:
        return DeliveryFailed(
            f"the receiver answered HTTP {exc.code}, a redirect, which is never followed: "
            "set url to where the events should go",
            transient=False,
            code=str(exc.code),
        )
    retry_after = exc.headers.get("Retry-After", "") if exc.headers else ""
    return DeliveryFailed(
        f"the receiver answered HTTP {exc.code}",
        transient=exc.code in RETRYABLE or exc.code >= 500,
        code=str(exc.code),
        retry_after=float(retry_after) if retry_after.isdigit() else None,
    )
