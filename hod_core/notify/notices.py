"""What agents are told: offer notices (L2) and the missed-referral alert (L8).

A notice goes to the agent, so it may carry the agent's own address, but
never the consumer's name, phone or email: only a reference, a link, the
consumer's state and language, and the deadline (in UTC and in the agent's
own zone, so a template can print "accept by 10:15 AM CST").
"""

from __future__ import annotations

from datetime import datetime, timedelta

from attrs import frozen

NOTICE_LANGUAGES = ("en", "es")  # templates exist in these; others read English
# An offer (L2); the registration test text (R4); the reference server's
# account emails: a registration link (R1) and a password reset link.
NOTICE_KINDS = ("offer", "test", "invitation", "reset")


@frozen
class Notice:
    """One notification for one channel: an offer, or the registration test.

    `attempt` and `sent_at` (the clock's instant of this attempt) change on a
    retry; everything else stays, so an adapter can derive a stable id from
    `referral_id`, `channel` and `attempt`. The referral fields are None on a
    registration test. An invitation or reset carries its single-use `link`
    and its expiry as `deadline`.
    """

    kind: str  # one of NOTICE_KINDS
    channel: str  # a registered channel: "email", "text", "app" or an adapter's
    to: str  # the agent field the channel names: email (email), E.164 phone (text), NPN (app)
    npn: str
    agent_first_name: str
    language: str  # the agent's first language among NOTICE_LANGUAGES, else "en"
    sent_at: datetime  # UTC, this attempt
    attempt: int = 1
    referral_id: str | None = None
    link: str | None = None
    consumer_state: str | None = None
    consumer_language: str | None = None
    deadline: datetime | None = None  # UTC
    deadline_local: datetime | None = None  # the same instant in the agent's zone
    login: str | None = None  # the account's user name (reset: "Forgot Username?", seed 001)


def notice_language(languages: tuple[str, ...]) -> str:
    return next((lang for lang in languages if lang in NOTICE_LANGUAGES), "en")


def deadline_text(notice: Notice) -> str:
    """The accept deadline as the agent reads it: "10:15 AM CST" or "10:15 a. m. CST"."""
    local = notice.deadline_local
    hour = local.hour % 12 or 12
    half = ("AM", "PM") if notice.language != "es" else ("a. m.", "p. m.")
    return f"{hour}:{local.minute:02d} {half[local.hour >= 12]} {local.tzname()}"


def missed_alert(missed: int, lookback: timedelta, window: timedelta, language: str) -> str | None:
    """L8, in the seed's words (seed 002): shown only when something was missed."""
    if missed <= 0:
        return None
    days = lookback.days
    minutes = int(window.total_seconds() // 60)
    plural = "s" if missed != 1 else ""
    if language == "es":
        return (
            f"¡Alerta! Ha perdido {missed} referido{plural} en los últimos {days} días. "
            f"Como recordatorio, debe aceptar un referido en {minutes} minutos después de "
            "recibir su notificación. Los referidos perdidos se envían al siguiente agente "
            "o corredor disponible de Help On Demand."
        )
    return (
        f"Alert! You have missed {missed} referral{plural} in the last {days} days. "
        f"As a reminder, you must accept a referral within {minutes} minutes of receiving "
        "your notification. Missed referrals are sent to the next available Help On Demand "
        "agent or broker."
    )
