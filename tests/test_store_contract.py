"""The router's side of the store contract (`hookspecs.StoreAdapter`): it
refuses a store without `durable` or `close`, and `Router.close` closes the store."""

from __future__ import annotations

import pytest

from hod_core import ConfigurationError, MemoryStore, Router
from hod_core.testing import FakeClock, Outbox, samples


class CountingStore(MemoryStore):
    def __init__(self):
        super().__init__()
        self.closed = 0

    def close(self) -> None:
        self.closed += 1


class NoLifecycle:
    """Every store hook (by delegation), but no `durable` and no `close`."""

    def __init__(self):
        store = MemoryStore()
        for name in dir(store):
            if name.startswith("hod_store_"):
                setattr(self, name, getattr(store, name))


def test_a_store_without_durable_or_close_is_refused_at_start_up():
    with pytest.raises(ConfigurationError, match="has no durable or close"):
        Router([NoLifecycle(), FakeClock(samples.START), Outbox()])


def test_router_close_closes_the_store_after_recording_the_notices():
    store, outbox = CountingStore(), Outbox()
    router = Router([store, FakeClock(samples.START), outbox])  # delivery on worker threads
    router.put_agent(samples.agent("1", "77002"))
    referral = router.request_contact(samples.CONSUMER)
    router.close()
    assert store.closed == 1
    kinds = [e.kind for e in store.hod_store_events(referral_id=referral.id, after=0, limit=50)]
    assert "notify.sent" in kinds  # written before the store was closed
    router.close()  # harmless: the store's close is idempotent by contract
    assert store.closed == 2
