"""The emails: multipart text and HTML, in the agent's language.

An offer (L2) holds no consumer contact data: the referral's reference and
link, the consumer's state and language, and the accept deadline in the
agent's own zone. The reference server's account emails hold a single-use
link: a registration invitation (R1) or a password reset (with the user name). Templates are `string.Template` files beside this module, one text and
one HTML per language, so a deployment can read (and fork) them as files.
"""

from __future__ import annotations

import html
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, make_msgid
from functools import cache
from importlib import resources
from string import Template

from hod_core import Notice, deadline_text

SUBJECTS = {
    "en": "New Help On Demand referral: accept or reject by {deadline}",
    "es": "Nuevo referido de Help On Demand: acepte o rechace antes de las {deadline}",
}
ACCOUNT_SUBJECTS = {
    "invitation": {
        "en": "Your invitation to Help On Demand",
        "es": "Su invitación a Help On Demand",
    },
    "reset": {
        "en": "Reset your Help On Demand password",
        "es": "Restablezca su contraseña de Help On Demand",
    },
}
KINDS = ("offer", *ACCOUNT_SUBJECTS)  # the notices this adapter has templates for
LANGUAGE_NAMES = {
    "en": {"en": "English", "es": "Spanish"},
    "es": {"en": "inglés", "es": "español"},
}
WEEKDAYS = {
    "en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
    "es": ("lunes", "martes", "miércoles", "jueves", "viernes", "sábado", "domingo"),
}
MONTHS = {
    "en": [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ],
    "es": [
        "enero",
        "febrero",
        "marzo",
        "abril",
        "mayo",
        "junio",
        "julio",
        "agosto",
        "septiembre",
        "octubre",
        "noviembre",
        "diciembre",
    ],
}


@cache
def template(name: str) -> Template:
    return Template(resources.files(__package__).joinpath("templates", name).read_text("utf-8"))


def local_date(notice: Notice) -> str:
    """The deadline's local date: "Monday, November 23" or "lunes 23 de noviembre"."""
    day, lang = notice.deadline_local, notice.language
    weekday, month = WEEKDAYS[lang][day.weekday()], MONTHS[lang][day.month - 1]
    if lang == "es":
        return f"{weekday} {day.day} de {month}"
    return f"{weekday}, {month} {day.day}"


def build(notice: Notice, sender: str, sender_name: str, id_domain: str) -> EmailMessage:
    if notice.kind in ACCOUNT_SUBJECTS:
        return _account_email(notice, sender, sender_name, id_domain)
    lang = notice.language
    values = {
        "name": notice.agent_first_name,
        "referral_id": notice.referral_id,
        "link": notice.link,
        "deadline": deadline_text(notice),
        "date": local_date(notice),
        "state": notice.consumer_state,
        "language": LANGUAGE_NAMES[lang].get(notice.consumer_language, notice.consumer_language),
    }
    message = EmailMessage()
    message["Subject"] = SUBJECTS[lang].format(deadline=values["deadline"])
    message["From"] = formataddr((sender_name, sender))
    message["To"] = notice.to
    message["Date"] = format_datetime(notice.sent_at)
    # Unique per attempt, and says which referral and attempt it carries.
    message["Message-ID"] = make_msgid(
        idstring=f"{notice.referral_id}.{notice.attempt}", domain=id_domain
    )
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no auto-replies, please
    message["X-HOD-Referral"] = notice.referral_id
    return _with_body(message, "offer", lang, values)


def _with_body(message: EmailMessage, kind: str, lang: str, values: dict) -> EmailMessage:
    message.set_content(template(f"{kind}.{lang}.txt").substitute(values))
    escaped = {key: html.escape(str(value)) for key, value in values.items()}
    message.add_alternative(template(f"{kind}.{lang}.html").substitute(escaped), subtype="html")
    # After the parts exist: making the message multipart moves Content-* headers into them.
    message["Content-Language"] = lang
    return message


def _account_email(notice: Notice, sender: str, sender_name: str, id_domain: str) -> EmailMessage:
    """An invitation (R1) or a password reset: the link, how long it lasts, the user name."""
    lang = notice.language
    hours = round((notice.deadline - notice.sent_at).total_seconds() / 3600)
    values = {"name": notice.agent_first_name, "link": notice.link, "hours": hours}
    values["login"] = notice.login or ""
    message = EmailMessage()
    message["Subject"] = ACCOUNT_SUBJECTS[notice.kind][lang]
    message["From"] = formataddr((sender_name, sender))
    message["To"] = notice.to
    message["Date"] = format_datetime(notice.sent_at)
    message["Message-ID"] = make_msgid(idstring=f"{notice.kind}.{notice.attempt}", domain=id_domain)
    message["Auto-Submitted"] = "auto-generated"
    return _with_body(message, notice.kind, lang, values)
