"""`hod serve` as a real process on a loopback port: a referral's whole life
over HTTP, a clean stop on SIGTERM, one line and exit 2 for a bad setting,
and `hod serve --demo` as the README runs it. Readiness is read from the
server's own log line, never waited for with a sleep."""

from __future__ import annotations

import os
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path

import httpx
import pytest

from hod_core.server.accounts.passwords import TEST_PARAMETERS, Passwords
from hod_core.server.context import Hod
from hod_core.server.server_settings import ServerSettings

from .conftest import PASSWORD
from .data import ANA, CONTACT_VALUES

KEY = "k" * 40
READY = "Application startup complete"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Server:
    """`python -m hod_core.cli ARGS` with its stdout and stderr read on threads."""

    def __init__(self, *args: str, env: dict[str, str] | None = None):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process = subprocess.Popen(
            [sys.executable, "-m", "hod_core.cli", *args, "--port", str(self.port)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, **(env or {})},
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self.output: list[str] = []
        for stream in (self.process.stdout, self.process.stderr):
            threading.Thread(target=self._read, args=(stream,), daemon=True).start()

    def _read(self, stream) -> None:
        for line in stream:
            self.output.append(line)
            self.lines.put(line)
        self.lines.put("")  # end of one stream

    def wait_for(self, text: str, timeout: float = 60) -> None:
        while True:
            line = self.lines.get(timeout=timeout)
            if text in line:
                return
            assert line or self.process.poll() is None, "".join(self.output)

    def stop(self) -> int:
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=30)

    def log(self) -> str:
        return "".join(self.output)


@pytest.fixture
def seeded(tmp_path):
    """A data folder with two agents in Houston, Maria with an account."""
    settings = ServerSettings(
        data_dir=tmp_path / "data", secret_key=KEY, notifiers=("outbox",), freeze_gc=False
    )
    hod = Hod(settings)
    hod.accounts.passwords = Passwords(TEST_PARAMETERS)
    from hod_core.testing import samples

    hod.router.put_agent(samples.agent("1000001", "77002", availability=_all_week()))
    hod.router.put_agent(samples.agent("1000002", "77030", availability=_all_week()))
    _register(hod, "1000001")
    hod.router.close()
    return settings


def _all_week():
    from hod_core.domain.models import Availability
    from hod_core.wire import structure

    days = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
    return structure({"weekly": {d: [["00:00", "24:00"]] for d in days}}, Availability)


def _register(hod, npn):
    from hod_core.server.accounts.registration import RegistrationForm

    token = hod.accounts.invite(npn).link.rsplit("token=", 1)[1]
    form = RegistrationForm(
        username="maria",
        password=PASSWORD,
        password_confirm=PASSWORD,
        phone="+17135550101",
        contact_method="email_text_app",
        zip="77002",
        hod_terms_of_use=True,
        agent_broker_terms_of_use=True,
    )
    hod.accounts.register(token, form)


def test_a_referral_lives_its_whole_life_through_hod_serve(seeded):
    env = {"HOD_SECRET_KEY": KEY, "HOD_NOTIFIERS": "outbox", "HOD_SWEEP_SECONDS": "0.2"}
    server = Server("serve", "--data-dir", str(seeded.data_dir), env=env)
    try:
        server.wait_for(READY)
        with httpx.Client(base_url=server.url, timeout=10) as http:
            assert http.get("/healthz").json()["agents"] == 2
            created = http.post("/api/v1/referrals", json=ANA)
            assert created.status_code == 201, created.text
            reference = created.json()["reference"]
            login = http.post(
                "/api/v1/login", json={"login": "maria", "password": PASSWORD, "token": True}
            )
            auth = {"Authorization": f"Bearer {login.json()['token']}"}
            mine = http.get("/api/v1/agent/referrals", headers=auth).json()["referrals"]
            assert [r["referral_id"] for r in mine] == [reference]
            accepted = http.post(f"/api/v1/agent/referrals/{reference}/accept", headers=auth)
            assert accepted.json()["email"] == ANA["email"]
            for status in ("in_progress", "completed"):
                moved = http.post(
                    f"/api/v1/agent/referrals/{reference}/status",
                    headers=auth,
                    json={"status": status},
                )
                assert moved.status_code == 200
            status_url = created.json()["status_url"]
            assert http.get(status_url).json()["status"] == "Referral Completed"
            assert 'hod_offers_total{outcome="accepted"} 1.0' in http.get("/metrics").text
    finally:
        code = server.stop()
    assert code == 0  # SIGTERM: a graceful stop
    log = server.log()
    assert "Application shutdown complete" in log
    assert '"POST /api/v1/agent/referrals/{referral_id}/accept" 200' in log
    assert "agents loaded" in log
    assert not any(value in log for value in CONTACT_VALUES)
    assert created.json()["status_token"] not in log


def test_a_bad_setting_stops_start_up_with_one_line(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "hod_core.cli", "serve", "--data-dir", str(tmp_path)],
        capture_output=True,
        text=True,
        env={k: v for k, v in os.environ.items() if not k.startswith("HOD_")},
        timeout=60,
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("hod serve: secret_key is missing")


def test_the_demo_runs_as_the_readme_says(tmp_path):
    readme = (Path(__file__).parents[2] / "README.md").read_text()
    first = readme.split("# 1. the whole system")[1].splitlines()[1]
    assert first.endswith('-e ".[server]" -e adapters/store_sqlite && .venv/bin/hod serve --demo')
    server = Server("serve", "--demo", "--data-dir", str(tmp_path / "demo"))
    try:
        server.wait_for(READY)
        banner = server.log()
        assert f"hod-core demo: {server.url}" in banner
        # The start-up log says what the server holds: the seeding, then the agents.
        seeded = banner.index("demo: 2002 agents seeded")
        assert "2002 agents loaded in " in banner[seeded:] and "0 agents loaded" not in banner
        maria = re.search(r"agent 1000001: (\S+) / (\S+)", banner)
        operator = re.search(r"operator: (\S+) / (\S+)", banner)
        with httpx.Client(base_url=server.url, timeout=10) as http:
            reference = http.post("/api/v1/referrals", json=ANA).json()["reference"]
            token = http.post(
                "/api/v1/login",
                json={"login": maria[1], "password": maria[2], "token": True},
            ).json()["token"]
            auth = {"Authorization": f"Bearer {token}"}
            accepted = http.post(f"/api/v1/agent/referrals/{reference}/accept", headers=auth)
            assert accepted.status_code == 200 and accepted.json()["phone"] == ANA["phone"]
            ops = http.post(
                "/api/v1/login",
                json={"login": operator[1], "password": operator[2], "token": True},
            ).json()["token"]
            outbox = http.get(
                "/api/v1/operator/outbox", headers={"Authorization": f"Bearer {ops}"}
            ).json()["notices"]
            kinds = {(n["kind"], n["npn"]) for n in outbox}
            assert ("offer", "1000001") in kinds and ("invitation", "1000001") in kinds
    finally:
        assert server.stop() == 0


def test_without_the_server_extra_hod_serve_says_what_to_install(monkeypatch, capsys):
    import importlib.util

    from hod_core.cli import main

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "fastapi" else real(name, *a)
    )
    assert main(["serve"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "pip install" in err and "hod-core[server]" in err


def test_a_busy_port_is_one_line_before_anything_is_printed_or_made(tmp_path):
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    port = taken.getsockname()[1]
    try:
        result = subprocess.run(
            [sys.executable, "-m", "hod_core.cli", "serve", "--demo", "--port", str(port)]
            + ["--data-dir", str(tmp_path / "demo")],
            capture_output=True,
            text=True,
            timeout=60,
        )
    finally:
        taken.close()
    assert result.returncode == 1 and result.stdout == ""  # no banner, no logins
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"hod serve: cannot listen on 127.0.0.1:{port}: Address already")
    assert not (tmp_path / "demo").exists()  # nothing seeded, no secret key made
