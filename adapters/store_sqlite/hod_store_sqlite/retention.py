"""Personal-data retention (P2) on the SQLite file: a mix-in of `SqliteStore`.

A referral holds its consumer's contact data until the sweep erases it,
`contact_retention_days` after the referral ended. The erasure itself is an
ordinary commit (the record without `consumer`); what this module adds:

- `closed_at`, a column set while a final referral still holds contact
  data (NULL otherwise), indexed, so the sweep finds what is due with one
  index range however long the history (`hod_store_erasable`);
- bytes gone, not just rows: every connection runs with `secure_delete`,
  so SQLite zeroes the space a replaced record leaves in its page, and
  `hod_store_scrub` checkpoints the WAL into the file and truncates it, so
  no earlier page image with the contact data survives in the `-wal` file.
  A reader holding the WAL open can keep the checkpoint from finishing; the
  store then finishes it at the next sweep's checkpoint.
"""

from __future__ import annotations

from datetime import datetime

from hod_core import hookimpl

from .instants import instant

# The schema step that adds the column and its index (see store.MIGRATIONS).
# Referrals that ended before it count from their last status event: the
# moment they ended; their bodies gain `closed_at`.
RETENTION_SCHEMA = """
ALTER TABLE referrals ADD COLUMN closed_at TEXT;
CREATE INDEX referrals_erasable ON referrals (closed_at) WHERE closed_at IS NOT NULL;
UPDATE referrals SET closed_at = coalesce(
    (SELECT max(at) FROM events e WHERE e.referral_id = referrals.id
        AND e.kind IN ('referral.status', 'referral.unmatched')),
    created_at)
    WHERE status IN ('completed', 'not_a_good_referral', 'unmatched');
UPDATE referrals SET body = json_set(body, '$.closed_at', closed_at) WHERE closed_at IS NOT NULL;
"""


class SqliteRetention:
    _scrub_owed = False  # a TRUNCATE checkpoint a reader kept from finishing

    @hookimpl
    def hod_store_erasable(self, closed_before: datetime, limit: int) -> list[str]:
        rows = self._db.execute(
            "SELECT id FROM referrals WHERE closed_at IS NOT NULL AND closed_at <= ?"
            " ORDER BY closed_at LIMIT ?",
            (instant(closed_before), limit),
        )
        return [rid for (rid,) in rows]

    @hookimpl
    def hod_store_scrub(self) -> None:
        # Parsed bodies kept in this process may hold contact data: let them go.
        self._latest.clear()
        self._checkpoint("TRUNCATE")

    def _checkpoint(self, mode: str = "PASSIVE") -> None:
        """Copy the WAL into the file; TRUNCATE also empties it (see the module)."""
        if self._scrub_owed:
            mode = "TRUNCATE"
        busy, _, _ = self._db.execute(f"PRAGMA wal_checkpoint({mode})").fetchone()
        self._scrub_owed = mode == "TRUNCATE" and bool(busy)


def closed_column(referral) -> str | None:
    """The `closed_at` column: set while a final referral holds contact data."""
    if referral.final and referral.consumer is not None:
        return instant(referral.closed_at or referral.created_at)
    return None
