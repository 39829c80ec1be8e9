"""The operator's commands on the data folder `hod serve` uses: agents
(list, show, suspend, reinstate), referrals (list by status, show with the
audit trail), `why` and delivery failures; JSON out, one line and exit 2 for
a mistake, 3 for an agent or referral not found."""

from __future__ import annotations

import json

import pytest

from hod_core.cli import main
from hod_core.server.context import Hod
from hod_core.server.server_settings import ServerSettings
from hod_core.testing import samples

from .data import ANA, no_contact_data


@pytest.fixture
def folder(tmp_path, monkeypatch, clock):
    monkeypatch.setenv("HOD_FREEZE_GC", "false")
    monkeypatch.setenv("HOD_NOTIFIERS", "outbox")  # the settings hod serve runs with
    monkeypatch.delenv("HOD_CONFIG", raising=False)
    settings = ServerSettings(data_dir=tmp_path / "data", notifiers=("outbox",), freeze_gc=False)
    hod = Hod(settings, clock=clock)
    hod.router.put_agent(samples.agent("1000001", "77002", first_name="Maria"))
    hod.router.put_agent(samples.agent("1000002", "77030", languages=("en",)))
    referral = hod.router.request_contact(ANA)
    waiting = hod.router.request_contact({**ANA, "language": "vi"})  # nobody speaks it
    hod.router.close()
    return {"dir": str(settings.data_dir), "offered": referral.id, "waiting": waiting.id}


def hod(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, (json.loads(out) if code == 0 else None), err


def test_agents_list_show_suspend_reinstate(folder, capsys):
    code, found, _ = hod(capsys, "agents", "list", "maria", "--data-dir", folder["dir"])
    assert code == 0 and [a["npn"] for a in found["agents"]] == ["1000001"]
    _, shown, _ = hod(capsys, "agents", "show", "1000002", "--data-dir", folder["dir"])
    assert shown["languages"] == ["en"]
    _, suspended, _ = hod(capsys, "agents", "suspend", "1000002", "--data-dir", folder["dir"])
    assert suspended["suspended"] is True
    _, listed, _ = hod(capsys, "agents", "list", "--suspended", "--data-dir", folder["dir"])
    assert [a["npn"] for a in listed["agents"]] == ["1000002"]
    _, back, _ = hod(capsys, "agents", "reinstate", "1000002", "--data-dir", folder["dir"])
    assert back["suspended"] is False


def test_referrals_waiting_and_their_audit_trail(folder, capsys):
    _, waiting, _ = hod(
        capsys, "referrals", "list", "--status", "waiting", "--data-dir", folder["dir"]
    )
    assert [r["id"] for r in waiting["referrals"]] == [folder["waiting"]]
    _, shown, _ = hod(capsys, "referrals", "show", folder["offered"], "--data-dir", folder["dir"])
    assert [e["kind"] for e in shown["events"]][:2] == ["referral.created", "offer.made"]
    assert no_contact_data(json.dumps(shown))


def test_why_and_deliveries(folder, capsys):
    _, why, _ = hod(capsys, "why", folder["offered"], "1000002", "--data-dir", folder["dir"])
    assert why["first_failing"] == "E9"
    code, failures, _ = hod(capsys, "deliveries", "--data-dir", folder["dir"])
    assert code == 0 and failures["failures"] == []


def test_a_mistake_is_one_line_exit_2_and_not_found_exit_3(folder, capsys):
    code, _, err = hod(capsys, "agents", "suspend", "4242", "--data-dir", folder["dir"])
    assert code == 3 and err.strip() == "hod: no agent with NPN 4242"
    code, _, err = hod(capsys, "referrals", "list", "--status", "lost", "--data-dir", folder["dir"])
    assert code == 2 and err.count("\n") == 1 and "status" in err
