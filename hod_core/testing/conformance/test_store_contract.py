"""A store adapter is what `hookspecs.StoreAdapter` says: built by its factory
from settings, saying whether it lasts (`durable`), closing once and for all
(`close`), and saving agents in bulk (`hod_store_put_agents`)."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import pytest

from hod_core.domain.referrals import Event
from hod_core.errors import ConfigurationError
from hod_core.extend.hookspecs import STORE_HOOKS, StoreAdapter
from hod_core.extend.plugins import load_adapter
from hod_core.testing import samples
from hod_core.testing.samples import START

OPEN_FILES = Path("/proc/self/fd")  # Linux: one entry per open file, socket or pipe
RELEASE_S = 5.0  # how long a closed store's threads may take to let go of their connections


def is_store(adapter: object) -> bool:
    return callable(getattr(adapter, "hod_store_commit", None))


@pytest.fixture
def store(hod_adapter):
    if not is_store(hod_adapter):
        pytest.skip("not a store adapter")
    return hod_adapter


def test_the_factory_builds_a_store_with_every_hook_and_a_bool_durable(store):
    assert isinstance(store, StoreAdapter), "a store needs `durable` and `close()`"
    missing = [name for name in STORE_HOOKS if not callable(getattr(store, name, None))]
    assert not missing, f"a store must implement every store hook; missing: {missing}"
    assert type(store.durable) is bool, f"durable is {store.durable!r}, not True or False"


def test_the_factory_refuses_an_unknown_setting_naming_it(
    store, hod_adapter_name, hod_adapter_settings
):
    with pytest.raises(ConfigurationError, match="no_such_setting"):
        load_adapter(hod_adapter_name, {**hod_adapter_settings, "no_such_setting": "1"})


def _open_files() -> int:
    return len(os.listdir(OPEN_FILES))


def _use(store, npn: str) -> None:
    """Reads and writes that open whatever the store opens lazily."""
    store.hod_store_put_agent(agent=samples.agent(npn), events=[])
    assert [a.npn for _, a in store.hod_store_agents(after=0)][-1] == npn
    store.hod_store_events(referral_id=None, after=0, limit=10)


def test_close_releases_every_file_and_connection_and_a_second_close_does_nothing(
    store, hod_make_adapter
):
    if not OPEN_FILES.is_dir():
        pytest.skip(f"no {OPEN_FILES} here: open files cannot be counted")
    store.close()  # the fixture's own instance: out of the count
    before = _open_files()
    other = hod_make_adapter()
    _use(other, "1")
    used, done = threading.Event(), threading.Event()

    def serve_requests():  # a host's long-lived thread, with a connection of its own
        _use(other, "2")
        used.set()
        done.wait()

    worker = threading.Thread(target=serve_requests)
    worker.start()
    try:
        assert used.wait(RELEASE_S)
        other.close()
        deadline = time.monotonic() + RELEASE_S
        while _open_files() > before and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _open_files() <= before, "close() left files or connections open"
        other.close()
    finally:
        done.set()
        worker.join()


def test_agents_saved_in_bulk_read_back_with_new_revisions_and_their_events(store):
    first = store.hod_store_put_agent(agent=samples.agent("1"), events=[])
    two, three = samples.agent("2"), samples.agent("3", suspended=True)
    two_again = samples.agent("2", zip_code="77005")
    imported = [Event(START, "agent.imported", npn=npn) for npn in ("2", "3")]
    last = store.hod_store_put_agents(agents=[two, three, two_again], events=imported)
    saved = list(store.hod_store_agents(after=first))
    revisions = [revision for revision, _ in saved]
    assert revisions == sorted(set(revisions)) and revisions[0] > first
    assert last == revisions[-1]
    assert {a.npn: a for _, a in saved} == {"2": two_again, "3": three}  # the later "2" wins
    events = store.hod_store_events(referral_id=None, after=0, limit=10)
    assert [(e.kind, e.npn) for e in events] == [("agent.imported", "2"), ("agent.imported", "3")]
    assert store.hod_store_put_agent(agent=samples.agent("4"), events=[]) > last


def test_a_bulk_save_of_no_agents_writes_nothing_and_answers_zero(store):
    assert store.hod_store_put_agents(agents=[], events=[]) == 0
    assert list(store.hod_store_agents(after=0)) == []
