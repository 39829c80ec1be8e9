"""The listing hooks (hod_core.hookspecs, "listings for operators") on the
SQLite file: a mix-in of `SqliteStore`, reading through its connections.
Its schema steps add the indexes that keep each page a few index ranges:
referrals by status and creation, and events of rare kinds."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import orjson

from hod_core.hookspecs import hookimpl
from hod_core.referrals import Event, Referral, ReferralStatus

# The schema step that adds these indexes (see store.MIGRATIONS).
LISTINGS_SCHEMA = """
CREATE INDEX referrals_by_created ON referrals (created_at, id);
CREATE INDEX referrals_by_status ON referrals (status, created_at, id);
CREATE INDEX events_by_kind ON events (kind, seq);
"""
# Kinds logged for (nearly) every referral or agent. An index of every event
# by kind cost two or three page writes per commit (each kind is a region of
# it), a sixth of the WAL: only the other kinds are indexed (what operators
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
# table for a list of ten constants every time it tests one, which made each
# event's insert cost twice as much (measured: 8.0 -> 4.7 us for a commit's two).
_NOT_FREQUENT = " AND ".join(f"kind <> '{kind}'" for kind in FREQUENT_KINDS)
# The schema step that narrows the index (see store.MIGRATIONS). A query
# carrying the same term, word for word, is one SQLite may answer with it.
RARE_KINDS_INDEX = f"CREATE INDEX events_of_rare_kind ON events (kind, seq) WHERE {_NOT_FREQUENT};"
RARE_KINDS_SCHEMA = f"DROP INDEX events_by_kind;\n{RARE_KINDS_INDEX}"
# The schema step that rewrites that index's condition as a chain of `<>`.
RARE_KINDS_CHAIN = f"DROP INDEX events_of_rare_kind;\n{RARE_KINDS_INDEX}"
# The schema step that leaves referrals indexed by status only: an index by
# creation as well was one more WAL page per commit. Every status's newest
# are one range of the by-status index each; a listing of all merges them.
BY_STATUS_ONLY = "DROP INDEX IF EXISTS referrals_by_created;"
# Offered and waiting referrals are the ones in motion: few (each is due
# within the wait limit), and every one is in the due index (its offer's
# expiry, its wait's end; store.py), waiting ones in their own index too.
# Left out of the by-status index, a referral that is offered and accepted
# writes that index once (accepted in), not three times (offered in, offered
# out, accepted in): 1.2 WAL pages a referral fewer. Their listings read the
# waiting index, or the due index and sort what it holds.
IN_MOTION = ("offered", "waiting")
_SETTLED = " AND ".join(f"status <> '{status}'" for status in IN_MOTION)
# The schema step that narrows the index (see store.MIGRATIONS).
BY_STATUS_SETTLED = f"""
DROP INDEX referrals_by_status;
CREATE INDEX referrals_by_status ON referrals (status, created_at, id) WHERE {_SETTLED};
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


# Each status's page, read through its index: the term of a partial index
# word for word, so SQLite may use it.
_WHERE_SETTLED = f" WHERE status = ? AND {_SETTLED}"
_WHERE_STATUS = {
    "waiting": " WHERE status = 'waiting'",  # referrals_waiting (schema.py)
    "offered": " INDEXED BY referrals_due WHERE status = 'offered' AND due_at IS NOT NULL",
}


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
        # One index range per status, merged (see BY_STATUS_ONLY, BY_STATUS_SETTLED).
        statuses = [status] if status is not None else [s.value for s in ReferralStatus]
        pages, params = [], []
        for each in statuses:
            pages.append(
                "SELECT * FROM (SELECT id, version, body, created_at"
                f" FROM referrals{_WHERE_STATUS.get(each, _WHERE_SETTLED)}{after}"
                " ORDER BY created_at DESC, id DESC LIMIT ?)"
            )
            params += [*([] if each in _WHERE_STATUS else [each]), *cursor, limit]
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
