"""English and Spanish for the pages: two message catalogues and the choice between them.

The catalogues are TOML files beside this module (`messages/en.toml`,
`messages/es.toml`), one table per page, read once per process: a translator
edits text, not Python, and nothing is compiled at build time. A message is
named by its table and key (`referrals.title`) and may hold `{name}`
placeholders. Labels follow the seeds' own wording in both languages
(seed 003: "Availability Settings (Ajustes de disponibilidad)").

The language of a request: the `hod_lang` cookie (set by the switch in every
page's header), else the first of English or Spanish in `Accept-Language`,
else English.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from functools import cache
from importlib import resources

LANGUAGES = ("en", "es")
DEFAULT = "en"
COOKIE = "hod_lang"


@cache
def catalogue(language: str) -> dict[str, str]:
    """Every message of one language, keys flattened to `table.key`."""
    text = resources.files(__package__).joinpath(f"messages/{language}.toml").read_text("utf-8")
    return dict(_flatten(tomllib.loads(text)))


def _flatten(table: Mapping, prefix: str = ""):
    for key, value in table.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            yield from _flatten(value, f"{name}.")
        else:
            yield name, value


def choose(cookie: str | None, accept_language: str | None) -> str:
    """The page language: the remembered choice, else the browser's, else English."""
    if cookie in LANGUAGES:
        return cookie
    return from_accept_language(accept_language or "")


def from_accept_language(header: str) -> str:
    """The first of our languages in `Accept-Language`, by its q-value (es-MX counts as es)."""
    ranked = []
    for position, part in enumerate(header.split(",")[:20]):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                continue
        primary = tag.strip().split("-")[0].lower()
        if primary in LANGUAGES and quality > 0:
            ranked.append((-quality, position, primary))
    return min(ranked)[2] if ranked else DEFAULT


class Translator:
    """`t("referrals.title")` in one language; a missing key shows itself, never crashes."""

    def __init__(self, language: str):
        self.language = language if language in LANGUAGES else DEFAULT
        self.messages = catalogue(self.language)

    def __call__(self, key: str, **values) -> str:
        text = self.messages.get(key)
        if text is None:
            return key
        return text.format(**values) if values else text

    def has(self, key: str) -> bool:
        return key in self.messages
