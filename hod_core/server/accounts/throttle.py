"""Login throttling that slows password guessing without locking agents out.

Failed log-ins are counted under three keys, in the store (so every server
process counts together), each in a 15-minute window:

- the login name *and* the client's address: after 5 failures, each further
  try waits 1, 2, 4 ... seconds after the last failure, at most 5 minutes.
  This is the key that stops a guesser; and since it includes the address,
  a guesser elsewhere never delays the real agent at their own address.
- the login name alone (guessing from many addresses): after 20 failures,
  a delay capped at 30 seconds, so the real agent waits half a minute at
  worst, and a botnet gets two guesses a minute at an argon2id hash.
- the address alone (one address trying many names): after 50 failures, a
  delay capped at 5 minutes; an office behind one NAT address is at worst
  slowed, never locked out.

A refused try is answered 429 with `Retry-After` before the password is
checked, so it tells nothing and costs no hashing. A success clears the
name-and-address key. Keys are hashed: a password typed into the name field
is not kept. Never a permanent lock: every delay ends within minutes.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable
from datetime import datetime, timedelta

from attrs import frozen

from hod_core.domain.account_records import ThrottleState


@frozen
class Limit:
    """Failures allowed freely in a window, then a doubling delay up to `cap_s`."""

    name: str
    free: int
    cap_s: float

    def wait_s(self, state: ThrottleState, now: datetime) -> float:
        """Seconds still to wait at `now` before the next try (0: go ahead)."""
        if state.count < self.free:
            return 0.0
        delay = min(2.0 ** (state.count - self.free), self.cap_s)
        ready = state.last_at + timedelta(seconds=delay)
        return max(0.0, (ready - now).total_seconds())


WINDOW_S = 15 * 60.0
PAIR = Limit("pair", free=5, cap_s=300.0)
LOGIN = Limit("login", free=20, cap_s=30.0)
ADDRESS = Limit("address", free=50, cap_s=300.0)


class LoginThrottle:
    """The three counters over the store's throttle hooks (`hook` is the
    router's plugin hook relay, or anything with the same three methods)."""

    def __init__(self, hook, *, window_s: float = WINDOW_S, limits=(PAIR, LOGIN, ADDRESS)):
        self._hit: Callable[..., ThrottleState] = hook.hod_store_throttle_hit
        self._read: Callable[..., ThrottleState] = hook.hod_store_throttle
        self._clear: Callable[..., None] = hook.hod_store_throttle_clear
        self.window_s = window_s
        self.limits = limits

    def retry_after(self, login: str, address: str, now: datetime) -> int:
        """Whole seconds to wait before this try may be checked; 0 when it may."""
        wait = 0.0
        for limit, key in self._keys(login, address):
            state = self._read(key=key, now=now, window_s=self.window_s)
            wait = max(wait, limit.wait_s(state, now))
        return math.ceil(wait)

    def failed(self, login: str, address: str, now: datetime) -> None:
        for _, key in self._keys(login, address):
            self._hit(key=key, now=now, window_s=self.window_s)

    def succeeded(self, login: str, address: str) -> None:
        pair_key = next(key for limit, key in self._keys(login, address) if limit is PAIR)
        self._clear(key=pair_key)

    def _keys(self, login: str, address: str) -> list[tuple[Limit, str]]:
        parts = {"pair": f"{login}\x00{address}", "login": login, "address": address}
        return [(limit, _key(limit.name, parts[limit.name])) for limit in self.limits]


def _key(kind: str, value: str) -> str:
    return f"{kind}:" + hashlib.sha256(value.encode("utf-8", "replace")).hexdigest()
