"""Schemathesis against `hod serve`: the OpenAPI document and the server must agree.

Starts `hod serve` as a process on a loopback port over a throwaway data
folder (two agents open all week, a registered agent, an operator, a
referral, a fake clock), logs the agent and the operator in for bearer
tokens, then runs `st run` three times, as anonymous, agent and operator,
with bounded examples and a fixed seed. Any finding fails the run (exit 1).

    python tools/api_fuzz.py [--max-examples N] [--seed S] [--keep]

`tox -e api-fuzz` runs exactly this. Log-out is left out of the logged-in
runs: it would end the session the rest of the run uses.
"""

from __future__ import annotations

import argparse
import os
import queue
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime
from pathlib import Path

import httpx

from hod_core.domain.account_records import TERMS
from hod_core.domain.models import Availability, Consumer
from hod_core.server.accounts.passwords import TEST_PARAMETERS, Passwords
from hod_core.server.accounts.registration import RegistrationForm
from hod_core.server.context import Hod
from hod_core.server.server_settings import ServerSettings
from hod_core.testing import samples
from hod_core.wire import structure

KEY = "f" * 40
PASSWORD = "Sunny-Day42"
START = "2026-11-23T10:00:00-06:00"  # a Monday morning in Houston
READY = "Application startup complete"
CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_headers_conformance",
    "response_schema_conformance",
    "unsupported_method",
    "allow_header_conformance",
    "missing_required_header",
)


def seed(data_dir: Path) -> None:
    """Agents, accounts and a referral, written by the library before the server starts."""
    settings = ServerSettings(
        data_dir=data_dir,
        secret_key=KEY,
        notifiers=("outbox",),
        freeze_gc=False,
        fake_clock=datetime.fromisoformat(START),
    )
    hod = Hod(settings)
    hod.accounts.passwords = Passwords(TEST_PARAMETERS)
    days = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
    week = structure({"weekly": {d: [["00:00", "24:00"]] for d in days}}, Availability)
    for npn, zip_code in (("1000001", "77002"), ("1000002", "77030")):
        hod.router.put_agent(samples.agent(npn, zip_code, availability=week))
    token = hod.accounts.invite("1000001").link.rsplit("token=", 1)[1]
    form = RegistrationForm(
        username="maria",
        password=PASSWORD,
        password_confirm=PASSWORD,
        phone="+17135550101",
        contact_method="email_text_app",
        zip="77002",
        **{term: True for term in TERMS},
    )
    hod.accounts.register(token, form)
    hod.accounts.create_operator("ops", PASSWORD)
    hod.router.request_contact(
        Consumer(
            first_name="Ana",
            last_name="Ruiz",
            phone="+17135550100",
            email="ana@example.com",
            zip="77002",
            language="en",
        )
    )
    hod.router.close()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def serve(data_dir: Path, port: int) -> tuple[subprocess.Popen, list[str]]:
    """`hod serve` on `port`, returned once it says it is ready."""
    env = {
        **os.environ,
        "HOD_SECRET_KEY": KEY,
        "HOD_NOTIFIERS": "outbox",
        "HOD_FAKE_CLOCK": START,
    }
    command = [sys.executable, "-m", "hod_core.cli", "serve", "--data-dir", str(data_dir)]
    process = subprocess.Popen(
        [*command, "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    lines: queue.Queue[str] = queue.Queue()
    output: list[str] = []

    def read() -> None:
        for line in process.stdout:
            output.append(line)
            lines.put(line)
        lines.put("")

    threading.Thread(target=read, daemon=True).start()
    deadline = time.monotonic() + 60
    while True:
        line = lines.get(timeout=max(0.1, deadline - time.monotonic()))
        if READY in line:
            return process, output
        if not line and process.poll() is not None:
            raise SystemExit("hod serve did not start:\n" + "".join(output))


def bearer(url: str, login: str) -> str:
    answer = httpx.post(
        f"{url}/api/v1/login", json={"login": login, "password": PASSWORD, "token": True}
    )
    answer.raise_for_status()
    return answer.json()["token"]


def fuzz(url: str, who: str, headers: list[str], args, report_dir: Path) -> int:
    command = [
        str(Path(sys.executable).with_name("st")),  # schemathesis' command, beside this Python
        "run",
        f"{url}/openapi.json",
        "--checks",
        ",".join(CHECKS),
        "--max-examples",
        str(args.max_examples),
        "--seed",
        str(args.seed),
        "--workers",
        "1",  # hypothesis reads lambdas' source with ast, which is not thread-safe on 3.11
        "--request-timeout",
        "10",
        "--suppress-health-check",
        "all",
        "--report",
        "junit",
        "--report-dir",
        str(report_dir / who),
    ]
    for header in headers:
        command += ["-H", header]
    if headers:
        command += ["--exclude-path", "/api/v1/logout"]
    print(f"== schemathesis as {who}", flush=True)
    return subprocess.call(command, cwd=report_dir.parent)  # its cache stays out of the checkout


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-examples", type=int, default=15)
    parser.add_argument("--seed", type=int, default=24)
    parser.add_argument("--keep", action="store_true", help="keep the data folder and reports")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="hod-api-fuzz-"))
    data_dir = folder / "data"
    seed(data_dir)
    port = free_port()
    process, output = serve(data_dir, port)
    url = f"http://127.0.0.1:{port}"
    failed = []
    try:
        agent = bearer(url, "maria")
        operator = bearer(url, "ops")
        for who, headers in (
            ("anonymous", []),
            ("agent", [f"Authorization: Bearer {agent}"]),
            ("operator", [f"Authorization: Bearer {operator}"]),
        ):
            if fuzz(url, who, headers, args, folder / "reports"):
                failed.append(who)
    finally:
        process.terminate()
        process.wait(timeout=30)
        errors = [line for line in output if " ERROR " in line or "Traceback" in line]
        if errors:
            failed.append("server log")
            print("".join(errors[:20]))
        if args.keep:
            print(f"data and reports kept in {folder}")
        else:
            shutil.rmtree(folder, ignore_errors=True)
    if failed:
        print(f"api-fuzz: findings as {', '.join(failed)}", file=sys.stderr)
        return 1
    print("api-fuzz: no findings")
    return 0


if __name__ == "__main__":
    sys.exit(main())
