"""The text adapter against a loopback Twilio (run with -p hod_notify_sms.testing)."""

from __future__ import annotations

import base64
import threading
from datetime import datetime, timedelta

import pytest
from attrs import evolve

from hod_core import ConfigurationError, DeliveryFailed, MemoryStore, Router
from hod_core.testing import FakeClock, Outbox, closed_port, samples
from hod_notify_sms import TwilioSms
from hod_notify_sms.fake_twilio import HANG_UP, STALL, FakeTwilio
from hod_notify_sms.gsm7 import segments, septets, to_gsm7

AGENT_PHONE = "+12222222222"


@pytest.fixture
def clock():
    return FakeClock(datetime.fromisoformat("2026-11-23T10:00:00-06:00"))  # Houston, CST


@pytest.fixture
def sms(fake_twilio):
    return TwilioSms.from_settings(fake_twilio.settings())


def text_router(sms, clock, languages=("en", "es"), first_name="Jane"):
    others = Outbox()  # email and app go elsewhere in these tests
    router = Router(
        [MemoryStore(), clock, sms, others],
        delivery_threads=0,
        link_base="https://hod.example.org/r/",
    )
    router.put_agent(samples.agent("1", "77002", languages=languages, first_name=first_name))
    return router


def attempts(router, referral_id=None):
    return [
        e
        for e in router.events(referral_id)
        if e.kind.startswith("notify.") and e.detail["channel"] == "text"
    ]


# -- what Twilio receives ------------------------------------------------------------
def test_an_offer_is_one_twilio_message_in_one_gsm7_segment(sms, fake_twilio, clock):
    router = text_router(sms, clock)
    referral = router.request_contact(samples.CONSUMER)
    [message] = fake_twilio.messages
    assert message["to"] == AGENT_PHONE and message["from"] == "+15005550006"
    assert message["status"] == "queued" and message["sid"].startswith("SM")
    body = message["body"]
    assert body == (
        "Help On Demand: Jane, you have a new referral. Accept or reject it by 10:15 AM CST: "
        f"https://hod.example.org/r/{referral.id}"
    )
    assert septets(body) <= 160 and message["num_segments"] == "1"
    [sent] = attempts(router, referral.id)
    assert sent.kind == "notify.sent" and sent.detail["attempt"] == 1


def test_a_spanish_speaking_agent_reads_spanish_in_plain_gsm7_letters(sms, fake_twilio, clock):
    router = text_router(sms, clock, languages=("es", "en"))
    router.request_contact(samples.CONSUMER)
    body = fake_twilio.messages[0]["body"]
    assert body.startswith("Help On Demand: Jane, tiene un nuevo referido. Acéptelo o rechacelo")
    assert "antes de las 10:15 a. m. CST" in body
    assert septets(body) is not None and segments(body) == 1  # é is GSM-7, á is not


def test_the_language_is_the_agents_first_of_english_and_spanish(sms, fake_twilio, clock):
    text_router(sms, clock, languages=("vi", "es")).request_contact(samples.CONSUMER)
    assert "tiene un nuevo referido" in fake_twilio.messages[-1]["body"]
    vietnamese = evolve(samples.CONSUMER, language="vi")
    text_router(sms, clock, languages=("vi",)).request_contact(vietnamese)
    assert fake_twilio.messages[-1]["body"].startswith("Help On Demand: Jane, you have")


def test_a_long_name_gives_way_to_a_plainer_message_in_one_segment(sms, fake_twilio, clock):
    router = text_router(sms, clock, first_name="Maximiliana Guadalupe Concepción")
    router.request_contact(samples.CONSUMER)
    body = fake_twilio.messages[0]["body"]
    assert body.startswith("Help On Demand: new referral. Accept or reject by 10:15 AM CST: ")
    assert segments(body) == 1


def test_r4_the_registration_test_text(sms, fake_twilio, clock):
    router = text_router(sms, clock, languages=("es",))
    assert router.send_registration_test("1")
    [message] = fake_twilio.messages
    assert message["body"] == (
        "Help On Demand: Jane, este es su mensaje de prueba. "
        "Los nuevos referidos se anunciaran a este numero."
    )
    assert segments(message["body"]) == 1


# -- Twilio's refusals ----------------------------------------------------------------
def test_an_invalid_number_is_permanent_with_twilios_code_and_never_the_number(sms):
    with pytest.raises(DeliveryFailed) as refused:
        sms.send("+1-222-222-2222", "hello")
    assert refused.value.transient is False and refused.value.code == "21211"
    assert "222" not in str(refused.value)


def test_wrong_credentials_are_permanent(fake_twilio):
    settings = {**fake_twilio.settings(), "auth_token": "not-the-token"}
    with pytest.raises(DeliveryFailed) as refused:
        TwilioSms.from_settings(settings).send(AGENT_PHONE, "hello")
    assert (refused.value.transient, refused.value.code) == (False, "20003")


def test_a_sender_the_account_does_not_own_is_refused(fake_twilio):
    settings = {**fake_twilio.settings(), "from_number": "+15551234567"}
    with pytest.raises(DeliveryFailed) as refused:
        TwilioSms.from_settings(settings).send(AGENT_PHONE, "hello")
    assert refused.value.code == "21606"


def test_the_request_is_what_twilio_documents(fake_twilio):
    """Checked by hand, not by the fake: path, basic auth, form fields."""
    seen = {}

    def spy(path, authorization, content_type, raw):
        seen.update(path=path, authorization=authorization, type=content_type, raw=raw)
        return real(path, authorization, content_type, raw)

    real, fake_twilio.answer = fake_twilio.answer, spy
    TwilioSms.from_settings(fake_twilio.settings()).send(AGENT_PHONE, "Hola, ¿qué tal?")
    assert seen["path"] == f"/2010-04-01/Accounts/{fake_twilio.account_sid}/Messages.json"
    token = base64.b64decode(seen["authorization"].removeprefix("Basic ")).decode()
    assert token == f"{fake_twilio.account_sid}:{fake_twilio.auth_token}"
    assert seen["type"] == "application/x-www-form-urlencoded"
    assert seen["raw"] == (
        b"To=%2B12222222222&Body=Hola%2C+%C2%BFqu%C3%A9+tal%3F&From=%2B15005550006"
    )


# -- outages: retried only when Twilio took nothing -----------------------------------------
def retry_when_due(router, clock, failed) -> int:
    clock.at = datetime.fromisoformat(failed.detail["retry_at"])
    return router.tick().notices_retried


@pytest.mark.parametrize(("status", "code"), [(429, "20429"), (503, "20503")])
def test_a_refusal_before_twilio_took_the_message_is_retried_and_then_delivered(
    sms, fake_twilio, clock, status, code
):
    fake_twilio.fail_next(status)
    router = text_router(sms, clock)
    referral = router.request_contact(samples.CONSUMER)
    [failed] = attempts(router, referral.id)
    assert failed.kind == "notify.failed" and failed.detail["transient"] is True
    assert failed.detail["code"] == code and not fake_twilio.messages
    assert retry_when_due(router, clock, failed) == 1
    assert [e.kind for e in attempts(router, referral.id)] == ["notify.failed", "notify.sent"]
    assert len(fake_twilio.messages) == 1


def test_a_refused_connection_is_retried(fake_twilio):
    settings = {**fake_twilio.settings(), "base_url": f"http://127.0.0.1:{closed_port()}"}
    with pytest.raises(DeliveryFailed) as failed:
        TwilioSms.from_settings(settings).send(AGENT_PHONE, "hello")
    assert (failed.value.transient, failed.value.code) == (True, "ConnectionRefusedError")


def test_a_429_waits_as_long_as_twilio_asks(sms, fake_twilio, clock):
    fake_twilio.fail_next(429, retry_after=120)
    router = text_router(sms, clock)
    referral = router.request_contact(samples.CONSUMER)
    [failed] = attempts(router, referral.id)
    assert failed.detail["code"] == "20429"
    assert datetime.fromisoformat(failed.detail["retry_at"]) == clock.at + timedelta(seconds=120)


@pytest.mark.parametrize(
    ("outcome", "code"),
    [(500, "20500"), (HANG_UP, "RemoteDisconnected"), (STALL, "TimeoutError")],
    ids=["500", "hang-up", "timeout"],
)
def test_once_twilio_may_have_taken_the_message_it_is_never_sent_again(
    fake_twilio, clock, outcome, code
):
    """Twilio made the message, then answered 500, hung up or said nothing:
    a retry would text the agent twice (Twilio's 20500 page), so none is made."""
    fake_twilio.accept_then(outcome)
    sms = TwilioSms.from_settings({**fake_twilio.settings(), "timeout_s": "0.3"})
    router = text_router(sms, clock)
    referral = router.request_contact(samples.CONSUMER)
    [failed] = attempts(router, referral.id)
    assert failed.kind == "notify.failed" and failed.detail["code"] == code
    assert failed.detail["transient"] is False and failed.detail["final"] is True
    clock.advance(minutes=5)
    assert router.tick().notices_retried == 0
    assert len(fake_twilio.messages) == 1  # the agent got the text, once


@pytest.mark.parametrize("status", [0, 502, 504])
def test_no_answer_or_a_gateway_error_is_final_as_the_message_may_exist(fake_twilio, status):
    """The client cannot tell these from a message taken: not retried either."""
    fake_twilio.fail_next(status)
    with pytest.raises(DeliveryFailed, match="may have gone out") as failed:
        TwilioSms.from_settings(fake_twilio.settings()).send(AGENT_PHONE, "hello")
    assert failed.value.transient is False


def test_a_2xx_that_is_not_a_message_is_final(fake_twilio):
    fake_twilio.fail_next(200)
    with pytest.raises(DeliveryFailed) as failed:
        TwilioSms.from_settings(fake_twilio.settings()).send(AGENT_PHONE, "hello")
    assert (failed.value.transient, failed.value.code) == (False, "answer")


# -- redirects: never followed ----------------------------------------------------------------
@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_a_redirect_is_a_final_failure_and_nothing_reaches_the_other_host(
    fake_twilio, clock, status
):
    with FakeTwilio() as elsewhere:
        location = elsewhere.url + f"/2010-04-01/Accounts/{fake_twilio.account_sid}/Messages.json"
        fake_twilio.fail_next(status, headers={"Location": location})
        router = text_router(TwilioSms.from_settings(fake_twilio.settings()), clock)
        referral = router.request_contact(samples.CONSUMER)
        [failed] = attempts(router, referral.id)
        assert (failed.detail["code"], failed.detail["transient"]) == (str(status), False)
        assert failed.detail["final"] is True
        assert elsewhere.requests == 0  # neither the POST nor a GET, nor the credentials
    assert not fake_twilio.messages


def test_a_stalled_gateway_does_not_hold_up_the_email(fake_twilio, clock):
    """Worker threads: the text hangs, the email goes, the router answers at once."""
    hold = threading.Event()
    original = fake_twilio.answer

    def stall(*args):
        hold.wait(timeout=20)
        return original(*args)

    fake_twilio.answer = stall
    email = Outbox()
    router = Router([MemoryStore(), clock, TwilioSms.from_settings(fake_twilio.settings()), email])
    router.put_agent(samples.agent("1", "77002"))
    router.request_contact(samples.CONSUMER)
    assert not router.drain(timeout=0.2)  # the text is still waiting on Twilio
    assert "email" in [n.channel for n in email.notices]
    hold.set()
    assert router.drain(timeout=20)
    assert len(fake_twilio.messages) == 1
    router.close()


# -- settings ---------------------------------------------------------------------------------
def test_settings_from_the_environment_and_a_config_file(fake_twilio, tmp_path, monkeypatch):
    settings = fake_twilio.settings()
    config = tmp_path / "sms.toml"
    config.write_text(f'from_number = "{settings["from_number"]}"\ntimeout_s = 2.5\n')
    monkeypatch.setenv("HOD_SMS_ACCOUNT_SID", settings["account_sid"])
    monkeypatch.setenv("HOD_SMS_AUTH_TOKEN", settings["auth_token"])
    monkeypatch.setenv("HOD_SMS_BASE_URL", settings["base_url"])
    monkeypatch.setenv("HOD_SMS_CONFIG_FILE", str(config))
    sms = TwilioSms.from_settings({})
    assert sms.config.timeout_s == 2.5
    assert sms.send(AGENT_PHONE, "hello").startswith("SM")
    assert settings["auth_token"] not in repr(sms) + repr(sms.config)


@pytest.mark.parametrize(
    ("changes", "named"),
    [
        ({"account_sid": "nope"}, "account_sid"),
        ({"from_number": "2222"}, "from_number"),
        ({"timeout_s": "soon"}, "timeout_s"),
        ({"base_url": "api.twilio.com"}, "base_url"),
        ({"frm_number": "+15005550006"}, "frm_number"),
    ],
)
def test_a_bad_setting_is_refused_by_name(fake_twilio, changes, named):
    with pytest.raises(ConfigurationError, match=named):
        TwilioSms.from_settings({**fake_twilio.settings(), **changes})


def test_a_missing_setting_names_its_environment_variable(monkeypatch):
    for name in ("ACCOUNT_SID", "AUTH_TOKEN", "CONFIG_FILE"):
        monkeypatch.delenv(f"HOD_SMS_{name}", raising=False)
    with pytest.raises(ConfigurationError, match="HOD_SMS_AUTH_TOKEN"):
        TwilioSms.from_settings({"account_sid": "AC" + "0" * 32})


# -- GSM-7 --------------------------------------------------------------------------------------
def test_gsm7_counts_septets_extensions_twice_and_knows_ucs2():
    assert septets("Hola ñandú") is None  # ú is not GSM-7
    assert septets("Hola ñandu") == 10
    assert septets("{x}") == 5
    assert to_gsm7("Acéptelo, rechácelo, número") == "Acéptelo, rechacelo, numero"
    assert segments("a" * 160) == 1 and segments("a" * 161) == 2 and segments("a" * 307) == 3
    assert segments("á" * 70) == 1 and segments("á" * 71) == 2
