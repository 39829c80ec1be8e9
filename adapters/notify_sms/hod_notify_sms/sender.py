"""Text notices through Twilio's Programmable Messaging API, or any gateway
that speaks it: `POST {base_url}/2010-04-01/Accounts/{sid}/Messages.json`.

Sending a text is not idempotent: Twilio makes a message of every POST it
takes, and its error page for 20500 warns that a message POST retried after
a 500 can reach the phone twice. So a failure is tried again only when
Twilio certainly did not take the message:
- 429 (20429) and 503 (20503): refused before any work; Twilio's own advice
  for both is to try again with back-off (after its Retry-After, if given);
- no connection (refused, a name that does not resolve) or a request that
  was not sent whole.
Everything else is final for this notice:
- an answer that may follow a message made (500, 502, 504, other 5xx), no
  answer after the request was sent (a timeout, a dropped connection), a
  2xx that is not a message resource: the text may be out, so it is not
  sent again (the agent can miss a text; never get it twice);
- a 3xx: never followed (a redirected POST turns into a GET elsewhere, with
  our credentials); the status goes into the record;
- any other 4xx (20003 bad credentials, 21211 invalid number, 21610
  unsubscribed...), with Twilio's error code in the record.
Twilio's own error message is never passed on: it quotes the phone number.
"""

from __future__ import annotations

import base64
import http.client
import json
import logging
import re
import ssl
import urllib.error
import urllib.parse
import urllib.request

from attrs import field, frozen, validators

from hod_core import DeliveryFailed, Notice, adapter_config, hookimpl, secret

from .messages import render

log = logging.getLogger(__name__)

E164 = re.compile(r"^\+[1-9]\d{1,14}$")
API_PATH = "/2010-04-01/Accounts/{sid}/Messages.json"
REFUSED_UNTOUCHED = {429, 503}  # Twilio took nothing: safe to send again


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A 3xx is an answer, not an instruction: the request goes to the
    configured host or nowhere (urllib would resend it, as a GET, to any
    Location, with the Authorization header)."""

    def redirect_request(self, *args, **kwargs):
        return None


def _e164(_, attribute, value: str) -> None:
    if value and not E164.match(value):
        raise ValueError(f"{attribute.name}: expected an E.164 number like +15017122661")


@frozen
class SmsConfig:
    """Settings of the text adapter (environment variables HOD_SMS_*)."""

    account_sid: str = field(validator=validators.matches_re(r"^AC[0-9a-fA-F]{32}$"))
    """The Twilio account's SID (`AC` and 32 hexadecimal digits)."""
    auth_token: str = secret(validator=validators.min_len(1))
    """The Twilio account's auth token."""
    from_number: str = field(default="", validator=_e164)
    """The sending number, E.164 (`+15017122661`); this or `messaging_service_sid`."""
    messaging_service_sid: str = ""
    """A Twilio Messaging Service, instead of `from_number`: Twilio picks the sender."""
    base_url: str = field(
        default="https://api.twilio.com", validator=validators.matches_re(r"^https?://\S+$")
    )
    """Twilio's REST API; a test points it at a loopback fake."""
    timeout_s: float = 10.0
    """Seconds to wait for Twilio's answer; a timeout after sending is final (no text twice)."""
    status_callback: str = ""
    """A URL Twilio calls back with delivery receipts; default: none."""

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
        self._opener = urllib.request.build_opener(_NoRedirects)

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
            response = self._opener.open(request, timeout=self.config.timeout_s)
        except urllib.error.HTTPError as exc:
            with exc:  # the error holds the answer's connection: closed here
                raise _refusal(exc) from None
        except urllib.error.URLError as exc:  # urllib's wrap: the request did not go out whole
            raise _unreached(exc.reason) from None
        except (OSError, http.client.HTTPException) as exc:  # sent; no answer came back
            raise _maybe_sent(
                f"no answer from the text gateway: {type(exc).__name__}", exc
            ) from None
        with response:
            try:
                return json.loads(response.read())["sid"]
            except (OSError, http.client.HTTPException, ValueError, KeyError, TypeError) as exc:
                what = "the text gateway's answer is not a message"
                raise _maybe_sent(what, exc, "answer") from None


def _unreached(reason: object) -> DeliveryFailed:
    """Twilio never had the request: worth another try, unless trying cannot help."""
    if isinstance(reason, ssl.SSLCertVerificationError):
        return DeliveryFailed(
            "the text gateway's certificate did not verify", transient=False, code="tls"
        )
    if not isinstance(reason, OSError):  # urllib's own refusal (no host): the settings are wrong
        return DeliveryFailed("cannot send to base_url", transient=False, code="settings")
    name = type(reason).__name__
    return DeliveryFailed(f"could not reach the text gateway: {name}", transient=True, code=name)


def _maybe_sent(what: str, exc: BaseException, code: str = "") -> DeliveryFailed:
    """A failure after Twilio may have taken the message: final, never retried."""
    return DeliveryFailed(
        f"{what}; the text may have gone out, so it is not sent again",
        transient=False,
        code=code or type(exc).__name__,
    )


def _refusal(exc: urllib.error.HTTPError) -> DeliveryFailed:
    """Twilio's error answer as a DeliveryFailed: its code, never its message."""
    if 300 <= exc.code < 400:
        return DeliveryFailed(
            f"the text gateway answered HTTP {exc.code}, a redirect, which is never followed",
            transient=False,
            code=str(exc.code),
        )
    try:
        code = str(json.loads(exc.read()).get("code") or exc.code)
    except (ValueError, AttributeError, OSError, http.client.HTTPException):
        code = str(exc.code)
    if exc.code >= 500 and exc.code not in REFUSED_UNTOUCHED:
        return _maybe_sent(f"the text gateway answered HTTP {exc.code}", exc, code)
    retry_after = exc.headers.get("Retry-After") if exc.headers else None
    return DeliveryFailed(
        f"the text gateway answered HTTP {exc.code}",
        transient=exc.code in REFUSED_UNTOUCHED,
        code=code,
        retry_after=float(retry_after) if retry_after and retry_after.isdigit() else None,
    )
