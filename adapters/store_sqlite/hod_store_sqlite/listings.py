"""The listing hooks (hod_core.extend.hookspecs, "listings for operators") on the
SQLite file: a mix-in of `SqliteStore`, reading through its connections.
Its schema steps add the indexes that keep each page a few index ranges:
referrals by status and creation, and events of rare kinds."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import orjson

from hod_core import Event, Referral, ReferralStatus, hookimpl

# The schema step that adds these indexes (see store.MIGRATIONS).
LISTINGS_SCHEMA = """
CREATE INDEX referrals_by_created ON referrals (created_at, id);
CREATE INDEX referrals_by_status ON referrals (status, created_at, id);
CREATE INDEX events_by_kind ON events (kind, seq);
"""
# Kinds logged for (nearly) every referral or agent. An index of every event
# by kind would cost two or three page writes per commit (each kind is a
# region of it), a sixth of the WAL: only the other kinds are indexed (what operators
# look for: failed notices, suspensions, unmatched referrals). A page of a
# frequent kind is found by reading the log back from its end, where such
# events are dense.
FREQUENT_KINDS = (
    "agent.saved",
    "notify.sent",
    "offer.accepted",
    "offer.made",
    "offer.missed",
    "offer.rejected",
    "referral.contact_erased",
    "referral.created",
    "referral.status",
    "referral.waiting",
)
# Written as a chain of `<>`, not `NOT IN (...)`: SQLite builds a throwaway
# table for a list of ten constants every time it tests one, which would
# nearly double the cost of each event's insert.
_NOT_FREQUENT = " AND ".join(f"kind <> '{kind}'" for kind in FREQUENT_KINDS)
# The schema step that narrows the index (see store.MIGRATIONS). A query
# carrying the same term, word for word, is one SQLite may answer with it.
RARE_KINDS_INDEX = f"CREATE INDEX events_of_rare_kind ON events (kind, seq) WHERE {_NOT_FREQUENT};"
RARE_KINDS_SCHEMA = f"DROP INDEX events_by_kind;\n{RARE_KINDS_INDEX}"
# The schema step that rewrites that index's condition as a chain of `<>`.
RARE_KINDS_CHAIN = f"DROP INDEX events_of_rare_kind;\n{RARE_KINDS_INDEX}"
# The schema step that leaves referrals indexed by status only: an index by
# creation as well would be one more WAL page per commit. Every status's newest
# are one range of the by-status index each; a listing of all merges them.
BY_STATUS_ONLY = "DROP INDEX IF EXISTS referrals_by_created;"
# Referrals in motion have a due time (an offered one its offer's expiry, a
# waiting one its wait's end, an accepted one its contact deadline until
# its first status update; store.py) and are all in the due index: few, the
# last hour's. Only the settled (no due time) are in the by-status index, so
# the two indexes split the referrals between them, and a referral offered
# and accepted writes the by-status index not at all (an index of every
# referral would be written three times: offered in, offered out, accepted
# in). A list reads one range of the by-status index per status and the due
# index, sorting what it holds.
SETTLED = "due_at IS NULL"
# The schema step that narrows the index (see store.MIGRATIONS).
BY_STATUS_SETTLED = f"""
DROP INDEX referrals_by_status;
CREATE INDEX referrals_by_status ON referrals (status, created_at, id) WHERE {SETTLED};
"""
# Events as the store reads them back, here and in `hod_store_events`.
EVENT_COLUMNS = "seq, at, kind, referral_id, npn, actor, rule, detail"


def event_of_row(row: tuple) -> Event:
    """An event from a row of EVENT_COLUMNS."""
    seq, at, kind, referral_id, npn, actor, rule, detail = row
    return Event(
        at=datetime.fromisoformat(at),
        kind=kind,
        referral_id=referral_id,
        npn=npn,
        actor=actor,
        rule=rule,
        detail=orjson.loads(detail),
        seq=seq,
    )


# A list's parts, each read through its index (a partial index's term word
# for word, so SQLite may use it).
_COLUMNS = "SELECT * FROM (SELECT id, version, body, created_at FROM referrals"
_SETTLED_PAGE = f"{_COLUMNS} WHERE status = ? AND {SETTLED}"
_MOVING_PAGE = f"{_COLUMNS} INDEXED BY referrals_due WHERE due_at IS NOT NULL"
_NEWEST = " ORDER BY created_at DESC, id DESC LIMIT ?)"


class SqliteListings:
    @hookimpl
    def hod_store_referrals(
        self, status: str | None, before: str | None, limit: int
    ) -> list[Referral]:
        after, cursor = "", []
        if before is not None:
            row = self._db.execute(
                "SELECT created_at FROM referrals WHERE id = ?", (before,)
            ).fetchone()
            if row is None:
                return []
            after, cursor = " AND (created_at, id) < (?, ?)", [row[0], before]
        # One range of the by-status index per status, and the due index
        # (see BY_STATUS_SETTLED), merged.
        statuses = [status] if status is not None else [s.value for s in ReferralStatus]
        pages = [f"{_SETTLED_PAGE}{after}{_NEWEST}"] * len(statuses)
        params = [v for each in statuses for v in (each, *cursor, limit)]
        of_status = "" if status is None else " AND status = ?"
        pages.append(f"{_MOVING_PAGE}{of_status}{after}{_NEWEST}")
        params += [*([] if status is None else [status]), *cursor, limit]
        rows = self._db.execute(
            f"{' UNION ALL '.join(pages)} ORDER BY created_at DESC, id DESC LIMIT ?",
            [*params, limit],
        )
        return [self._known(referral_id, version, body) for referral_id, version, body, _ in rows]

    @hookimpl
    def hod_store_events_of_kind(
        self, kinds: Sequence[str], before: int | None, limit: int
    ) -> list[Event]:
        if not kinds:
            return []
        marks = ", ".join("?" for _ in kinds)
        bound = "" if before is None else " AND seq < ?"
        rare = "" if set(kinds) & set(FREQUENT_KINDS) else f" AND {_NOT_FREQUENT}"
        params = [*kinds, *([] if before is None else [before]), limit]
        rows = self._db.execute(
            f"SELECT {EVENT_COLUMNS} FROM events WHERE kind IN ({marks}){rare}{bound}"
            " ORDER BY seq DESC LIMIT ?",
            params,
        )
        return [event_of_row(row) for row in rows]
