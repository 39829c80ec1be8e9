"""Agents saved in one process reach the others' matchers: NOTIFY wakes them at
once, and a poll every `agent_poll_s` catches a notification that was lost."""

from __future__ import annotations

import time

import orjson
from psycopg import sql

from hod_core import Router, unstructure
from hod_core.testing import FakeClock, Outbox, samples

PROMPTLY_S = 5.0  # a loaded CI machine; on an idle one a notification takes milliseconds


def test_an_agent_saved_in_one_process_is_offered_by_another_at_once(open_store):
    clock = FakeClock(samples.START)
    saver, other = open_store(), open_store()
    serving = Router([other, clock, Outbox()])  # started before the agent exists
    assert serving.request_contact(samples.CONSUMER).status.value == "waiting"
    assert listening(other), "the listener never connected"
    revision = saver.hod_store_put_agent(agent=samples.agent("42", "77002"), events=[])
    assert other.feed.wait_for(revision, PROMPTLY_S), "the notification never came"
    referral = serving.request_contact(samples.CONSUMER)
    assert referral.pending_offer.npn == "42"


def test_with_nothing_new_no_query_is_made_until_the_poll_is_due(
    open_store, postgres_server, postgres_settings
):
    """A save that sends no notification (as one lost while the listener
    reconnects): unseen until the backstop poll, then seen."""
    store = open_store(agent_poll_s="0.3")
    first = store.hod_store_put_agent(agent=samples.agent("1"), events=[])
    assert [r for r, _ in store.hod_store_agents(after=0)] == [first]
    assert listening(store), "the listener never connected"
    deadline = time.monotonic() + PROMPTLY_S
    assert list(store.hod_store_agents(after=first)) == []  # the poll a (re)connect asks for
    silent = sneak_in_an_agent(postgres_server, postgres_settings["schema"], "2")
    asked = time.monotonic()
    seen = list(store.hod_store_agents(after=first))
    if time.monotonic() - asked < 0.3:  # the poll was not due yet: nothing asked
        assert seen == []
    while not seen and time.monotonic() < deadline:
        seen = list(store.hod_store_agents(after=first))
    assert [(r, a.npn) for r, a in seen] == [(silent, "2")]
    assert time.monotonic() - asked < 0.3 + PROMPTLY_S


def listening(store) -> bool:
    """Wait for the store's listener to be connected (a process that has run a
    moment); a save before that is caught by the poll instead, tested below."""
    deadline = time.monotonic() + PROMPTLY_S
    while not store.feed.listening and time.monotonic() < deadline:
        time.sleep(0.01)
    return store.feed.listening


def sneak_in_an_agent(postgres_server, schema: str, npn: str) -> int:
    """Save an agent as a store would, but without NOTIFY."""
    body = orjson.dumps(unstructure(samples.agent(npn))).decode()
    counters, agents = sql.Identifier(schema, "hod_counters"), sql.Identifier(schema, "agents")
    with postgres_server.connect() as conn, conn.transaction():
        (revision,) = conn.execute(
            sql.SQL(
                "UPDATE {} SET value = value + 1 WHERE name = 'agent_revision' RETURNING value"
            ).format(counters)
        ).fetchone()
        conn.execute(
            sql.SQL("INSERT INTO {} (npn, revision, body) VALUES (%s, %s, %s::jsonb)").format(
                agents
            ),
            (npn, revision, body),
        )
    return revision
