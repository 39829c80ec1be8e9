"""The event log by referral, indexed in batches.

A referral's events are read back by referral: its audit trail, and whether
an offer's notice reached its agent (L9, `offers.py`). An index of the log
by referral would cost 1.4 WAL pages a commit, about 12 us a referral: every
commit appends events, and each would write a page of that index too. So the
log is indexed in batches: `event_refs` (referral, seq) holds every event up
to the mark (`event_refs_upto`). A store looks at the mark on opening and
every CHECK_EVERY events it appends, and then indexes the events past it if
they are BATCH or more, in the same transaction, so the mark and the index
never disagree. A read takes a referral's events from the index, and those
past the mark from the end of the log: fewer than BATCH, plus CHECK_EVERY
for each store writing at the time.
"""

from __future__ import annotations

import sqlite3

from .listings import EVENT_COLUMNS

BATCH = 256  # events past the mark that are indexed at once
CHECK_EVERY = 64  # events a store appends between two looks at the mark

# The schema step that replaces the index on the log (see store.MIGRATIONS).
EVENT_REFS_SCHEMA = """
CREATE TABLE event_refs (
    referral_id TEXT NOT NULL,
    seq         INTEGER NOT NULL,
    PRIMARY KEY (referral_id, seq)
) WITHOUT ROWID;
CREATE TABLE event_refs_upto (seq INTEGER NOT NULL);  -- one row: the mark
INSERT INTO event_refs SELECT referral_id, seq FROM events WHERE referral_id IS NOT NULL;
INSERT INTO event_refs_upto SELECT coalesce(max(seq), 0) FROM events;
DROP INDEX events_by_referral;
"""

_UPTO = "(SELECT seq FROM event_refs_upto)"

# The events of referral ?1 after seq ?2, oldest first, at most ?3.
OF_REFERRAL = (
    f"SELECT {EVENT_COLUMNS} FROM events"
    " WHERE seq IN (SELECT seq FROM event_refs WHERE referral_id = ?1 AND seq > ?2)"
    f" UNION ALL SELECT {EVENT_COLUMNS} FROM events"
    f" WHERE seq > max(?2, {_UPTO}) AND referral_id = ?1"
    " ORDER BY seq LIMIT ?3"
)

# Did offer `o`'s notice reach agent ?1 (a notify.sent event of its referral
# and agent)? Past the mark, the agent's notices are listed once per query.
DELIVERED = (
    "(EXISTS (SELECT 1 FROM event_refs r JOIN events e ON e.seq = r.seq"
    " WHERE r.referral_id = o.referral_id AND e.npn = ?1 AND e.kind = 'notify.sent')"
    f" OR o.referral_id IN (SELECT referral_id FROM events WHERE seq > {_UPTO}"
    " AND npn = ?1 AND kind = 'notify.sent'))"
)


def index_past(db: sqlite3.Connection, last: int) -> None:
    """Index the log's events past the mark if they are BATCH or more (inside
    a write transaction). `last`: the log's last seq."""
    (mark,) = db.execute("SELECT seq FROM event_refs_upto").fetchone()
    if last - mark >= BATCH:
        db.execute(
            "INSERT INTO event_refs SELECT referral_id, seq FROM events"
            " WHERE seq > ? AND referral_id IS NOT NULL",
            (mark,),
        )
        db.execute("UPDATE event_refs_upto SET seq = ?", (last,))
