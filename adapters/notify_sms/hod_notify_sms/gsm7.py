"""GSM 03.38 (GSM-7): which texts fit one SMS segment of 160 characters.

A text made only of the GSM-7 alphabet travels 160 characters per segment
(153 each when split); one character outside it (an "á", an emoji) makes the
whole message UCS-2, 70 per segment (67 when split). The extension table's
characters ({, }, €, ...) take two of the 160. The alphabet is fixed by the
standard, so it is written out here rather than pulled in as a dependency.
"""

from __future__ import annotations

import unicodedata

BASIC = (
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
EXTENSION = "\f^{}\\[~]|€"
_BASIC, _EXTENSION = frozenset(BASIC), frozenset(EXTENSION)
SINGLE, PART = 160, 153  # septets in one segment; in each part of a split message
UCS2_SINGLE, UCS2_PART = 70, 67


def septets(text: str) -> int | None:
    """Length in GSM-7 septets, or None when some character is not GSM-7."""
    total = 0
    for char in text:
        if char in _BASIC:
            total += 1
        elif char in _EXTENSION:
            total += 2
        else:
            return None
    return total


def segments(text: str) -> int:
    """How many SMS segments `text` takes (what the carrier bills)."""
    length = septets(text)
    single, part = SINGLE, PART
    if length is None:  # UCS-2: counted in UTF-16 code units
        length, single, part = len(text.encode("utf-16-le")) // 2, UCS2_SINGLE, UCS2_PART
    return 1 if length <= single else -(-length // part)


def to_gsm7(text: str) -> str:
    """`text` with each character outside GSM-7 replaced by its plain letter
    ("á" -> "a", "Í" -> "I") where it has one, else by "?"."""
    out = []
    for char in text:
        if char in _BASIC or char in _EXTENSION:
            out.append(char)
            continue
        plain = "".join(
            c for c in unicodedata.normalize("NFKD", char) if not unicodedata.combining(c)
        )
        out.append(plain if plain and septets(plain) is not None else "?")
    return "".join(out)


def one_segment(candidates: list[str]) -> str:
    """The first candidate that fits one segment, as written or in plain GSM-7
    letters; else the last one (the shortest), in as few segments as it takes."""
    for text in candidates:
        for form in (text, to_gsm7(text)):
            if segments(form) == 1:
                return form
    return to_gsm7(candidates[-1])
