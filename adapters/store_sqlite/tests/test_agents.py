"""validate_on_load: every agent the store wrote goes through the validating converter again."""

from __future__ import annotations

import orjson
import pytest

from hod_core import ConfigurationError, InputError, unstructure
from hod_core.testing import samples
from hod_store_sqlite import SqliteStore


def test_validate_on_load_checks_every_stored_agent_again(tmp_path):
    path = tmp_path / "hod.sqlite3"
    store = SqliteStore(path)
    store.hod_store_put_agent(agent=samples.agent("1"), events=())
    with store._write() as db:  # a row that a stricter check would refuse
        bad = {**unstructure(samples.agent("2")), "email": "not an email"}
        db.execute(
            "INSERT INTO agents (npn, revision, body) VALUES ('2', 2, ?)",
            (orjson.dumps(bad).decode(),),
        )
    assert [a.npn for _, a in SqliteStore(path).hod_store_agents(after=0)] == ["1", "2"]
    checking = SqliteStore.from_settings({"path": str(path), "validate_on_load": "true"})
    with pytest.raises(InputError) as refused:
        checking.hod_store_agents(after=0)
    assert "email" in str(refused.value)


def test_validate_on_load_must_be_true_or_false(tmp_path):
    with pytest.raises(ConfigurationError, match="'validate_on_load': expected bool, got 'maybe'"):
        SqliteStore.from_settings(
            {"path": str(tmp_path / "x.sqlite3"), "validate_on_load": "maybe"}
        )


def test_settings_come_from_hod_sqlite_variables(tmp_path, monkeypatch):
    monkeypatch.setenv("HOD_SQLITE_PATH", str(tmp_path / "from-env.sqlite3"))
    monkeypatch.setenv("HOD_SQLITE_SYNCHRONOUS", "full")
    store = SqliteStore.from_settings({"data_dir": str(tmp_path / "ignored")})
    assert (store.path.name, store.synchronous) == ("from-env.sqlite3", "FULL")
    store.close()
