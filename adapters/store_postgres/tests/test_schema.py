"""The database itself: migrations at start-up, a newer schema refused, the
append-only log, settings that say what is wrong."""

from __future__ import annotations

import threading
from datetime import timedelta

import orjson
import psycopg
import pytest
from attrs import evolve
from psycopg import sql

from hod_core import ConfigurationError, Event, OfferStatus, ReferralStatus, unstructure
from hod_core.testing import samples
from hod_store_postgres import SCHEMA_VERSION, PostgresStore
from hod_store_postgres.cluster import free_port
from hod_store_postgres.schema import migrate

T0 = samples.START


def schema_version(postgres_server, schema: str) -> int:
    with postgres_server.connect() as conn:
        table = sql.Identifier(schema, "hod_schema")
        return conn.execute(sql.SQL("SELECT version FROM {}").format(table)).fetchone()[0]


def test_processes_starting_at_once_on_an_empty_schema_migrate_it_once(
    postgres_server, postgres_settings, open_store
):
    stores, start = [], threading.Barrier(4)

    def opening():
        start.wait()
        stores.append(open_store())

    threads = [threading.Thread(target=opening) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(stores) == 4
    assert schema_version(postgres_server, postgres_settings["schema"]) == SCHEMA_VERSION
    revision = stores[0].hod_store_put_agent(agent=samples.agent("1"), events=[])
    assert [r for r, _ in stores[3].hod_store_agents(after=0)] == [revision]


def test_a_newer_schema_is_refused_with_a_clear_error(
    postgres_server, postgres_settings, open_store
):
    open_store().close()
    schema = postgres_settings["schema"]
    with postgres_server.connect() as conn:
        table = sql.Identifier(schema, "hod_schema")
        conn.execute(sql.SQL("UPDATE {} SET version = version + 1").format(table))
    with pytest.raises(ConfigurationError, match="newer than this") as refused:
        PostgresStore.from_settings(postgres_settings)
    assert f"schema {schema}" in str(refused.value)
    assert "password" not in str(refused.value)


def test_the_event_log_refuses_updates_deletes_and_truncation(
    postgres_server, postgres_settings, open_store
):
    store = open_store()
    store.hod_store_append_events(events=[Event(samples.START, "notify.sent", "r1")])
    events = sql.Identifier(postgres_settings["schema"], "events")
    with postgres_server.connect() as conn:
        for statement in ("UPDATE {} SET kind = 'x'", "DELETE FROM {}", "TRUNCATE {}"):
            with pytest.raises(psycopg.errors.RaiseException, match="append-only"):
                conn.execute(sql.SQL(statement).format(events))
    kinds = [e.kind for e in store.hod_store_events(referral_id=None, after=0, limit=10)]
    assert kinds == ["notify.sent"]


def test_an_unreachable_database_is_one_clear_line_without_the_password():
    port = free_port()
    url = f"postgresql://hod:sekrit-pw@127.0.0.1:{port}/hod"
    with pytest.raises(ConfigurationError) as refused:
        PostgresStore.from_settings({"url": url, "timeout_s": "2"})
    message = str(refused.value)
    assert message.startswith(f"store_postgres: cannot open 127.0.0.1:{port}/hod")
    assert "\n" not in message and "sekrit-pw" not in message


@pytest.mark.parametrize(
    ("settings", "named"),
    [
        ({}, "url"),
        ({"url": "postgresql://h/db", "pool_max": "many"}, "pool_max"),
        ({"url": "postgresql://h/db", "pool_min": "5", "pool_max": "2"}, "pool_min"),
        ({"url": "postgresql://h/db", "schema": "Robert'); DROP"}, "schema"),
        ({"url": "postgresql://h/db", "claim_s": "0"}, "claim_s"),
        ({"url": "postgresql://h/db", "colour": "blue"}, "colour"),
    ],
)
def test_a_bad_setting_is_a_clear_error(settings, named, monkeypatch):
    monkeypatch.delenv("HOD_POSTGRES_URL", raising=False)
    with pytest.raises(ConfigurationError, match=named):
        PostgresStore.from_settings(settings)


def test_the_url_with_its_password_stays_out_of_repr(postgres_settings, open_store):
    store = open_store()
    assert "password" not in repr(store) and postgres_settings["url"] not in repr(store)
    assert postgres_settings["url"] not in repr(store.settings)


def test_a_version_1_database_with_referrals_is_upgraded_with_its_data(
    postgres_server, postgres_settings, open_store
):
    """Version 1 kept the consumer inside the referral's body; the upgrade moves
    it apart (retention), sets `closed_at` for ended referrals from their last
    status event, and adds `language` to every body."""
    schema = postgres_settings["schema"]
    ended = samples.answered(samples.referral("r1", offered_to="7"), OfferStatus.ACCEPTED, T0)
    ended = evolve(ended, status=ReferralStatus.COMPLETED, agent_npn="7")
    body = unstructure(ended)
    del body["language"], body["closed_at"]  # what version 1 wrote
    with postgres_server.connect() as conn:
        conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
        conn.execute(sql.SQL("SET search_path = {}").format(sql.Identifier(schema)))
        migrate(conn, schema, "test", target=1)
        conn.execute(
            "INSERT INTO referrals (id, version, status, created_at, body)"
            " VALUES ('r1', 2, 'completed', %s, %s::jsonb)",
            (T0, orjson.dumps(body).decode()),
        )
        conn.execute(
            "INSERT INTO events (at, kind, referral_id, actor, detail)"
            " VALUES (%s, 'referral.status', 'r1', 'agent', '{}')",
            (T0 + timedelta(hours=1),),
        )
    store = open_store()
    assert schema_version(postgres_server, schema) == SCHEMA_VERSION
    upgraded = store.hod_store_referral(referral_id="r1")
    assert upgraded.consumer == samples.CONSUMER and upgraded.language == "es"
    assert upgraded.status is ReferralStatus.COMPLETED and upgraded.offers == ended.offers
    closed = T0 + timedelta(hours=1)
    assert store.hod_store_erasable(closed_before=closed - timedelta(seconds=1), limit=5) == []
    assert store.hod_store_erasable(closed_before=closed, limit=5) == ["r1"]
