"""`/metrics` in the Prometheus text format, counted from the audit trail (L11).

The sweep reads the events appended since it last looked (a bounded batch
per second) and counts them: referrals created, offers made, accepted,
rejected and missed, referrals unmatched, notices sent and failed by channel,
and the time from an offer to its accept as a histogram. Counting the trail
instead of instrumenting the router means every change is counted once, by
whichever process made it, and a restarted process counts the whole history
again: the totals are the store's, not the process's (so do not sum them
over several processes on one store). Waiting referrals are read from the
store when scraped. Events carry no contact data, and neither do the labels.
"""

from __future__ import annotations

import threading
from datetime import datetime

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.exposition import CONTENT_TYPE_LATEST

disable_created_metrics()  # no *_created series: they double the page and say little here

BATCH = 2000  # events per sweep: catching up on a long history never stalls a second
ACCEPT_BUCKETS = (5, 15, 30, 60, 120, 300, 600, 900, float("inf"))
_OFFER_OUTCOMES = {
    "offer.made": "made",
    "offer.accepted": "accepted",
    "offer.rejected": "rejected",
    "offer.missed": "missed",
}
CONTENT_TYPE = CONTENT_TYPE_LATEST


class Metrics:
    """The counters of one server process, fed from the store's events."""

    def __init__(self, read_events, count_waiting):
        self._read_events = read_events  # the hod_store_events hook
        self._lock = threading.Lock()
        self._seen = 0  # the last event seq counted
        self._offered_at: dict[tuple[str, str], datetime] = {}  # Pending offers' start
        self.registry = registry = CollectorRegistry(auto_describe=True)
        self.created = Counter(
            "hod_referrals_created",
            "Get Contacted requests that became referrals (L1)",
            registry=registry,
        )
        self.offers = Counter(
            "hod_offers",
            "Offers by outcome: made, accepted, rejected, missed",
            ["outcome"],
            registry=registry,
        )
        self.unmatched = Counter(
            "hod_referrals_unmatched",
            "Referrals that ended with nobody eligible (L10)",
            registry=registry,
        )
        self.notices = Counter(
            "hod_notifications",
            "Notification attempts by channel and result (sent, failed)",
            ["channel", "result"],
            registry=registry,
        )
        self.time_to_accept = Histogram(
            "hod_time_to_accept_seconds",
            "From an offer to its accept (L3)",
            buckets=ACCEPT_BUCKETS,
            registry=registry,
        )
        waiting = Gauge(
            "hod_referrals_waiting",
            "Referrals waiting for an eligible agent (L10)",
            registry=registry,
        )
        waiting.set_function(lambda: len(count_waiting()))
        for outcome in _OFFER_OUTCOMES.values():
            self.offers.labels(outcome)  # present at 0 before the first one
        for channel in ("email", "text", "app"):
            for result in ("sent", "failed"):
                self.notices.labels(channel, result)

    def catch_up(self, batches: int = 1) -> int:
        """Count up to `batches` * BATCH new events; how many were counted."""
        counted = 0
        with self._lock:
            for _ in range(batches):
                events = self._read_events(referral_id=None, after=self._seen, limit=BATCH)
                for event in events:
                    self._count(event)
                    self._seen = event.seq
                counted += len(events)
                if len(events) < BATCH:
                    break
        return counted

    def _count(self, event) -> None:
        kind = event.kind
        outcome = _OFFER_OUTCOMES.get(kind)
        if outcome is not None:
            self.offers.labels(outcome).inc()
            key = (event.referral_id, event.npn)
            if kind == "offer.made":
                self._offered_at[key] = event.at
            else:
                offered_at = self._offered_at.pop(key, None)
                if kind == "offer.accepted" and offered_at is not None:
                    self.time_to_accept.observe((event.at - offered_at).total_seconds())
        elif kind == "referral.created":
            self.created.inc()
        elif kind == "referral.unmatched":
            self.unmatched.inc()
        elif kind in ("notify.sent", "notify.failed"):
            channel = str(event.detail.get("channel", "?"))
            self.notices.labels(channel, kind.partition(".")[2]).inc()

    def render(self) -> bytes:
        """The text page, after counting what the sweep has not yet (tests run no sweep)."""
        self.catch_up(batches=10)
        return generate_latest(self.registry)
