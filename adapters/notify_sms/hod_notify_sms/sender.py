"""Text notices through Twilio's Programmable Messaging API, or any gateway
that speaks it: `POST {base_url}/2010-04-01/Accounts/{sid}/Messages.json`.

Twilio's answers, mapped to the router's delivery policy:
- 201: sent (queued by Twilio).
- 429, 5xx, a timeout or a dropped connection: transient, tried again
  (after Twilio's Retry-After when it gives one).
- any other 4xx (20003 bad credentials, 21211 invalid number, 21610
  unsubscribed...): permanent, with Twilio's error code in the record.
Twilio's own error message is never passed on: it quotes the phone number.
"""

from __future__ import annotations

import base64
import json
import logging
import re
import urllib.error
import urllib.parse
import urllib.request

from attrs import field, frozen, validators

from hod_core.config import adapter_config, secret
from hod_core.errors import DeliveryFailed
from hod_core.hookspecs import hookimpl
from hod_core.notices import Notice

from .messages import render

log = logging.getLogger(__name__)

E164 = re.compile(r"^\+[1-9]\d{1,14}$")
API_PATH = "/2010-04-01/Accounts/{sid}/Messages.json"


def _e164(_, attribute, value: str) -> None:
    if value and not E164.match(value):
        raise ValueError(f"{attribute.name}: expected an E.164 number like +15017122661")


@frozen
class SmsConfig:
    """Settings of the text adapter (environment variables HOD_SMS_*)."""

    account_sid: str = field(validator=validators.matches_re(r"^AC[0-9a-fA-F]{32}$"))
    auth_token: str = secret(validator=validators.min_len(1))
    from_number: str = field(default="", validator=_e164)
    messaging_service_sid: str = ""  # instead of from_number: Twilio picks the sender
    base_url: str = "https://api.twilio.com"
    timeout_s: float = 10.0
    status_callback: str = ""  # a URL Twilio calls back with delivery receipts

    def __attrs_post_init__(self):
        if not (self.from_number or self.messaging_service_sid):
            raise ValueError("from_number or messaging_service_sid: one of them is needed")


class TwilioSms:
    """The `hod_notify_text` hook over Twilio's REST API."""

    def __init__(self, config: SmsConfig):
        self.config = config
        self.url = config.base_url.rstrip("/") + API_PATH.format(sid=config.account_sid)
        credentials = f"{config.account_sid}:{config.auth_token}".encode()
        self._authorization = "Basic " + base64.b64encode(credentials).decode()

    @classmethod
    def from_settings(cls, settings=None) -> TwilioSms:
        return cls(adapter_config(SmsConfig, settings, env_prefix="HOD_SMS_"))

    def __repr__(self) -> str:
        return f"TwilioSms({self.url!r})"

    @hookimpl
    def hod_notify_text(self, notice: Notice) -> None:
        if not E164.match(notice.to or ""):
            raise DeliveryFailed("the agent's phone is not an E.164 number", transient=False)
        sid = self.send(notice.to, render(notice))
        log.info("%s text for agent %s queued as %s", notice.kind, notice.npn, sid)

    def send(self, to: str, body: str) -> str:
        """Send one message; Twilio's message SID, or DeliveryFailed."""
        form = {"To": to, "Body": body}
        if self.config.messaging_service_sid:
            form["MessagingServiceSid"] = self.config.messaging_service_sid
        else:
            form["From"] = self.config.from_number
        if self.config.status_callback:
            form["StatusCallback"] = self.config.status_callback
        request = urllib.request.Request(
            self.url,
            data=urllib.parse.urlencode(form).encode(),
            headers={
                "Authorization": self._authorization,
                "Content-Type": "application/x-www-form-urlencoded",
                "Accept": "application/json",
            },
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=self.config.timeout_s) as response:
                return json.loads(response.read()).get("sid", "")
        except urllib.error.HTTPError as exc:
            raise _refusal(exc) from None
        except (OSError, ValueError) as exc:  # refused, reset, timed out; a garbled answer
            raise DeliveryFailed(
                f"no answer from the text gateway: {type(exc).__name__}",
                transient=True,
                code=type(exc).__name__,
            ) from None


def _refusal(exc: urllib.error.HTTPError) -> DeliveryFailed:
    """Twilio's error answer as a DeliveryFailed: its code, never its message."""
    try:
        code = str(json.loads(exc.read()).get("code") or exc.code)
    except (ValueError, AttributeError, OSError):
        code = str(exc.code)
    transient = exc.code == 429 or exc.code >= 500
    retry_after = exc.headers.get("Retry-After") if exc.headers else None
    return DeliveryFailed(
        f"the text gateway answered HTTP {exc.code}",
        transient=transient,
        code=code,
        retry_after=float(retry_after) if retry_after and retry_after.isdigit() else None,
    )
