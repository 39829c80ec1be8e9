"""Offer and account notices by email over SMTP: STARTTLS, implicit TLS or plain, with AUTH.

SMTP's answers, mapped to the router's delivery policy:
- 4xx replies, timeouts, refused or dropped connections: transient, retried;
- 5xx replies (a refused mailbox, bad credentials), a certificate that does
  not verify, a server that will not STARTTLS when asked to: permanent.
The reply code goes into the delivery record; the server's text never does
(smtplib's errors quote the addresses).
"""

from __future__ import annotations

import logging
import smtplib
import ssl

from attrs import field, frozen, validators

from hod_core import DeliveryFailed, Notice, adapter_config, hookimpl, secret

from .message import KINDS, build

log = logging.getLogger(__name__)

SECURITY_PORTS = {"starttls": 587, "ssl": 465, "none": 25}


@frozen
class EmailConfig:
    """Settings of the email adapter (environment variables HOD_SMTP_*)."""

    host: str = field(validator=validators.min_len(1))
    """The SMTP server's host name."""
    from_address: str = field(validator=validators.matches_re(r"^[^@\s]+@[^@\s]+$"))
    """The sender's address (`From:`), e.g. `hod@example.org`."""
    security: str = field(default="starttls", validator=validators.in_(SECURITY_PORTS))
    """How the connection is protected: `starttls`, `ssl` (TLS from the start) or `none`."""
    port: int = 0
    """The SMTP port; 0: the security mode's usual port (587, 465, 25)."""
    username: str = ""
    """The SMTP login, if the server asks for one."""
    password: str = secret(default="")
    """The SMTP password."""
    from_name: str = "Help On Demand"
    """The sender's display name (`From:`)."""
    timeout_s: float = 10.0
    """Seconds to wait for the SMTP server (connecting, each reply); a timeout is transient."""
    ca_file: str = ""
    """A private CA's certificate file (PEM) to trust; default: the system's CAs."""
    message_id_domain: str = ""
    """The domain of `Message-ID` headers; default: the from address's domain."""

    @property
    def effective_port(self) -> int:
        return self.port or SECURITY_PORTS[self.security]


class SmtpEmail:
    """The `hod_notify_email` hook over SMTP; one connection per notice."""

    def __init__(self, config: EmailConfig):
        self.config = config
        self._tls = ssl.create_default_context(cafile=config.ca_file or None)
        self._id_domain = config.message_id_domain or config.from_address.rsplit("@", 1)[1]

    @classmethod
    def from_settings(cls, settings=None) -> SmtpEmail:
        return cls(adapter_config(EmailConfig, settings, env_prefix="HOD_SMTP_"))

    def __repr__(self) -> str:
        c = self.config
        return f"SmtpEmail({c.security}://{c.host}:{c.effective_port})"

    @hookimpl
    def hod_notify_email(self, notice: Notice) -> None:
        if notice.kind not in KINDS:
            raise DeliveryFailed(f"no email template for a {notice.kind} notice", transient=False)
        message = build(notice, self.config.from_address, self.config.from_name, self._id_domain)
        self.send(message)
        log.info("%s email for agent %s sent as %s", notice.kind, notice.npn, message["Message-ID"])

    def send(self, message) -> None:
        try:
            with self._connect() as smtp:
                if self.config.username:
                    smtp.login(self.config.username, self.config.password)
                smtp.send_message(message)
        except smtplib.SMTPRecipientsRefused as exc:
            code = min(code for code, _ in exc.recipients.values())
            raise _reply("the recipient was refused", code) from None
        except smtplib.SMTPResponseException as exc:  # sender, data, auth, connect, helo
            raise _reply(type(exc).__name__, exc.smtp_code) from None
        except ssl.SSLCertVerificationError:
            raise DeliveryFailed(
                "the SMTP server's certificate did not verify", transient=False, code="tls"
            ) from None
        except smtplib.SMTPNotSupportedError:
            raise DeliveryFailed(
                "the SMTP server does not offer STARTTLS (or AUTH); not sending in the clear",
                transient=False,
                code="starttls",
            ) from None
        except (OSError, smtplib.SMTPException) as exc:  # refused, reset, timed out, dropped
            raise DeliveryFailed(
                f"no complete answer from the SMTP server: {type(exc).__name__}",
                transient=True,
                code=type(exc).__name__,
            ) from None

    def _connect(self) -> smtplib.SMTP:
        c = self.config
        if c.security == "ssl":
            return smtplib.SMTP_SSL(
                c.host, c.effective_port, timeout=c.timeout_s, context=self._tls
            )
        smtp = smtplib.SMTP(c.host, c.effective_port, timeout=c.timeout_s)
        try:
            if c.security == "starttls":
                smtp.starttls(context=self._tls)  # SMTPNotSupportedError if not offered
        except BaseException:
            smtp.close()
            raise
        return smtp


def _reply(what: str, code: int) -> DeliveryFailed:
    """An SMTP reply as a DeliveryFailed: 4xx may pass, 5xx will not."""
    return DeliveryFailed(
        f"{what} (SMTP {code})", transient=400 <= code < 500 or code < 0, code=str(code)
    )
