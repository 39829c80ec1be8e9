"""The referrals' offers again, by agent: E12's count, the ranking's
tie-break and an agent's history (a mix-in of `SqliteStore`, reading
through its connections; its commits write the rows, `write_offers`).

One b-tree answers all three: the offers table's key is (npn, pending,
offered_at, referral_id). An agent's Pending offers are one short range of
it (E12 counts them), their last offer is the end of one of two ranges (the
tie-break), and their history newest first merges the two ranges. An index
of Pending offers beside the table would be one more WAL page in every
commit; with `pending` in the key, an answer moves its row within the
agent's region of the table, most often on the same page.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from datetime import datetime

from hod_core import AgentOffer, Offer, OfferStats, OfferStatus, hookimpl

from .event_refs import DELIVERED
from .instants import instant, moment

# The schema step that puts `pending` into the key and drops offers_pending
# (see schema.MIGRATIONS). Every offer is copied; a Pending one keeps its place
# in E12's count.
OFFERS_BY_PENDING = """
CREATE TABLE offers_by_pending (
    npn         TEXT NOT NULL,
    pending     INTEGER NOT NULL,      -- 1 while status is 'pending', else 0
    offered_at  TEXT NOT NULL,
    referral_id TEXT NOT NULL REFERENCES referrals (id),
    status      TEXT NOT NULL,
    expires_at  TEXT NOT NULL,
    answered_at TEXT,
    PRIMARY KEY (npn, pending, offered_at, referral_id),
    CHECK (pending = (status = 'pending'))
) WITHOUT ROWID;
INSERT INTO offers_by_pending
    SELECT npn, status = 'pending', offered_at, referral_id, status, expires_at, answered_at
    FROM offers;
DROP TABLE offers;
ALTER TABLE offers_by_pending RENAME TO offers;
"""

_COLUMNS = "npn, pending, offered_at, referral_id, status, expires_at, answered_at"
_INSERT = f"INSERT OR REPLACE INTO offers ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)"
# An offer answered or expired: its key changes (pending), so it is found by
# the key it was stored under.
# The agent and the referral stay: not setting them spares the foreign key's
# look-up of the referral.
_MOVE = (
    "UPDATE offers SET pending = ?, offered_at = ?, status = ?, expires_at = ?, answered_at = ?"
    " WHERE npn = ? AND pending = ? AND offered_at = ? AND referral_id = ?"
)
_PENDING = "SELECT count(*) FROM offers WHERE npn = ? AND pending = 1"


# The agents asked about, as a table `asked (npn)`. Up to LISTED_UP_TO of them
# are bound one by one (a statement per count, kept prepared: 1.6 us a call
# less than json_each); more go as one JSON array, so a long-running process
# holds at most LISTED_UP_TO + 1 texts of this statement, well inside the
# sqlite3 module's cache of 128 prepared statements (one text per count up to
# 500 would have it prepare them again and again).
LISTED_UP_TO = 16
_ASKED_LISTED = "WITH asked (npn) AS (VALUES {})"
_ASKED_JSON = "WITH asked (npn) AS (SELECT value FROM json_each(?))"
_STATS = (
    " SELECT npn,"
    " (SELECT count(*) FROM offers o WHERE o.npn = asked.npn AND o.pending = 1),"
    " (SELECT max(offered_at) FROM offers o WHERE o.npn = asked.npn AND o.pending = 1),"
    " (SELECT max(offered_at) FROM offers o WHERE o.npn = asked.npn AND o.pending = 0)"
    " FROM asked WHERE EXISTS (SELECT 1 FROM offers o WHERE o.npn = asked.npn)"
)


def _row(referral_id: str, offer: Offer) -> tuple:
    return (
        offer.npn,
        offer.status is OfferStatus.PENDING,
        instant(offer.offered_at),
        referral_id,
        offer.status.value,
        instant(offer.expires_at),
        instant(offer.answered_at),
    )


def write_offers(
    db: sqlite3.Connection, referral_id: str, stored: dict[str, Offer], changed: list[Offer]
) -> None:
    """Write a commit's new and changed offers (`stored`: npn -> as stored)."""
    new, moved, changes = [], [], []
    for offer in changed:
        before = stored.get(offer.npn)
        row = _row(referral_id, offer)
        if before is None:
            new.append(row)
        else:
            was = before.status is OfferStatus.PENDING, instant(before.offered_at)
            moved.append(row)
            changes.append((*row[1:3], *row[4:], offer.npn, *was, referral_id))
    if moved and db.executemany(_MOVE, changes).rowcount < len(moved):
        new += moved  # not stored as the body said: written anew
    if new:
        db.executemany(_INSERT, new)


def pending_count(db: sqlite3.Connection, npn: str) -> int:
    """E12: the agent's Pending offers, one short range of the key."""
    return db.execute(_PENDING, (npn,)).fetchone()[0]


class SqliteOffers:
    @hookimpl
    def hod_store_offer_stats(self, npns: Sequence[str]) -> dict[str, OfferStats]:
        # A seek per agent, whatever the length of their history; three more
        # for an agent offered anything. Only those come back: most agents
        # asked about have never been offered anything (about 12 us a call of
        # 6.7 agents, the mean in the lifecycle benchmark).
        if not npns:
            return {}
        if len(npns) <= LISTED_UP_TO:
            asked, values = _ASKED_LISTED.format(", ".join(["(?)"] * len(npns))), npns
        else:
            asked, values = _ASKED_JSON, (json.dumps(list(npns)),)
        stats = {}
        for npn, n, last_pending, last_answered in self._db.execute(asked + _STATS, values):
            last = max(last_pending or "", last_answered or "")
            stats[npn] = OfferStats(n, datetime.fromisoformat(last))
        return stats

    @hookimpl
    def hod_store_agent_offers(
        self, npn: str, since: datetime | None, limit: int | None
    ) -> list[AgentOffer]:
        # Delivered (L9): a notify.sent event of the offer, a seek into the
        # referral's few events (event_refs.py); derived from the log, so
        # nothing to keep in step.
        ranges = (
            "SELECT * FROM (SELECT referral_id, status, offered_at, expires_at, answered_at"
            f" FROM offers WHERE npn = ?1 AND pending = {pending} AND offered_at >= ?2"
            " ORDER BY offered_at DESC, referral_id DESC LIMIT ?3)"
            for pending in (1, 0)
        )
        rows = self._db.execute(
            f"SELECT referral_id, status, offered_at, expires_at, answered_at, {DELIVERED}"
            f" FROM ({' UNION ALL '.join(ranges)}) o"
            " ORDER BY offered_at DESC, referral_id DESC LIMIT ?3",
            (npn, "" if since is None else instant(since), -1 if limit is None else limit),
        )
        return [
            AgentOffer(
                referral_id,
                Offer(
                    npn,
                    moment(offered_at),
                    moment(expires_at),
                    OfferStatus(status),
                    moment(answered_at),
                ),
                bool(delivered),
            )
            for referral_id, status, offered_at, expires_at, answered_at, delivered in rows
        ]
