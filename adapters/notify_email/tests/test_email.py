"""The email adapter against real SMTP servers on loopback (-p hod_notify_email.testing)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime

import pytest
from attrs import evolve

from hod_core import ConfigurationError, DeliveryFailed, MemoryStore, Notice, Router
from hod_core.testing import FakeClock, Outbox, samples
from hod_notify_email import SmtpEmail
from hod_notify_email.testing import PASSWORD, LoopbackSmtp

LINK = "https://hod.example.org/r/"


@pytest.fixture
def clock():
    return FakeClock(datetime.fromisoformat("2026-11-23T10:00:00-06:00"))  # Houston, CST


@pytest.fixture
def mailer(hod_far_end_settings):
    return SmtpEmail.from_settings(hod_far_end_settings)


def email_router(mailer, clock, languages=("en", "es")):
    router = Router([MemoryStore(), clock, mailer, Outbox()], delivery_threads=0, link_base=LINK)
    router.put_agent(samples.agent("1", "77002", languages=languages))
    return router


def email_attempts(router, referral_id):
    return [
        e
        for e in router.events(referral_id)
        if e.kind.startswith("notify.") and e.detail["channel"] == "email"
    ]


def parts(message) -> dict[str, str]:
    return {
        p.get_content_subtype(): p.get_content() for p in message.walk() if not p.is_multipart()
    }


# -- the message -------------------------------------------------------------------------
def test_an_offer_email_is_multipart_text_and_html_with_proper_headers(mailer, smtp_server, clock):
    router = email_router(mailer, clock)
    referral = router.request_contact(samples.CONSUMER)
    [message] = smtp_server.inbox.messages
    assert message.get_content_type() == "multipart/alternative"
    assert set(parts(message)) == {"plain", "html"}
    assert message["To"] == "agent1@example.com"
    assert message["From"] == "Help On Demand <noreply@helpondemand.example>"
    assert message["Subject"] == "New Help On Demand referral: accept or reject by 10:15 AM CST"
    assert parsedate_to_datetime(message["Date"]) == clock.at  # the clock's instant
    assert re.fullmatch(
        rf"<[^@<>\s]+\.{referral.id}\.1@helpondemand\.example>", message["Message-ID"]
    )
    assert message["Auto-Submitted"] == "auto-generated"
    assert smtp_server.inbox.envelopes == [("noreply@helpondemand.example", ["agent1@example.com"])]


@pytest.mark.parametrize(
    ("kind", "language", "subject", "line"),
    [
        ("invitation", "en", "Your invitation to Help On Demand", "expires in 48 hours"),
        ("invitation", "es", "Su invitación a Help On Demand", "expira en 48 horas"),
        ("reset", "en", "Reset your Help On Demand password", "Your user name is: jane"),
        ("reset", "es", "Restablezca su contraseña de Help On Demand", "usuario es: jane"),
    ],
)
def test_account_emails_carry_their_single_use_link(
    mailer, smtp_server, clock, kind, language, subject, line
):
    link = "https://hod.example.org/register?token=abc"
    notice = Notice(
        kind,
        "email",
        "agent1@example.com",
        "1",
        "Jane",
        language,
        clock.at,
        link=link,
        deadline=clock.at + timedelta(hours=48),
        login="jane",
    )
    mailer.hod_notify_email(notice=notice)
    [message] = smtp_server.inbox.messages
    body = parts(message)
    assert message["Subject"] == subject and message["Content-Language"] == language
    assert f"\n{link}\r\n" in body["plain"] and f'<a href="{link}"' in body["html"]
    assert line in body["plain"]
    assert "X-HOD-Referral" not in message


def test_the_body_has_the_link_and_the_local_deadline_and_no_contact_data(
    mailer, smtp_server, clock
):
    router = email_router(mailer, clock)
    referral = router.request_contact(samples.CONSUMER)
    body = parts(smtp_server.inbox.messages[0])
    assert "Accept or reject it by 10:15 AM CST (Monday, November 23)" in body["plain"]
    assert f"Open the referral: {LINK}{referral.id}" in body["plain"]
    assert f'<a href="{LINK}{referral.id}"' in body["html"]
    assert "<strong>10:15 AM CST</strong> (Monday, November 23)" in body["html"]
    assert "Consumer's language: Spanish" in body["plain"]
    for text in body.values():
        for personal in ("Ana", "Ruiz", "+17135550100", "ana@example.com", "77002"):
            assert personal not in text


def test_a_spanish_speaking_agent_gets_the_spanish_email(mailer, smtp_server, clock):
    router = email_router(mailer, clock, languages=("es", "en"))
    router.request_contact(samples.CONSUMER)
    message = smtp_server.inbox.messages[0]
    assert message["Subject"] == (
        "Nuevo referido de Help On Demand: acepte o rechace antes de las 10:15 a. m. CST"
    )
    assert message["Content-Language"] == "es"
    body = parts(message)
    assert "antes de las 10:15 a. m. CST (lunes 23 de noviembre)" in body["plain"]
    assert "Idioma del consumidor: español" in body["plain"]
    assert '<html lang="es">' in body["html"]


def test_an_agent_with_neither_language_gets_english(mailer, smtp_server, clock):
    router = email_router(mailer, clock, languages=("vi", "fr"))
    router.request_contact(evolve(samples.CONSUMER, language="vi"))
    assert smtp_server.inbox.messages[0]["Content-Language"] == "en"


def test_each_attempt_has_its_own_message_id(mailer, smtp_server, clock):
    smtp_server.inbox.refuse_next("451 4.3.0 try again later")
    router = email_router(mailer, clock)
    referral = router.request_contact(samples.CONSUMER)
    [failed] = email_attempts(router, referral.id)
    assert failed.detail["code"] == "451" and failed.detail["transient"] is True
    clock.at = datetime.fromisoformat(failed.detail["retry_at"])
    router.tick()
    [message] = smtp_server.inbox.messages
    assert f".{referral.id}.2@" in message["Message-ID"]
    assert parsedate_to_datetime(message["Date"]) == clock.at.replace(microsecond=0)
    assert [e.kind for e in email_attempts(router, referral.id)] == ["notify.failed", "notify.sent"]


# -- security modes and credentials -------------------------------------------------------------
def test_implicit_tls_with_auth(smtp_ca, smtp_ca_file, clock):
    with LoopbackSmtp(smtp_ca, "ssl") as server:
        mailer = SmtpEmail.from_settings(server.settings(smtp_ca_file))
        email_router(mailer, clock).request_contact(samples.CONSUMER)
        assert len(server.inbox.messages) == 1


def test_plain_smtp_when_asked_for(smtp_ca, smtp_ca_file, clock):
    with LoopbackSmtp(smtp_ca, "none") as server:
        mailer = SmtpEmail.from_settings(server.settings(smtp_ca_file))
        email_router(mailer, clock).request_contact(samples.CONSUMER)
        assert len(server.inbox.messages) == 1


def test_a_server_without_starttls_gets_nothing_in_the_clear(smtp_ca, smtp_ca_file):
    with LoopbackSmtp(smtp_ca, "none") as server:
        settings = {**server.settings(smtp_ca_file), "security": "starttls"}
        with pytest.raises(DeliveryFailed) as refused:
            SmtpEmail.from_settings(settings).send(_message())
        assert (refused.value.transient, refused.value.code) == (False, "starttls")
        assert server.inbox.messages == []


def test_a_certificate_from_an_unknown_ca_is_refused(hod_far_end_settings):
    settings = {**hod_far_end_settings, "ca_file": ""}  # the system's CAs: not our test CA
    with pytest.raises(DeliveryFailed) as refused:
        SmtpEmail.from_settings(settings).send(_message())
    assert (refused.value.transient, refused.value.code) == (False, "tls")


def test_a_wrong_password_is_permanent_and_never_quoted(hod_far_end_settings, caplog):
    settings = {**hod_far_end_settings, "password": "not-the-password"}
    with pytest.raises(DeliveryFailed) as refused:
        SmtpEmail.from_settings(settings).send(_message())
    assert (refused.value.transient, refused.value.code) == (False, "535")
    assert "not-the-password" not in str(refused.value) + caplog.text


def test_a_refused_mailbox_is_permanent(mailer, smtp_server, clock):
    smtp_server.inbox.refuse_next("550 5.1.1 mailbox unavailable")
    router = email_router(mailer, clock)
    referral = router.request_contact(samples.CONSUMER)
    [failed] = email_attempts(router, referral.id)
    assert failed.detail == {
        "channel": "email",
        "attempt": 1,
        "error": "DeliveryFailed",
        "transient": False,
        "code": "550",
        "final": True,
    }


# -- servers that misbehave -----------------------------------------------------------------------
def test_a_server_that_accepts_and_never_speaks_times_out(scripted, hod_far_end_settings):
    silent = scripted(banner=None)
    settings = {**hod_far_end_settings, "port": str(silent.port), "timeout_s": "0.3"}
    with pytest.raises(DeliveryFailed) as failed:
        SmtpEmail.from_settings(settings).send(_message())
    assert failed.value.transient is True


@pytest.mark.parametrize("replies_before_hanging_up", [0, 3])  # at the greeting; at DATA
def test_a_server_that_hangs_up_is_transient(
    scripted, hod_far_end_settings, replies_before_hanging_up
):
    replies = [
        b"250-hello\r\n250 8BITMIME\r\n",  # EHLO
        b"250 OK\r\n",  # MAIL FROM
        b"250 OK\r\n",  # RCPT TO
    ][:replies_before_hanging_up]
    server = scripted(b"220 flaky ESMTP\r\n", replies)
    settings = {
        **hod_far_end_settings,
        "port": str(server.port),
        "security": "none",
        "username": "",
    }
    with pytest.raises(DeliveryFailed) as failed:
        SmtpEmail.from_settings(settings).send(_message())
    assert failed.value.transient is True
    assert failed.value.code == "SMTPServerDisconnected"


def test_a_server_that_is_down_costs_no_referral(
    hod_far_end_settings, hod_notify_unreachable_settings, clock
):
    mailer = SmtpEmail.from_settings({**hod_far_end_settings, **hod_notify_unreachable_settings})
    router = email_router(mailer, clock)
    referral = router.request_contact(samples.CONSUMER)
    [failed] = email_attempts(router, referral.id)
    assert failed.detail["code"] == "ConnectionRefusedError" and failed.detail["transient"]
    assert router.referral(referral.id).pending_offer.npn == "1"


# -- settings --------------------------------------------------------------------------------------
def test_settings_from_the_environment(hod_far_end_settings, monkeypatch):
    for name, value in hod_far_end_settings.items():
        monkeypatch.setenv(f"HOD_SMTP_{name.upper()}", value)
    mailer = SmtpEmail.from_settings({})
    assert mailer.config.port == int(hod_far_end_settings["port"])
    mailer.send(_message())
    assert PASSWORD not in repr(mailer) + repr(mailer.config)


@pytest.mark.parametrize(
    ("changes", "named"),
    [
        ({"security": "tls13"}, "security"),
        ({"port": "smtp"}, "port"),
        ({"from_address": "nobody"}, "from_address"),
    ],
)
def test_a_bad_setting_is_refused_by_name(hod_far_end_settings, changes, named):
    with pytest.raises(ConfigurationError, match=named):
        SmtpEmail.from_settings({**hod_far_end_settings, **changes})


def _message():
    from email.message import EmailMessage

    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = (
        "noreply@helpondemand.example",
        "agent1@example.com",
        "test",
    )
    message.set_content("test")
    return message
