"""`hod serve` under load: Get Contacted at a steady rate while agents accept.

    python3 -m pip install -e ".[server]" -e adapters/store_sqlite   # once
    python benchmarks/server.py                    # 100k agents, 200 requests/s for 30 s
    python benchmarks/server.py --agents 10000 --rate 100 --seconds 10 --json

One `hod serve` process on a loopback port, over a SQLite data folder with
`--agents` synthetic agents (fixed seed; built once and kept in `--data-dir`,
with an account and a bearer session per agent). The server runs on a fake
clock at 10:00 in Houston on a Monday of Open Enrollment, so agents keep
their hours and no offer expires mid-run; notices go to the in-app outbox.

- start-up: from starting the process to the first `/healthz` answer (every
  agent read back from SQLite and indexed);
- load: `POST /api/v1/referrals` at `--rate` per second for `--seconds`,
  each on its own schedule (an open loop: a slow answer does not delay the
  next request), from random consumers across the HealthCare.gov states;
- agents: the driver reads the offers from the outbox as the agents' phones
  would, and `--accept-share` of the offered agents accept through the API
  with their bearer token; the others leave the offer Pending;
- lost: after a graceful stop, every referral answered 201 must be in the
  store in a legal state (offered, waiting, accepted or unmatched), and each
  accept answered 200 must show that agent as the acceptor; anything else,
  and any 500, counts as lost. Requests refused when the server is past its
  capacity (503, or no answer: the client knows they were not done) are
  counted apart as `refused`; the rate held counts 201 answers only.

Targets on one server process: 200 Get Contacted per second held with
p99 <= 50 ms, start-up <= 10 s with 100k agents, lost = 0. The last line of
`--json` is one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

TARGET_RATE, TARGET_P99_MS, TARGET_STARTUP_S = 200, 50.0, 10.0
START = datetime.fromisoformat("2026-11-23T10:00:00-06:00")
SECRET = "benchmark-secret-key-benchmark-secret-key"
TOKENS = "bench-tokens.json"
LEGAL = {"offered", "waiting", "accepted", "unmatched"}
IDLE_S = 3  # reuse a kept-alive connection only this long: uvicorn closes them after 5 s


def fresh_copy(data_dir: Path, agents: int) -> tuple[Path, dict[str, str]]:
    """A run's own data folder: a copy of the prepared agents, accounts and sessions,
    with no referral from an earlier run (its Pending offers would hold agents, E12)."""
    template = data_dir / "prepared"
    tokens = prepare(template, agents)
    run = data_dir / "run"
    shutil.rmtree(run, ignore_errors=True)
    run.mkdir()
    shutil.copy2(template / "hod.sqlite3", run / "hod.sqlite3")
    return run, tokens


def prepare(data_dir: Path, agents: int) -> dict[str, str]:
    """The data folder with its agents, accounts and sessions; npn -> bearer token."""
    tokens_file = data_dir / TOKENS
    if tokens_file.exists():
        return json.loads(tokens_file.read_text())
    from hod_core.domain.account_records import TERMS, Account, Session, new_token, token_hash
    from hod_core.domain.models import Agent
    from hod_core.server.accounts.account_service import SESSION_TTL
    from hod_core.server.accounts.passwords import Passwords
    from hod_core.testing.synthetic import Synthesizer
    from hod_core.wire import structure
    from hod_store_sqlite import SqliteStore

    data_dir.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    store = SqliteStore(data_dir / "hod.sqlite3", synchronous="OFF")  # a set-up, not the run
    one_hash = Passwords().hash("Bench-Mark42")  # every account shares it: logins are not timed
    tokens = {}
    for data in Synthesizer(seed=2026).agents(agents):
        agent = structure(data, Agent)
        store.hod_store_put_agent(agent=agent, events=())
        account = Account(
            id=f"bench-{agent.npn}",
            role="agent",
            login=f"agent{agent.npn}",
            password_hash=one_hash,
            created_at=START,
            npn=agent.npn,
            email=agent.email,
            terms_accepted=frozenset(TERMS),
        )
        store.hod_store_create_account(account=account, invitation_hash=None, now=START)
        token = tokens[agent.npn] = new_token()
        session = Session(
            token_hash(token), account.id, "bearer", START, START + SESSION_TTL["bearer"]
        )
        store.hod_store_put_session(session=session)
    store.close()  # the WAL folded into the file: one file to copy
    tokens_file.write_text(json.dumps(tokens))
    print(f"prepared {agents} agents in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    return tokens


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_server(data_dir: Path, port: int) -> subprocess.Popen:
    env = {**os.environ, "HOD_SECRET_KEY": SECRET, "HOD_NOTIFIERS": "outbox"}
    command = [sys.executable, "-m", "hod_core.cli", "serve", "--data-dir", str(data_dir)]
    command += ["--port", str(port), "--fake-clock", START.isoformat()]
    log = (data_dir / "serve.log").open("wb")  # a pipe nobody reads would fill and stall it
    return subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=log)


class Answer:
    def __init__(self, status_code: int, body: bytes):
        self.status_code, self.body = status_code, body

    def json(self):
        return json.loads(self.body)


class Loopback:
    """A small HTTP/1.1 client over keep-alive connections to one loopback port.

    The load generator shares the machine with the server: a general client
    (httpx) spends as much CPU per request as the server does, and so would
    measure itself. This one writes a request and reads a status line, headers and a
    Content-Length body, which is all `hod serve` answers with.
    """

    def __init__(self, port: int, timeout: float = 30):
        self.port, self.timeout = port, timeout
        self.idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter, float]] = []

    async def request(self, method: str, path: str, body=None, headers=None) -> Answer:
        payload = b"" if body is None else json.dumps(body).encode()
        head = f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: {len(payload)}\r\n"
        if body is not None:
            head += "Content-Type: application/json\r\n"
        for name, value in (headers or {}).items():
            head += f"{name}: {value}\r\n"
        reader, writer = await self._connection()
        try:
            writer.write(head.encode() + b"\r\n" + payload)
            answer = await asyncio.wait_for(self._read(reader), self.timeout)
        except BaseException:
            writer.close()
            raise
        self.idle.append((reader, writer, time.monotonic()))
        return answer

    async def _connection(self):
        """An idle connection the server will not have closed yet, or a new one."""
        while self.idle:
            reader, writer, since = self.idle.pop()
            if time.monotonic() - since < IDLE_S:
                return reader, writer
            writer.close()
        return await asyncio.open_connection("127.0.0.1", self.port)

    @staticmethod
    async def _read(reader: asyncio.StreamReader) -> Answer:
        status = int((await reader.readuntil(b"\r\n")).split(b" ", 2)[1])
        length = 0
        while (line := await reader.readuntil(b"\r\n")) != b"\r\n":
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        return Answer(status, await reader.readexactly(length))

    async def get(self, path: str) -> Answer:
        return await self.request("GET", path)

    async def post(self, path: str, body=None, headers=None) -> Answer:
        return await self.request("POST", path, body, headers)

    def close(self) -> None:
        for _, writer, _ in self.idle:
            writer.close()


async def wait_until_up(http, process) -> float:
    started = time.perf_counter()
    while True:
        if process.poll() is not None:
            raise SystemExit(f"hod serve exited; see {process.args[4]}/serve.log")
        try:
            if (await http.get("/healthz")).status_code == 200:
                return time.perf_counter() - started
        except Exception:  # noqa: BLE001 - not listening yet
            pass
        await asyncio.sleep(0.05)


class Load:
    def __init__(self, http, tokens, args, outbox: Path):
        self.http, self.tokens, self.args, self.outbox = http, tokens, args, outbox
        self.random = random.Random(7)
        self.create_ms: list[float] = []
        self.accept_ms: list[float] = []
        self.created: set[str] = set()
        self.accepted: dict[str, str] = {}  # referral id -> npn, answered 200
        self.failures: list[str] = []  # server faults: whether anything was stored is unknown
        self.refused: list[str] = []  # no answer, or 503: the client knows it was not done
        self.tasks: set[asyncio.Task] = set()
        self.seen_offers: set[tuple[str, str]] = set()

    async def create(self, body) -> None:
        started = time.perf_counter()
        try:
            answer = await self.http.post("/api/v1/referrals", body)
        except Exception as exc:  # noqa: BLE001 - never answered: the client knows, nothing is owed
            self.refused.append(f"create: {type(exc).__name__}")
            return
        self.create_ms.append((time.perf_counter() - started) * 1000)
        if answer.status_code == 201:
            self.created.add(answer.json()["reference"])
        else:
            self.note("create", answer.status_code)

    async def accept(self, referral_id: str, npn: str) -> None:
        headers = {"Authorization": f"Bearer {self.tokens[npn]}"}
        started = time.perf_counter()
        try:
            answer = await self.http.post(
                f"/api/v1/agent/referrals/{referral_id}/accept", headers=headers
            )
        except Exception as exc:  # noqa: BLE001
            self.refused.append(f"accept: {type(exc).__name__}")
            return
        self.accept_ms.append((time.perf_counter() - started) * 1000)
        if answer.status_code == 200:
            self.accepted[referral_id] = npn
        elif answer.status_code >= 500:
            self.note("accept", answer.status_code)

    def note(self, what: str, status: int) -> None:
        """503: refused when overloaded (uvicorn's limit), nothing done; other 5xx: a fault."""
        (self.refused if status == 503 else self.failures).append(f"{what}: {status}")

    def spawn(self, coroutine) -> None:
        task = asyncio.create_task(coroutine)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def watch_outbox(self, path: Path, stop: asyncio.Event) -> None:
        """The agents' phones: each new offer, and whether its agent accepts it."""
        position = 0
        while not stop.is_set():
            if path.exists():
                with path.open("rb") as handle:
                    handle.seek(position)
                    chunk = handle.read()
                whole = chunk[: chunk.rfind(b"\n") + 1]
                position += len(whole)
                for line in whole.splitlines():
                    notice = json.loads(line)
                    key = (notice.get("referral_id"), notice["npn"])
                    if notice["kind"] != "offer" or key in self.seen_offers:
                        continue
                    self.seen_offers.add(key)
                    if self.random.random() < self.args.accept_share:
                        self.spawn(self.accept(*key))
            await asyncio.sleep(0.02)

    async def run(self, consumers) -> float:
        stop = asyncio.Event()
        watcher = asyncio.create_task(self.watch_outbox(self.outbox, stop))
        started = time.perf_counter()
        for i, body in enumerate(consumers):
            delay = started + i / self.args.rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            self.spawn(self.create(body))
        while self.tasks:
            await asyncio.gather(*list(self.tasks))
        elapsed = time.perf_counter() - started
        await asyncio.sleep(0.5)  # the last offers reach the outbox
        while self.tasks:
            await asyncio.gather(*list(self.tasks))
        stop.set()
        await watcher
        return elapsed


def count_lost(data_dir: Path, load: Load) -> int:
    from hod_store_sqlite import SqliteStore

    store = SqliteStore(data_dir / "hod.sqlite3")
    lost = len(load.failures)
    for referral_id in load.created:
        referral = store.hod_store_referral(referral_id=referral_id)
        if referral is None or referral.status.value not in LEGAL:
            lost += 1
    for referral_id, npn in load.accepted.items():
        referral = store.hod_store_referral(referral_id=referral_id)
        if referral is None or referral.agent_npn != npn:
            lost += 1
    return lost


def percentile(values: list[float], share: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


async def measure(args) -> dict:
    from hod_core.testing.synthetic import Synthesizer

    run_dir, tokens = fresh_copy(args.data_dir, args.agents)
    synthesizer = Synthesizer(seed=11)
    consumers = [synthesizer.consumer() for _ in range(int(args.rate * args.seconds))]
    port = free_port()
    process = start_server(run_dir, port)
    http = Loopback(port)
    try:
        startup_s = await wait_until_up(http, process)
        load = Load(http, tokens, args, run_dir / "outbox.jsonl")
        elapsed = await load.run(consumers)
    finally:
        http.close()
        process.send_signal(signal.SIGTERM)
        code = process.wait(timeout=60)
    lost = count_lost(run_dir, load) + (code != 0)
    return {
        "agents": args.agents,
        "startup_s": round(startup_s, 2),
        "rate_target_per_s": args.rate,
        "rate_per_s": round(len(load.created) / elapsed, 1),  # answered 201
        "requests": len(consumers),
        "create_p50_ms": round(statistics.median(load.create_ms), 2),
        "create_p99_ms": round(percentile(load.create_ms, 0.99), 2),
        "accepts": len(load.accept_ms),
        "accept_p50_ms": round(percentile(load.accept_ms, 0.5), 2),
        "accept_p99_ms": round(percentile(load.accept_ms, 0.99), 2),
        "lost": lost,
        "refused": len(load.refused),
        "failures": sorted(set(load.failures + load.refused))[:10],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--agents", type=int, default=100_000)
    parser.add_argument("--rate", type=float, default=TARGET_RATE, help="Get Contacted per second")
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--accept-share", type=float, default=0.8, help="offers accepted")
    parser.add_argument("--data-dir", type=Path, help="default: a folder per agent count in /tmp")
    parser.add_argument("--json", action="store_true", help="end with one JSON line")
    args = parser.parse_args()
    args.data_dir = args.data_dir or Path(f"/tmp/hod-bench-server-{args.agents}")
    result = asyncio.run(measure(args))
    verdict = (
        result["rate_per_s"] >= 0.98 * args.rate
        and result["create_p99_ms"] <= TARGET_P99_MS
        and result["startup_s"] <= TARGET_STARTUP_S
        and result["lost"] == 0
        and result["refused"] == 0
    )
    print(
        f"{result['agents']} agents: start-up {result['startup_s']} s; "
        f"{result['rate_per_s']}/s held of {args.rate}/s for {args.seconds:g} s; "
        f"Get Contacted p50 {result['create_p50_ms']} ms, p99 {result['create_p99_ms']} ms; "
        f"{result['accepts']} accepts, p50 {result['accept_p50_ms']} ms, p99 {result['accept_p99_ms']} ms; "
        f"lost {result['lost']}, refused {result['refused']}; targets ({TARGET_RATE}/s, p99 <= {TARGET_P99_MS:g} ms, "
        f"start-up <= {TARGET_STARTUP_S:g} s, lost 0) {'met' if verdict else 'NOT met'}"
    )
    if args.json:
        print(json.dumps(result))


if __name__ == "__main__":
    main()
