"""A process killed with SIGKILL mid-offer loses nothing and duplicates nothing."""

from __future__ import annotations

import random
from collections import Counter
from datetime import datetime, timedelta

import pytest

from hod_core import OfferStatus, ReferralStatus, Router
from hod_core.testing import FakeClock, Outbox
from hod_store_sqlite import SqliteStore


def check_invariants(router: Router, referral_ids) -> None:
    """Every referral whole: one offer per agent, Pending only last, one event per change."""
    for rid in referral_ids:
        referral = router.referral(rid)
        npns = [o.npn for o in referral.offers]
        assert len(npns) == len(set(npns)), f"{rid}: an agent offered twice"
        assert all(o.status is not OfferStatus.PENDING for o in referral.offers[:-1])
        assert (referral.status is ReferralStatus.OFFERED) == (referral.pending_offer is not None)
        kinds = Counter(e.kind for e in router.events(rid))
        assert kinds["referral.created"] == 1
        assert kinds["offer.made"] == len(referral.offers)
        assert kinds["offer.missed"] == sum(o.status is OfferStatus.MISSED for o in referral.offers)
    seqs = [e.seq for e in router.events(limit=1_000_000)]
    assert len(seqs) == len(set(seqs))


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_kill_9_mid_offer_then_restart(router, spawn, db_path, seed):
    acknowledged = []
    churn = spawn()
    churn.send("churn", router.now().isoformat())
    for _ in range(random.Random(seed).randrange(15, 40)):
        acknowledged.append(churn.readline())
    churn.stop()  # SIGKILL: wherever it was, mid-transaction included

    restarted_clock = FakeClock(datetime.fromisoformat("2026-11-23T23:00:00+00:00"))
    restarted = Router([SqliteStore(db_path), restarted_clock, Outbox()])
    for rid in acknowledged:  # nothing lost: every id the worker reported is stored
        restarted.referral(rid)
    all_ids = {e.referral_id for e in restarted.events(limit=1_000_000) if e.referral_id}
    check_invariants(restarted, all_ids)

    report = restarted.tick()  # the offers that expired while nobody ran
    assert report.expired >= 1
    assert restarted.plugins.hook.hod_store_due(now=restarted_clock.at, limit=10) == []
    check_invariants(restarted, all_ids)
    for rid in all_ids:
        for offer in restarted.referral(rid).offers:
            if offer.status is OfferStatus.MISSED:
                assert offer.answered_at == offer.expires_at
                assert offer.expires_at - offer.offered_at == timedelta(minutes=15)
