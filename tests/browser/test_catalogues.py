"""The pages' English and Spanish catalogues: the same messages, the same
placeholders, and every message a template or page module names exists."""

from __future__ import annotations

import re
import string
from importlib import resources

import pytest

from hod_core.server.pages.i18n import (
    LANGUAGES,
    Translator,
    catalogue,
    choose,
    from_accept_language,
)

PAGES = resources.files("hod_core.server.pages")
_NAMED = re.compile(r"""\bt\(\s*["']([a-z_]+\.[A-Za-z_ ]*[A-Za-z ])["']""")  # a whole key


def _placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_both_catalogues_hold_the_same_messages_and_placeholders():
    english, spanish = catalogue("en"), catalogue("es")
    assert set(english) == set(spanish)
    for key, text in english.items():
        assert _placeholders(text) == _placeholders(spanish[key]), key


def _sources():
    for folder, pattern in (("templates", ".html"), ("", ".py")):
        base = PAGES.joinpath(folder) if folder else PAGES
        for item in base.iterdir():
            if item.name.endswith(pattern):
                yield item.name, item.read_text("utf-8")


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_message_the_pages_name_exists(language):
    messages = catalogue(language)
    missing = {
        f"{name}: {key}"
        for name, text in _sources()
        for key in _NAMED.findall(text)
        if key not in messages
    }
    assert not missing


def test_the_language_is_the_remembered_choice_else_the_browsers_else_english():
    assert choose("es", "en-US,en;q=0.9") == "es"
    assert choose(None, "es-MX,es;q=0.9,en;q=0.8") == "es"
    assert choose("fr", "fr-FR, en;q=0.5, es;q=0.7") == "es"
    assert from_accept_language("de, *;q=0.1") == "en"
    assert from_accept_language("es;q=0, en") == "en"
    assert from_accept_language("es;q=bad, en;q=0.2") == "en"


def test_a_message_is_filled_in_and_an_unknown_key_shows_itself():
    t = Translator("es")
    assert t("referrals.left", minutes=3, seconds="07") == "Quedan 3 min 07 s para aceptar"
    assert t("no.such_key") == "no.such_key"
