"""`hod serve` as a process on loopback, a data folder seeded first, a clock the test moves.

The folder is filled in this process through the same `Hod` the server
builds (agents through the router, accounts through invitations and sign-up,
as an operator and agents would), then `hod serve` starts on it with
`--fake-clock`: time is the start plus the seconds in `<data>/fake-clock`,
so a test moves it by writing a number (`Server.advance`) and the server's
own sweep (every 0.2 s here) expires offers on time.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from datetime import datetime
from pathlib import Path

from hod_core.server.accounts.registration import RegistrationForm
from hod_core.server.clock import FILE_NAME, FileClock
from hod_core.server.context import Hod
from hod_core.server.server_settings import ServerSettings
from hod_core.testing import samples

SECRET = "browser-tests-secret-key-0123456789abcdef"
PASSWORD = "Sunny-Day42"  # keeps every R3 rule
START = datetime.fromisoformat("2026-11-23T10:00:00-06:00")  # Monday, 10 am in Houston
STARTUP_S = 60


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def settings_for(data_dir: Path, port: int) -> ServerSettings:
    return ServerSettings(
        data_dir=data_dir,
        port=port,
        secret_key=SECRET,
        notifiers=("outbox",),
        fake_clock=START,
        freeze_gc=False,
    )


class Seeder:
    """Fills a data folder before the server starts: agents, accounts, an operator."""

    def __init__(self, data_dir: Path, port: int):
        self.hod = Hod(settings_for(data_dir, port))

    def agent(self, npn: str, zip_code: str = "77030", **fields) -> None:
        self.hod.router.put_agent(samples.agent(npn, zip_code, **fields))

    def register(self, npn: str, login: str, *, terms: bool = True) -> None:
        """Invite the agent and sign up with the link, as the agent would."""
        link = self.hod.accounts.invite(npn).link
        agent = self.hod.agent(npn)
        form = RegistrationForm(
            username=login,
            password=PASSWORD,
            password_confirm=PASSWORD,
            phone=agent.phone,
            contact_method="email",
            zip=agent.zip,
            hod_terms_of_use=terms,
            agent_broker_terms_of_use=terms,
        )
        self.hod.accounts.register(link.rsplit("token=", 1)[1], form)

    def invitation(self, npn: str) -> str:
        """A fresh registration link's path and query (R1)."""
        link = self.hod.accounts.invite(npn).link
        return link[link.index("/register") :]

    def operator(self, login: str = "ops") -> None:
        self.hod.accounts.create_operator(login, PASSWORD)

    def close(self) -> None:
        self.hod.router.close()


class Server:
    """A running `hod serve`; `url(path)`, `advance(minutes=...)`, `stop()`."""

    def __init__(self, data_dir: Path, port: int, log: Path):
        self.data_dir, self.port = data_dir, port
        self.base = f"http://127.0.0.1:{port}"
        self.clock = FileClock(START, data_dir / FILE_NAME)
        self.offset = 0.0
        self.log = log.open("wb")
        environment = {
            **os.environ,
            "HOD_SECRET_KEY": SECRET,
            "HOD_NOTIFIERS": "outbox",
            "HOD_SWEEP_SECONDS": "0.2",
            "HOD_FREEZE_GC": "false",
        }
        hod = shutil.which("hod", path=str(Path(sys.executable).parent)) or "hod"
        command = [hod, "serve", "--data-dir", str(data_dir), "--host", "127.0.0.1",
                   "--port", str(port), "--fake-clock", START.isoformat()]  # fmt: skip
        self.process = subprocess.Popen(command, env=environment, stdout=self.log, stderr=self.log)
        self._wait_until_up()

    def _wait_until_up(self) -> None:
        deadline = time.monotonic() + STARTUP_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"hod serve exited with {self.process.returncode}: see {self.log.name}"
                )
            try:
                with urllib.request.urlopen(self.url("/healthz"), timeout=2) as answer:
                    if answer.status == 200:
                        return
            except OSError:
                time.sleep(0.1)  # the port is not open yet: this is start-up, not a test's wait
        raise RuntimeError(f"hod serve did not answer /healthz within {STARTUP_S} s")

    def url(self, path: str) -> str:
        return self.base + path

    def advance(self, **delta) -> None:
        """Move the server's clock forward (minutes=..., seconds=...)."""
        from datetime import timedelta

        self.offset += timedelta(**delta).total_seconds()
        self.clock.advance_to(self.offset)

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.log.close()
