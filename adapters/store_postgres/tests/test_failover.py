"""The database restarts, goes away, or a process dies mid-commit: stores carry
on without being reopened, calls made while it is down fail cleanly, and
nothing committed is lost or doubled."""

from __future__ import annotations

import random
import time
from collections import Counter
from datetime import datetime

import pytest

from hod_core import OfferStatus, ReferralStatus, Router
from hod_core.testing import FakeClock, Outbox, samples
from hod_store_postgres import StoreUnavailable

PROMPTLY_S = 5.0


@pytest.fixture
def cluster(postgres_server):
    if postgres_server.cluster is None:
        pytest.skip("restarts only the throwaway cluster (HOD_TEST_POSTGRES_URL is set)")
    yield postgres_server.cluster
    if not postgres_server.cluster.running():  # a failed test leaves it up for the next
        postgres_server.cluster.start()


@pytest.mark.parametrize("mode", ["fast", "immediate"])
def test_after_a_restart_the_same_stores_carry_on(cluster, router, open_store, clock, mode):
    before = router.request_contact(samples.CONSUMER)
    other = open_store()
    cluster.restart(mode)  # immediate: as a crash, recovery at start-up
    after = router.request_contact(samples.CONSUMER)  # the pool finds its connections dead
    assert router.referral(before.id).status is ReferralStatus.OFFERED
    assert after.pending_offer is not None
    revision = other.hod_store_put_agent(agent=samples.agent("77", "77002"), events=[])
    [store] = [p for p in router.plugins.get_plugins() if hasattr(p, "feed")]
    # Heard by NOTIFY, or, if it came while the listener was reconnecting, by
    # the poll a reconnect forces: either way without waiting for agent_poll_s.
    deadline, seen = time.monotonic() + PROMPTLY_S, []
    while not seen and time.monotonic() < deadline:
        seen = [r for r, _ in store.hod_store_agents(after=revision - 1)]
    assert seen == [revision]


def test_while_the_database_is_down_calls_fail_cleanly_then_work_again(cluster, open_store, clock):
    router = Router([open_store(timeout_s="3"), clock, Outbox()], delivery_threads=0)
    router.put_agent(samples.agent("1", "77002"))
    cluster.stop()
    with pytest.raises(StoreUnavailable) as down:
        router.request_contact(samples.CONSUMER)
    assert "store_postgres:" in str(down.value) and "\n" not in str(down.value)
    cluster.start()
    referral = router.request_contact(samples.CONSUMER)
    assert referral.pending_offer.npn == "1"


@pytest.mark.parametrize("seed", [1, 2])
def test_kill_9_mid_commit_loses_and_doubles_nothing(router, spawn, open_store, pending_rows, seed):
    acknowledged = []
    churn = spawn()
    churn.send("churn", router.now().isoformat())
    for _ in range(random.Random(seed).randrange(15, 40)):
        acknowledged.append(churn.readline())
    churn.stop()  # SIGKILL: wherever it was, inside hod_commit included

    late = FakeClock(datetime.fromisoformat("2026-11-23T23:00:00+00:00"))
    restarted = Router([open_store(), late, Outbox()], delivery_threads=0)
    for rid in acknowledged:  # every id the worker reported is stored
        restarted.referral(rid)
    ids = {e.referral_id for e in restarted.events(limit=1_000_000) if e.referral_id}
    assert restarted.tick().expired >= 1  # what expired while nobody ran
    for rid in ids:
        referral = restarted.referral(rid)
        npns = [o.npn for o in referral.offers]
        assert len(npns) == len(set(npns)), f"{rid}: an agent offered twice"
        assert all(o.status is not OfferStatus.PENDING for o in referral.offers[:-1])
        kinds = Counter(e.kind for e in restarted.events(rid))
        assert kinds["referral.created"] == 1 and kinds["offer.made"] == len(referral.offers)
    loads = pending_rows()
    assert all(held == counted for held, counted in loads.values()), loads
