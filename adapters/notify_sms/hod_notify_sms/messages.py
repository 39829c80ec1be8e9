"""What the text says, in English or Spanish, in one SMS segment where it can.

Each kind of message has variants from the fullest to the plainest; the
first that fits 160 GSM-7 characters is sent. No consumer data: the link
(which carries the referral id) and the accept deadline in the agent's zone.
"""

from __future__ import annotations

from hod_core import Notice, deadline_text

from .gsm7 import one_segment

OFFER = {
    "en": [
        "Help On Demand: {name}, you have a new referral. Accept or reject it by {deadline}: {link}",
        "Help On Demand: new referral. Accept or reject by {deadline}: {link}",
        "New referral, answer by {deadline}: {link}",
    ],
    "es": [
        "Help On Demand: {name}, tiene un nuevo referido. Acéptelo o rechácelo antes de las {deadline}: {link}",
        "Help On Demand: nuevo referido. Acepte o rechace antes de las {deadline}: {link}",
        "Nuevo referido, responda antes de las {deadline}: {link}",
    ],
}
TEST = {  # R4: sent on registration when the contact method includes text
    "en": [
        "Help On Demand: {name}, this is your test text. New referrals will be announced at this number.",
        "Help On Demand test text: referrals will be announced at this number.",
    ],
    "es": [
        "Help On Demand: {name}, este es su mensaje de prueba. Los nuevos referidos se anunciarán a este número.",
        "Mensaje de prueba de Help On Demand: los referidos se anunciarán a este número.",
    ],
}


def render(notice: Notice) -> str:
    variants = (OFFER if notice.kind == "offer" else TEST)[notice.language]
    values = {"name": notice.agent_first_name, "link": notice.link}
    if notice.kind == "offer":
        values["deadline"] = deadline_text(notice)
    return one_segment([v.format(**values) for v in variants])
