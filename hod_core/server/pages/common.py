"""What several pages share: the language lists, and static files."""

from __future__ import annotations

from importlib import resources

from hod_core.server.accounts.passwords import RULES

# Languages offered in the consumer's and the directory's menus: English,
# Spanish and the languages HealthCare.gov offers help in.
LANGUAGE_CHOICES = (
    "en", "es", "zh", "ht", "fr", "de", "gu", "hi", "it", "ja", "ko", "pl", "pt", "ru", "tl",
    "vi", "ar", "fa", "am",
)  # fmt: skip
STATIC_TYPES = {".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8"}


def language_options(t, codes=LANGUAGE_CHOICES) -> list[tuple[str, str]]:
    """(code, name in the page's language), with the code itself for a language we cannot name."""
    return [(code, t(f"language.{code}") if t.has(f"language.{code}") else code) for code in codes]


def password_rules(language: str) -> list[tuple[str, str]]:
    """(id, text) of each R3 rule in the page's language: the checklist of password_rules.html."""
    return [(rule.id, rule.es if language == "es" else rule.en) for rule in RULES]


def static_file(name: str) -> tuple[bytes, str] | None:
    """One of our own static files by name, or None (no paths, no other files)."""
    suffix = name[name.rfind(".") :] if "." in name else ""
    if "/" in name or "\\" in name or name.startswith(".") or suffix not in STATIC_TYPES:
        return None
    path = resources.files(__package__).joinpath(f"static/{name}")
    if not path.is_file():
        return None
    return path.read_bytes(), STATIC_TYPES[suffix]
