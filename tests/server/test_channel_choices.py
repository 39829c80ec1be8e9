"""The contact methods the pages offer follow the channel registry (R2, L2)."""

from __future__ import annotations

import pytest

from hod_core.domain.channels import Channel, register_channel, unregister_channel
from hod_core.server.pages.i18n import Translator
from hod_core.server.pages.routes_pages_registration import contact_methods

from .test_register import NPN, form, invite


@pytest.fixture
def whatsapp():
    register_channel(Channel("whatsapp", "phone", labels={"en": "WhatsApp"}))
    yield
    unregister_channel("whatsapp")


def test_r2_the_pages_offer_the_seeds_four_contact_methods_in_their_words():
    assert contact_methods(Translator("en")) == [
        ("email_text_app", "Email, Text & App Notification"),
        ("email_text", "Email & Text"),
        ("email_app", "Email & App Notification"),
        ("email", "Email Only"),
    ]


def test_r2_a_registered_channel_is_offered_named_from_its_label(whatsapp):
    english = dict(contact_methods(Translator("en")))
    assert english["email_text_whatsapp"] == "Email, Text & WhatsApp"
    assert english["email_text"] == "Email & Text"  # the catalogue's own words stay
    spanish = dict(contact_methods(Translator("es")))
    assert spanish["email_whatsapp"] == "Correo electrónico y WhatsApp"  # English label as fallback
    assert len(english) == 8


def test_r2_an_agent_registers_with_a_registered_channel(client, hod, make_agent, whatsapp):
    make_agent(NPN)
    token = invite(hod)
    answer = client.post("/api/v1/register", json=form(token, contact_method="email_whatsapp"))
    assert answer.status_code == 201, answer.text
    assert answer.json()["test_text_sent"] is False  # R4: no text among its channels
    assert hod.router.roster.agent(NPN).contact_method.channels == ("email", "whatsapp")
