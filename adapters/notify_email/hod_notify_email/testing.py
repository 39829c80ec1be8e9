"""pytest plugin: a real SMTP server on loopback (aiosmtpd) for the conformance
suite and the adapter's tests, with STARTTLS and AUTH under a test CA (trustme).

    pytest -p hod_core.testing.plugin -p hod_notify_email.testing --hod-adapter notify_email \\
        --pyargs hod_core.testing.conformance

Needs the test extras: `pip install hod-notify-email[test]`.
"""

from __future__ import annotations

import asyncio
import contextlib
import email
import email.policy
import ssl
import threading

import pytest
import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from hod_core.testing import closed_port

USER, PASSWORD = "hod-sender", "s3cret-smtp-password"


def pytest_configure(config: pytest.Config) -> None:
    # In "ssl" mode the connection is TLS from the first byte, though aiosmtpd
    # cannot tell, and warns on each connection that AUTH is offered without
    # (STARTTLS) TLS (aio-libs/aiosmtpd#281).
    config.addinivalue_line("filterwarnings", "ignore:Requiring AUTH while not requiring TLS")


class Inbox:
    """An aiosmtpd handler that keeps every message it accepts; `refuse_next`
    answers the next RCPTs with a code of your choosing (451, 550...)."""

    def __init__(self):
        self.messages: list[email.message.EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self._refusals: list[str] = []
        self._lock = threading.Lock()

    def refuse_next(self, reply: str, times: int = 1) -> None:
        with self._lock:
            self._refusals.extend([reply] * times)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        with self._lock:
            if self._refusals:
                return self._refusals.pop(0)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self._lock:
            self.messages.append(message)
            self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        return "250 Message accepted for delivery"

    def as_text(self) -> list[str]:
        """Each message whole: headers and every part, decoded."""
        return [
            str(m["Subject"])
            + "\n"
            + "\n".join(p.get_content() for p in m.walk() if p.get_content_maintype() == "text")
            for m in self.messages
        ]


def _authenticate(server, session, envelope, mechanism, data) -> AuthResult:
    ok = isinstance(data, LoginPassword) and (data.login, data.password) == (
        USER.encode(),
        PASSWORD.encode(),
    )
    return AuthResult(success=ok, handled=False)


class _Controller(Controller):
    """aiosmtpd's threaded server, which also closes, when it stops, every connection
    it accepted: its own stop leaves one still open (or closing) to the garbage
    collector, a ResourceWarning in some later test."""

    def factory(self):
        session = super().factory()
        self.sessions = [*getattr(self, "sessions", []), session]
        return session

    def stop(self, no_assert: bool = False) -> None:
        if self._thread is not None:
            asyncio.run_coroutine_threadsafe(self._close_sessions(), self.loop).result()
        super().stop(no_assert)

    async def _close_sessions(self) -> None:
        for session in getattr(self, "sessions", []):
            # After STARTTLS the session's transport is TLS over the socket's own.
            for transport in (session.transport, getattr(session, "_original_transport", None)):
                if transport is None or transport.is_closing():
                    continue
                # A TLS transport whose connection was already lost has no SSL
                # protocol left to abort (asyncio's sslproto): nothing to close.
                with contextlib.suppress(AttributeError):
                    transport.abort()
        for _ in range(3):  # the transports' own clean-up callbacks run on the next turns
            await asyncio.sleep(0)


class LoopbackSmtp:
    """aiosmtpd on 127.0.0.1: `security` "starttls" (required, with AUTH),
    "ssl" (implicit TLS, with AUTH) or "none" (plain, no AUTH)."""

    def __init__(self, ca: trustme.CA, security: str = "starttls"):
        self.inbox = Inbox()
        self.security = security
        self.port = closed_port()
        server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ca.issue_cert("127.0.0.1", "localhost").configure_cert(server_tls)
        kwargs = {}
        if security == "starttls":
            kwargs = {"tls_context": server_tls, "require_starttls": True}
        elif security == "ssl":
            kwargs = {"ssl_context": server_tls, "auth_require_tls": False}
        if security != "none":
            kwargs.update(authenticator=_authenticate, auth_required=True)
        self.controller = _Controller(
            self.inbox, hostname="127.0.0.1", port=self.port, server_hostname="127.0.0.1", **kwargs
        )

    def settings(self, ca_file: str) -> dict[str, str]:
        settings = {
            "host": "127.0.0.1",
            "port": str(self.port),
            "security": self.security,
            "from_address": "noreply@helpondemand.example",
            "timeout_s": "5",
            "ca_file": ca_file,
        }
        if self.security != "none":
            settings.update(username=USER, password=PASSWORD)
        return settings

    def __enter__(self) -> LoopbackSmtp:
        self.controller.start()
        return self

    def __exit__(self, *_) -> None:
        self.controller.stop()


@pytest.fixture(scope="session")
def smtp_ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def smtp_ca_file(smtp_ca, tmp_path) -> str:
    path = tmp_path / "test-ca.pem"
    smtp_ca.cert_pem.write_to_path(str(path))
    return str(path)


@pytest.fixture
def smtp_server(smtp_ca):
    with LoopbackSmtp(smtp_ca, "starttls") as server:
        yield server


@pytest.fixture
def hod_far_end_settings(smtp_server, smtp_ca_file) -> dict[str, str]:
    return smtp_server.settings(smtp_ca_file)


@pytest.fixture
def hod_notify_inbox(smtp_server):
    return smtp_server.inbox.as_text


@pytest.fixture
def hod_notify_unreachable_settings() -> dict[str, str]:
    return {"port": str(closed_port())}
