"""A router in a process of its own, on the same store as the test's, driven
line by line on stdin: for a store adapter's races and crash tests (two
processes accepting one offer, a sweep against an accept, kill -9 mid-commit).

    python -m hod_core.testing.conformance.worker ADAPTER SETTINGS_JSON

    accept RID NPN NOW GO   accept at clock NOW, starting at monotonic time GO
    tick NOW GO             run the sweep at clock NOW, starting at GO
    churn NOW               create referrals forever, a minute apart, and print
                            each id once its commit has returned

Answers one line per command: `won`, `lost <ErrorType>`, `expired <n>`.
`Worker` is the test's side of it.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Mapping
from datetime import datetime

from hod_core.errors import LifecycleError
from hod_core.extend.plugins import load_adapter
from hod_core.lifecycle.router import Router
from hod_core.testing import samples
from hod_core.testing.doubles import FakeClock, Outbox


class Worker:
    """`python -m hod_core.testing.conformance.worker` started on the adapter's settings."""

    def __init__(self, adapter: str, settings: Mapping[str, str]):
        self.process = subprocess.Popen(
            [sys.executable, "-m", __name__, adapter, json.dumps(dict(settings))],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            bufsize=1,
        )
        assert self.readline() == "ready"

    def send(self, *words) -> None:
        self.process.stdin.write(" ".join(map(str, words)) + "\n")
        self.process.stdin.flush()

    def readline(self) -> str:
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError(f"worker exited with {self.process.wait()}")
        return line.strip()

    def stop(self) -> None:
        self.process.kill()  # SIGKILL: wherever it is, mid-transaction included
        self.process.wait()
        self.process.stdin.close()
        self.process.stdout.close()


def _wait_until(go: float) -> None:
    while time.monotonic() < go:  # a busy wait: both workers start within microseconds
        pass


def main(adapter: str, settings: str) -> None:
    clock = FakeClock(samples.START)
    router = Router([load_adapter(adapter, json.loads(settings)), clock, Outbox()])
    print("ready", flush=True)
    for line in sys.stdin:
        command, *args = line.split()
        if command == "accept":
            rid, npn, now, go = args
            clock.at = datetime.fromisoformat(now)
            _wait_until(float(go))
            try:
                router.accept(rid, npn)
                print("won", flush=True)
            except LifecycleError as exc:
                print("lost", type(exc).__name__, flush=True)
        elif command == "tick":
            now, go = args
            clock.at = datetime.fromisoformat(now)
            _wait_until(float(go))
            print("expired", router.tick().expired, flush=True)
        elif command == "churn":
            clock.at = datetime.fromisoformat(args[0])
            while True:
                referral = router.request_contact(samples.CONSUMER)
                print(referral.id, flush=True)
                clock.advance(minutes=1)
                router.tick()


if __name__ == "__main__":
    main(*sys.argv[1:3])
