"""The listing hooks (hod_core.extend.hookspecs, "listings for operators") on
PostgreSQL: a mix-in of `PostgresStore`. Its schema step (schema.py, version
2) adds the indexes that keep each page one index range: referrals by
creation (all, or of one status) and events by kind."""

from __future__ import annotations

from collections.abc import Sequence

from hod_core import Event, Referral, hookimpl, structure

EVENT_COLUMNS = "seq, at, kind, referral_id, npn, actor, rule, detail"


def referral_of(body: dict, consumer: dict | None) -> Referral:
    """A referral from its row's body and its `referral_contacts` row, if any."""
    body["consumer"] = consumer
    return structure(body, Referral)


def event_of(row: tuple) -> Event:
    """An `events` row (EVENT_COLUMNS) as the record."""
    seq, at, kind, referral_id, npn, actor, rule, detail = row
    return Event(at, kind, referral_id, npn, actor, rule, detail, seq)


class PostgresListings:
    @hookimpl
    def hod_store_referrals(
        self, status: str | None, before: str | None, limit: int
    ) -> list[Referral]:
        where = ["TRUE"]
        if status is not None:
            where.append("r.status = %(status)s")
        if before is not None:  # an unknown id: the subquery is NULL, the page empty
            where.append(
                "(r.created_at, r.id) < ((SELECT created_at FROM referrals WHERE id = %(before)s),"
                " %(before)s)"
            )
        rows = self.db.read(
            lambda conn: conn.execute(
                "SELECT r.body, c.consumer FROM referrals r"
                " LEFT JOIN referral_contacts c ON c.referral_id = r.id"
                f" WHERE {' AND '.join(where)} ORDER BY r.created_at DESC, r.id DESC LIMIT %(limit)s",
                {"status": status, "before": before, "limit": limit},
            ).fetchall()
        )
        return [referral_of(body, consumer) for body, consumer in rows]

    @hookimpl
    def hod_store_events_of_kind(
        self, kinds: Sequence[str], before: int | None, limit: int
    ) -> list[Event]:
        bound = "" if before is None else " AND seq < %(before)s"
        rows = self.db.read(
            lambda conn: conn.execute(
                f"SELECT {EVENT_COLUMNS} FROM events WHERE kind = ANY(%(kinds)s){bound}"
                " ORDER BY seq DESC LIMIT %(limit)s",
                {"kinds": list(kinds), "before": before, "limit": limit},
            ).fetchall()
        )
        return [event_of(row) for row in rows]
