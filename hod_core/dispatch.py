"""Sending offer notices (L2) and keeping the outcomes for the audit trail.

One notice per channel of the agent's contact method, each on its own: a
channel that raises is recorded (`notify.failed`, with the error's type, never
its message, which may hold an address) and the next one still goes; a
channel the deployment does not send on is recorded as `notify.skipped`.

Outcomes are not written at once: they ride with the router's next commit, or
`take()`n by a flush. A transaction of their own per offer cost a third of the
referral rate on SQLite; a process killed in between loses the record of a
notice, never a referral or an offer.
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime
from zoneinfo import ZoneInfo

from .hookspecs import CHANNEL_HOOKS
from .models import Agent
from .notices import Notice, notice_language
from .referrals import Event, Offer, Referral

log = logging.getLogger(__name__)


class Dispatcher:
    """Offer notices out through the channel hooks; outcomes kept as events."""

    def __init__(self, hook, channels: tuple[str, ...], link_base: str):
        # Every sender of a channel gets the notice, each on its own: one that
        # raises does not keep the notice from the next (pluggy's call would).
        self._senders = {
            channel: [impl.function for impl in getattr(hook, name).get_hookimpls()]
            for channel, name in CHANNEL_HOOKS.items()
        }
        self.channels = channels
        self.link_base = link_base
        self._outcomes: list[Event] = []
        self._lock = threading.Lock()

    def offer(self, referral: Referral, offer: Offer, agent: Agent, zone: str) -> None:
        """Notify `agent` of `offer` on every channel of its contact method."""
        deadline_local = offer.expires_at.astimezone(ZoneInfo(zone))
        outcomes = []
        for channel in agent.contact_method.channels:
            kind, error = self._send(channel, agent, referral, offer, deadline_local)
            detail = {"channel": channel} if error is None else {"channel": channel, "error": error}
            outcomes.append(
                Event(offer.offered_at, kind, referral.id, offer.npn, rule="L2", detail=detail)
            )
        with self._lock:
            self._outcomes.extend(outcomes)

    def _send(
        self, channel: str, agent: Agent, referral: Referral, offer: Offer, deadline_local: datetime
    ) -> tuple[str, str | None]:
        """One channel's notice: the outcome's event kind, and the error's type."""
        if channel not in self.channels:
            return "notify.skipped", None
        notice = Notice(
            kind="offer",
            channel=channel,
            to={"email": agent.email, "text": agent.phone}.get(channel, agent.npn),
            npn=agent.npn,
            agent_first_name=agent.first_name,
            language=notice_language(agent.languages),
            referral_id=referral.id,
            link=f"{self.link_base}{referral.id}",
            consumer_state=referral.state,
            consumer_language=referral.consumer.language,
            deadline=offer.expires_at,
            deadline_local=deadline_local,
        )
        error = None
        for send in self._senders[channel]:
            try:
                send(notice=notice)
            except Exception as exc:  # a failing channel never blocks the others (L2)
                error = error or type(exc).__name__
                log.warning(
                    "referral %s: %s notice to agent %s failed: %s",
                    referral.id,
                    channel,
                    agent.npn,
                    type(exc).__name__,
                )
        return ("notify.sent", None) if error is None else ("notify.failed", error)

    def take(self) -> list[Event]:
        """The outcomes not yet written, handed over (to a commit or a flush)."""
        with self._lock:
            taken, self._outcomes = self._outcomes, []
        return taken

    def put_back(self, events: list[Event]) -> None:
        """Return outcomes a refused commit did not write, ahead of newer ones."""
        with self._lock:
            self._outcomes[:0] = events
