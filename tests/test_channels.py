"""The channel registry (L2, R4): a channel is a name, a hook and an agent
field; one registered from outside hod-core reaches agents like the core ones."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from hod_core.domain.channels import (
    Channel,
    channel,
    contact_methods,
    register_channel,
    unregister_channel,
)
from hod_core.domain.models import Agent, ContactMethod
from hod_core.errors import ConfigurationError, InputError
from hod_core.lifecycle.router import Router
from hod_core.stores.memory.memory_store import MemoryStore
from hod_core.testing import FakeClock, Outbox, samples
from hod_core.wire import read_agents, structure, unstructure

from .conftest import MONDAY_10AM_HOUSTON, agent_data

EXAMPLE = Path(__file__).parents[1] / "examples" / "whatsapp_channel.py"
HOWTO = Path(__file__).parents[1] / "docs" / "howto" / "add-a-channel.md"
SEED_METHODS = ["email_text_app", "email_text", "email_app", "email"]


@pytest.fixture
def whatsapp():
    """The example module, imported: its `whatsapp` channel registered until the test ends."""
    spec = importlib.util.spec_from_file_location("whatsapp_channel", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    yield module
    unregister_channel("whatsapp")


@pytest.fixture
def clock():
    return FakeClock(MONDAY_10AM_HOUSTON)


def test_l2_the_seeds_four_contact_methods_read_and_write_as_stored(tmp_path):
    lines = [
        json.dumps(agent_data(npn=str(100 + n), contact_method=m))
        for n, m in enumerate(SEED_METHODS)
    ]
    path = tmp_path / "agents.jsonl"
    path.write_text("\n".join(lines) + "\n")
    read = [agent for _, agent in read_agents(path)]  # the fast reader
    assert [a.contact_method for a in read] == list(ContactMethod)
    for agent in read:
        assert unstructure(agent)["contact_method"] == agent.contact_method.value
        assert structure(unstructure(agent), Agent) == agent
    assert contact_methods() == SEED_METHODS
    assert ContactMethod("email_text_app").channels == ("email", "text", "app")


@pytest.mark.parametrize("value", ["text_app", "email_app_text", "email_email", "email_fax", ""])
def test_l2_a_contact_method_is_email_then_registered_channels_in_order(value):
    with pytest.raises(
        InputError, match="contact_method: contact method must be one of 'email_text_app'"
    ):
        structure(agent_data(contact_method=value), Agent)


def test_l2_a_registered_channel_joins_the_contact_methods_until_unregistered(whatsapp):
    agent = structure(agent_data(contact_method="email_text_whatsapp"), Agent)
    assert agent.contact_method.channels == ("email", "text", "whatsapp")
    assert agent.contact_method is ContactMethod("email_text_whatsapp")  # one object per value
    assert structure(unstructure(agent), Agent) == agent
    assert contact_methods() == [
        "email_text_app_whatsapp",
        "email_text_app",
        "email_text_whatsapp",
        "email_text",
        "email_app_whatsapp",
        "email_app",
        "email_whatsapp",
        "email",
    ]
    with pytest.raises(InputError, match="'email_whatsapp'"):
        structure(agent_data(contact_method="email_whatsapp_text"), Agent)
    unregister_channel("whatsapp")
    with pytest.raises(InputError, match="contact method must be one of"):
        structure(agent_data(contact_method="email_whatsapp"), Agent)


@pytest.mark.parametrize(
    ("bad", "problem"),
    [
        (Channel("whats_app", "phone"), "lower-case letters and digits"),
        (Channel("fax", "licenses"), "address 'licenses' is not a text field of Agent"),
        (Channel("fax", "phone", hook="notify_fax"), "must be a hod_ name"),
        (Channel("text", "email"), "name 'text' is registered"),
        (Channel("fax", "phone", hook="hod_notify_text"), "belongs to channel 'text'"),
    ],
)
def test_registration_refuses_a_channel_that_cannot_work(bad, problem):
    with pytest.raises(ConfigurationError, match=problem):
        register_channel(bad)
    assert channel("text").address == "phone"


def test_a_core_channel_cannot_be_unregistered():
    with pytest.raises(ConfigurationError, match="core channel"):
        unregister_channel("email")


def test_l2_an_offer_reaches_the_agent_on_whatsapp_end_to_end(whatsapp, clock):
    emails = Outbox()
    with whatsapp.FakeWhatsAppApi() as api:
        api.fail_next(503)
        sender = whatsapp.WhatsAppSender(api.url, token="s3cret")
        router = Router([MemoryStore(), clock, emails, sender], delivery_threads=0)
        router.put_agent(samples.agent("101", "77002", contact_method="email_whatsapp"))
        referral = router.request_contact(samples.CONSUMER)
        assert api.messages == []  # the first attempt met a 503
        clock.advance(minutes=1)
        router.tick()
        router.close()
    [message] = api.messages
    assert message["to"] == samples.agent().phone  # the channel's address field
    assert referral.id in message["text"]["body"]
    for personal in (samples.CONSUMER.phone, samples.CONSUMER.email, samples.CONSUMER.last_name):
        assert personal not in json.dumps(message)  # P1: no consumer contact data
    assert [n.channel for n in emails.notices] == ["email"]
    records = [
        (e.rule, e.kind, e.detail["channel"])
        for e in router.events(referral.id)
        if e.kind.startswith("notify.")
    ]
    assert ("L2", "notify.failed", "whatsapp") in records
    assert ("L2", "notify.sent", "whatsapp") in records
    assert ("L2", "notify.sent", "email") in records


def test_l2_a_router_without_a_whatsapp_sender_skips_it_on_record(whatsapp, clock):
    router = Router([MemoryStore(), clock, Outbox()], delivery_threads=0)
    assert router.channels == ("email", "text", "app")  # a registered channel is not required
    router.put_agent(samples.agent("101", "77002", contact_method="email_whatsapp"))
    referral = router.request_contact(samples.CONSUMER)
    kinds = {
        e.detail["channel"]: e.kind
        for e in router.events(referral.id)
        if e.kind.startswith("notify.")
    }
    assert kinds == {"email": "notify.sent", "whatsapp": "notify.skipped"}


def test_a_router_asked_for_whatsapp_refuses_to_start_without_its_sender(whatsapp, clock):
    with pytest.raises(ConfigurationError, match="no plugin implements hod_notify_whatsapp"):
        Router([MemoryStore(), clock, Outbox()], channels=["email", "whatsapp"])


def test_a_sender_for_a_channel_nobody_registered_is_refused(clock):
    class Fax(Outbox):
        def hod_notify_fax(self, notice):
            pass

    with pytest.raises(ConfigurationError, match="hod_notify_fax, which is not a hod hook"):
        Router([MemoryStore(), clock, Fax()])


def test_r4_a_channel_registered_to_test_itself_gets_the_registration_test(clock):
    class Signal(Outbox):
        def hod_notify_signal(self, notice):
            self.notices.append(notice)

    register_channel(Channel("signal", "phone", registration_test=True))
    try:
        outbox = Signal()
        router = Router([MemoryStore(), clock, outbox], delivery_threads=0)
        router.put_agent(samples.agent("101", contact_method="email_signal"))
        router.put_agent(samples.agent("102", contact_method="email_text_signal"))
        router.put_agent(samples.agent("103", contact_method="email_app"))
        assert router.send_registration_test("101") is True
        assert router.send_registration_test("102") is True
        assert router.send_registration_test("103") is False
    finally:
        unregister_channel("signal")
    sent = [(n.npn, n.channel, n.kind) for n in outbox.notices]
    assert sent == [("101", "signal", "test"), ("102", "text", "test"), ("102", "signal", "test")]


def test_the_how_to_shows_the_tested_example_verbatim():
    page, example = HOWTO.read_text(), EXAMPLE.read_text()
    blocks = [part.split("```", 1)[0] for part in page.split("```python\n")[1:]]
    assert len(blocks) == 3
    for block in blocks:
        assert block in example, block.splitlines()[0]
