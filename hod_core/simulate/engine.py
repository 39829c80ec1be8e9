"""The simulation: the real `Router` on the in-memory store and a fake clock.

Nothing of the lifecycle is modelled here: every request goes through
`Router.request_contact`, every answer through `accept` or `reject`, and time
moves through `tick()`, as in a server. What the engine adds is the world
around the router, as a queue of things due at instants:

- arrivals: the demand's requests, at their instants;
- answers: when an offer is made, the offered agent's answer (see
  `behaviour`) is queued at `offered_at + after`, if before the expiry;
- sweeps: `tick()` at each offer's expiry (L5: the next agent is offered
  at that instant, as a server ticking every second would), at each
  waiting referral's `wait_until` (L10), and every minute while any
  referral waits for an eligible agent (hours opening, agents freed).

Offers are seen through an in-process notifier on the email channel, which
every contact method includes (L2): it delivers at once, so the store records
`notify.sent` and misses count towards a suspension (L9) as in production.
It keeps no notice: only the referral id, the NPN and the deadline go on
the queue. Consumers need contact data to be valid requests; the engine
gives every request the same placeholder (never from input, never shown).
"""

from __future__ import annotations

import heapq
import itertools
import time
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from attrs import frozen

from hod_core.domain.models import Agent, Consumer
from hod_core.domain.referrals import Referral, ReferralStatus
from hod_core.errors import LifecycleError, NotFound
from hod_core.lifecycle.router import Router
from hod_core.rules.policy import Policy
from hod_core.simulate.behaviour import Behaviours
from hod_core.simulate.demand import Request
from hod_core.stores.memory.memory_store import MemoryStore
from hod_core.testing.doubles import FakeClock  # the clock hook, moved by hand (no pytest)

MINUTE = timedelta(minutes=1)
HORIZON = timedelta(days=2)  # after the last arrival: a run that has not settled stops
PLACEHOLDER = {  # the same made-up consumer for every request (no input has contact data)
    "first_name": "Simulated",
    "last_name": "Consumer",
    "phone": "+12025550100",
    "email": "consumer@example.com",
}
# Queue order at one instant: sweeps first (an expiry is recorded before
# anything else happens at that instant), then answers, then arrivals.
TICK, ANSWER, ARRIVAL = 0, 1, 2


@frozen
class Run:
    """What one simulated day left: the referrals (in demand order), the
    suspensions (npn, instant), and how long it took."""

    policy: Policy
    requests: Sequence[Request]
    referrals: Sequence[Referral]
    suspensions: Sequence[tuple[str, datetime]]
    agents: int
    answers_refused: int
    open_at_end: int
    wall_seconds: float


class _Instant:
    """The in-process notifier: an offer's notice becomes the agent's answer on the queue."""

    def __init__(self, on_offer: Callable[[str, str, datetime], None]):
        self._on_offer = on_offer

    def hod_notify_email(self, notice) -> None:
        if notice.kind == "offer":
            self._on_offer(notice.referral_id, notice.npn, notice.deadline)


class Simulation:
    """One policy over one demand, agents and behaviour. `run()` once."""

    def __init__(
        self,
        policy: Policy,
        agents: Sequence[Agent],
        requests: Sequence[Request],
        behaviours: Behaviours,
        seed: int,
        progress: Callable[[int, int], None] | None = None,
        freeze_after_load: bool = False,
    ):
        self.policy = policy
        self.requests = requests
        self.behaviours = behaviours
        self.seed = seed
        self.progress = progress
        self.agents = len(agents)
        self.store = MemoryStore()
        self.store.hod_store_put_agents(agents=agents, events=())
        start = requests[0].at if requests else datetime.now().astimezone()
        self.clock = FakeClock(start)
        self.router = Router(
            [self.store, self.clock, _Instant(self._offered)],
            policy=policy,
            channels=("email",),
            delivery_threads=0,
            new_id=self._new_id,
            freeze_after_load=freeze_after_load,  # see Router: for a process that only simulates
        )
        self._queue: list[tuple] = []
        self._order = itertools.count()
        self._arriving = 0  # the request number request_contact is creating
        self._index: dict[str, int] = {}  # referral id -> request number
        self._ids: list[str | None] = [None] * len(requests)
        self._ticks: set[datetime] = set()
        self._next_minute: datetime | None = None
        self.answers_refused = 0

    # -- the queue -------------------------------------------------------------
    def _push(self, at: datetime, kind: int, payload) -> None:
        heapq.heappush(self._queue, (at, kind, next(self._order), payload))

    def _tick_at(self, at: datetime) -> None:
        if at not in self._ticks:
            self._ticks.add(at)
            self._push(at, TICK, None)

    def _offered(self, referral_id: str, npn: str, deadline: datetime) -> None:
        now = self.clock.at
        self._tick_at(deadline)
        answer = self.behaviours.answer(self.seed, self._index[referral_id], npn)
        if answer.after is not None and now + answer.after < deadline:
            self._push(now + answer.after, ANSWER, (referral_id, npn, answer.action))

    # -- running ------------------------------------------------------------------
    def run(self) -> Run:
        began = time.perf_counter()
        for n, r in enumerate(self.requests):
            self._push(r.at, ARRIVAL, n)
        last_arrival = self.requests[-1].at if self.requests else self.clock.at
        arrived = 0
        while self._queue:
            at, kind, _, payload = heapq.heappop(self._queue)
            if at > last_arrival + HORIZON:
                break
            if at > self.clock.at:
                self.clock.at = at
            if kind == ARRIVAL:
                self._arrive(payload)
                arrived += 1
                if self.progress and arrived % 200 == 0:
                    self.progress(arrived, len(self.requests))
            elif kind == ANSWER:
                self._answer(*payload)
            else:
                self._ticks.discard(at)
                self.router.tick()
            self._keep_waiting_ones_swept()
        if self.progress:
            self.progress(arrived, len(self.requests))
        self.router.drain()  # every notice's outcome recorded before the store is read
        referrals = [self.router.referral(rid) for rid in self._ids if rid is not None]
        suspensions = self._suspensions()
        self.router.close()  # the store too: read everything first
        still_open = (ReferralStatus.WAITING, ReferralStatus.OFFERED)
        return Run(
            policy=self.policy,
            requests=self.requests,
            referrals=referrals,
            suspensions=suspensions,
            agents=self.agents,
            answers_refused=self.answers_refused,
            open_at_end=sum(r.status in still_open for r in referrals),
            wall_seconds=time.perf_counter() - began,
        )

    def _arrive(self, n: int) -> None:
        r = self.requests[n]
        consumer = Consumer(zip=r.zip, state=r.state, language=r.language, **PLACEHOLDER)
        self._arriving = n
        referral = self.router.request_contact(consumer)
        self._ids[n] = referral.id
        if referral.status is ReferralStatus.WAITING:
            self._tick_at(referral.wait_until)

    def _new_id(self, now: datetime) -> str:
        """Ids that sort by time, like the router's own, and repeat from run to run."""
        n = self._arriving
        rid = f"{int(now.timestamp() * 1_000_000):014x}{n:012x}"
        self._index[rid] = n
        return rid

    def _answer(self, referral_id: str, npn: str, action: str) -> None:
        try:
            if action == "accept":
                self.router.accept(referral_id, npn)
            else:
                self.router.reject(referral_id, npn)
        except (LifecycleError, NotFound):  # cannot happen before the expiry; counted if it does
            self.answers_refused += 1

    def _keep_waiting_ones_swept(self) -> None:
        """A sweep every minute while any referral waits (L10)."""
        if self._next_minute is not None and self._next_minute > self.clock.at:
            return
        self._next_minute = None
        if self.store.hod_store_waiting():
            self._next_minute = self.clock.at + MINUTE
            self._tick_at(self._next_minute)

    def _suspensions(self) -> list[tuple[str, datetime]]:
        found, after = [], 0
        while True:
            events = self.store.hod_store_events(referral_id=None, after=after, limit=50_000)
            found += [(e.npn, e.at) for e in events if e.kind == "agent.suspended"]
            if len(events) < 50_000:
                return found
            after = events[-1].seq
