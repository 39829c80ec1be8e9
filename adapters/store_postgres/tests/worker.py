"""A separate process on the same PostgreSQL schema, driven line by line on stdin.

    python worker.py SETTINGS_JSON

    accept RID NPN NOW GO   accept at clock NOW, starting at monotonic time GO
    tick NOW GO             run the sweep at clock NOW, starting at GO
    churn NOW               create referrals forever, a minute apart, and print
                            each id once its commit has returned

Answers one line per command: `won`, `lost <ErrorType>`, `expired <n>`.
"""

from __future__ import annotations

import json
import sys
import time
from datetime import datetime

from hod_core.conformance import samples
from hod_core.errors import LifecycleError
from hod_core.router import Router
from hod_core.testing import FakeClock, Outbox
from hod_store_postgres import PostgresStore


def wait_until(go: float) -> None:
    while time.monotonic() < go:
        pass


def main(settings: str) -> None:
    clock = FakeClock(samples.START)
    router = Router([PostgresStore.from_settings(json.loads(settings)), clock, Outbox()])
    print("ready", flush=True)
    for line in sys.stdin:
        command, *args = line.split()
        if command == "accept":
            rid, npn, now, go = args
            clock.at = datetime.fromisoformat(now)
            wait_until(float(go))
            try:
                router.accept(rid, npn)
                print("won", flush=True)
            except LifecycleError as exc:
                print("lost", type(exc).__name__, flush=True)
        elif command == "tick":
            now, go = args
            clock.at = datetime.fromisoformat(now)
            wait_until(float(go))
            print("expired", router.tick().expired, flush=True)
        elif command == "churn":
            clock.at = datetime.fromisoformat(args[0])
            while True:
                referral = router.request_contact(samples.CONSUMER)
                print(referral.id, flush=True)
                clock.advance(minutes=1)
                router.tick()


if __name__ == "__main__":
    main(sys.argv[1])
