"""Delivering notices (L2, R4): every attempt recorded, transient failures retried.

The delivery policy:

- One notice per channel of the agent's contact method (email always),
  addressed to the agent field its channel names (`hod_core.domain.channels`:
  the core channels and those adapters register are treated alike). A
  channel this deployment does not send on is recorded as `notify.skipped`,
  never dropped in silence.
- Channels are independent. Each has its own worker threads, so a stalled
  SMTP server delays neither the text nor the app notice, nor the router:
  the offer window was fixed when the offer was committed, before any send.
- Every attempt becomes an event: `notify.sent`, or `notify.failed` with the
  error's type and the far end's code (never its message, which may hold an
  address).
- A transient failure (`DeliveryFailed(transient=True)`, or any OSError:
  timeouts, refused and dropped connections) is tried again after a backoff
  with jitter, up to the rule file's `notify_max_attempts`. Retries are due
  on the clock, and the router's `tick` runs them. A retry that would come
  at or after the offer's expiry is not scheduled. One whose offer was
  answered in the meantime is dropped, with a `notify.dropped` event.
- Failures never touch the referral: it expires and moves on by the clock.

Outcomes are not written at once: they ride with the router's next commit,
or a flush. A transaction of their own per offer would cost a third of the
referral rate on SQLite. A process killed in between loses the record of a
notice and its pending retries, never a referral or an offer.
"""

from __future__ import annotations

import collections
import heapq
import itertools
import logging
import random
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from attrs import frozen

from hod_core.domain import channels as registry
from hod_core.domain.models import Agent
from hod_core.domain.referrals import Event, Offer, Referral, evolve
from hod_core.errors import DeliveryFailed
from hod_core.notify.notices import Notice, notice_language

log = logging.getLogger(__name__)

LINGER_S = 0.02  # how long a delivery worker that just sent waits before it looks again
LINGER_ROUNDS = 5  # looks that find nothing before it sleeps (0.1 s without notices)
RULE_OF_KIND = {"offer": "L2", "test": "R4", "invitation": "R1", "reset": None}


@frozen
class RetryPolicy:
    """How often, and how far apart, a transient failure is tried again."""

    max_attempts: int = 4
    base: timedelta = timedelta(seconds=30)
    cap: timedelta = timedelta(minutes=4)

    @classmethod
    def of(cls, policy) -> RetryPolicy:
        """The rule file's retry parameters (`notify_*`)."""
        return cls(policy.notify_max_attempts, policy.notify_retry, policy.notify_retry_max)

    def backoff(self, attempt: int, rng: random.Random) -> timedelta:
        """The wait after failed attempt number `attempt`: doubling from `base`
        up to `cap`, then drawn between half and all of it ("equal jitter")."""
        full = min(self.cap, self.base * 2 ** (attempt - 1))
        return full / 2 + full / 2 * rng.random()


@frozen
class _Job:
    """A notice still to deliver, to the senders of its channel not yet reached."""

    notice: Notice
    senders: tuple[Callable[..., None], ...]
    expires_at: datetime | None  # an offer's deadline; no retry at or after it


class Dispatcher:
    """Notices out through the channel hooks; every attempt kept as an event.

    `now`: the router's clock. `threads`: worker threads per channel; 0 sends
    in the caller's thread (deterministic, for tests and one-shot scripts).
    """

    def __init__(
        self,
        hook,
        channels: tuple[str, ...],
        *,
        link_base: str,
        now: Callable[[], datetime],
        retry: RetryPolicy = RetryPolicy(),  # noqa: B008 (frozen, shared safely)
        threads: int = 4,
    ):
        # Every sender of a channel gets the notice, each on its own: one that
        # raises does not keep the notice from the next (pluggy's call would).
        self._senders = {
            channel.name: tuple(
                impl.function for impl in getattr(hook, channel.hook).get_hookimpls()
            )
            for channel in registry.channels()
            if hasattr(hook, channel.hook)
        }
        self._addresses = {channel.name: channel.address for channel in registry.channels()}
        self._tested = {
            channel.name for channel in registry.channels() if channel.registration_test
        }
        self.channels = channels
        self.link_base = link_base
        self.retry = retry
        self._now = now
        self._rng = random.Random()  # the jitter's draws
        self._lanes = {
            channel: _Lane(channel, threads, self._attempt) for channel in channels if threads > 0
        }
        self._retries: list[tuple[datetime, int, _Job]] = []  # a heap by due time
        self._order = itertools.count()
        self._outcomes: list[Event] = []
        self._lock = threading.Lock()

    # -- what is sent ----------------------------------------------------------
    def offer(self, referral: Referral, offer: Offer, agent: Agent, zone: str) -> None:
        """Tell `agent` of `offer` on every channel of its contact method (L2)."""
        about = {
            "referral_id": referral.id,
            "link": f"{self.link_base}{referral.id}",
            "consumer_state": referral.state,
            "consumer_language": referral.language,
            "deadline": offer.expires_at,
            "deadline_local": offer.expires_at.astimezone(ZoneInfo(zone)),
        }
        for channel in agent.contact_method.channels:
            notice = self._notice(agent, "offer", channel, offer.offered_at, **about)
            self.send(notice, expires_at=offer.expires_at)

    def registration_test(self, agent: Agent, at: datetime) -> bool:
        """R4: a test message on each channel of the agent's contact method that
        tests itself on registration (text). False when there is none."""
        tested = [c for c in agent.contact_method.channels if c in self._tested]
        for channel in tested:
            self.send(self._notice(agent, "test", channel, at))
        return bool(tested)

    def _notice(self, agent: Agent, kind: str, channel: str, at: datetime, **about) -> Notice:
        """A notice to `agent` on `channel`, addressed to the channel's field of
        the agent; `about`: the referral fields of an offer."""
        return Notice(
            kind=kind,
            channel=channel,
            to=getattr(agent, self._addresses.get(channel, "npn")),  # unknown: skipped
            npn=agent.npn,
            agent_first_name=agent.first_name,
            language=notice_language(agent.languages),
            sent_at=at,
            **about,
        )

    # -- sending ------------------------------------------------------------
    def send(self, notice: Notice, expires_at: datetime | None = None) -> None:
        """Deliver `notice` on its channel, now or on a worker thread."""
        if notice.channel not in self.channels:
            self._record(notice, "notify.skipped", {})
            return
        self._submit(_Job(notice, self._senders[notice.channel], expires_at))

    def _submit(self, job: _Job) -> None:
        lane = self._lanes.get(job.notice.channel)
        if lane is None:
            self._attempt(job)
        else:
            lane.put(job)

    def _attempt(self, job: _Job) -> None:
        """One attempt at every sender still owed the notice; the outcome recorded."""
        at = self._now()
        notice = job.notice
        if notice.sent_at != at:  # stamped at creation; a retry or a queue's wait moves it
            notice = evolve(notice, sent_at=at)
        failed: list[Callable[..., None]] = []
        errors: list[BaseException] = []
        for send in job.senders:
            try:
                send(notice=notice)
            except Exception as exc:  # a failing sender never blocks the others (L2)
                failed.append(send)
                errors.append(exc)
        if not errors:
            self._record(notice, "notify.sent", {"attempt": notice.attempt})
            return
        error = errors[0]
        transient = all(_transient(e) for e in errors)
        detail = {"attempt": notice.attempt, "error": type(error).__name__, "transient": transient}
        if getattr(error, "code", ""):
            detail["code"] = str(error.code)
        retry_at = self._retry_at(notice, job.expires_at, transient, errors, at)
        if retry_at is None:
            detail["final"] = True
        else:
            detail["retry_at"] = retry_at.isoformat()
            retry = evolve(job, notice=evolve(notice, attempt=notice.attempt + 1), senders=failed)
            with self._lock:
                heapq.heappush(self._retries, (retry_at, next(self._order), retry))
        log.warning(
            "referral %s: %s notice to agent %s, attempt %d failed: %s%s",
            notice.referral_id or "-",
            notice.channel,
            notice.npn,
            notice.attempt,
            type(error).__name__,
            f", retry at {retry_at.isoformat()}" if retry_at else "",
        )
        self._record(notice, "notify.failed", detail)

    def _retry_at(
        self,
        notice: Notice,
        expires_at: datetime | None,
        transient: bool,
        errors: list[BaseException],
        at: datetime,
    ) -> datetime | None:
        """When to try again, or None: not transient, out of attempts, or too late."""
        if not transient or notice.attempt >= self.retry.max_attempts:
            return None
        wait = self.retry.backoff(notice.attempt, self._rng)
        advised = max((getattr(e, "retry_after", None) or 0) for e in errors)
        retry_at = at + max(wait, timedelta(seconds=advised))
        if expires_at is not None and retry_at >= expires_at:
            return None  # a notice after the window closes is no use to anyone
        return retry_at

    # -- retries, due on the clock ------------------------------------------------
    def retry_due(self, now: datetime, still_wanted: Callable[[Notice], str | None]) -> int:
        """Send the retries due by `now`. `still_wanted(notice)` says why a notice
        is not wanted (its offer was answered), or None to send it."""
        due = []
        with self._lock:
            while self._retries and self._retries[0][0] <= now:
                due.append(heapq.heappop(self._retries)[2])
        sent = 0
        for job in due:
            because = still_wanted(job.notice)
            if because is None:
                self._submit(job)
                sent += 1
            else:
                self._record(
                    job.notice,
                    "notify.dropped",
                    {"attempt": job.notice.attempt, "because": because},
                    at=now,
                )
        return sent

    def retries_pending(self) -> int:
        with self._lock:
            return len(self._retries)

    # -- the records ----------------------------------------------------------------
    def _record(self, notice: Notice, kind: str, detail: dict, at: datetime | None = None) -> None:
        event = Event(
            at or notice.sent_at,
            kind,
            notice.referral_id,
            notice.npn,
            rule=RULE_OF_KIND[notice.kind],
            detail={"channel": notice.channel, **detail},
        )
        with self._lock:
            self._outcomes.append(event)

    def take(self) -> list[Event]:
        """The outcomes not yet written, handed over (to a commit or a flush)."""
        with self._lock:
            taken, self._outcomes = self._outcomes, []
        return taken

    def flush(self, write: Callable[..., None]) -> None:
        """Write the outcomes no commit carried, with `write(events=...)` (the
        store's append hook). If it raises, they stay for the next try."""
        outcomes = self.take()
        if outcomes:
            try:
                write(events=outcomes)
            except BaseException:
                self.put_back(outcomes)
                raise

    def put_back(self, events: list[Event]) -> None:
        """Return outcomes a refused commit did not write, ahead of newer ones."""
        with self._lock:
            self._outcomes[:0] = events

    def drain(self, timeout: float | None = None) -> bool:
        """Wait for the attempts under way (not for retries due later). True when
        none is left running; a stalled channel may hold one past `timeout`."""
        deadline = None if timeout is None else time.monotonic() + timeout
        return all(
            lane.wait(None if deadline is None else max(0.0, deadline - time.monotonic()))
            for lane in self._lanes.values()
        )

    def close(self) -> None:
        """Finish the attempts under way and stop the worker threads."""
        lanes, self._lanes = self._lanes, {}  # from now on, any notice goes inline
        for lane in lanes.values():
            lane.close()


class _Lane:
    """One channel's queue and worker threads.

    Waking a sleeping thread for every notice costs more than sending it to a
    local notifier: on a busy core each hand-off is a few context switches
    and a GIL hand-over, a sixth of the referral rate. So a worker that has
    just sent something lingers, unless another does: it looks at the queue
    again every `LINGER_S` for `LINGER_ROUNDS` looks before it sleeps, and a
    notice put while one lingers wakes nobody (it waits at most `LINGER_S`). A notice
    put while every worker is sending or asleep wakes a sleeping one, so a
    stalled send still holds up no other notice. Not an executor: a Future
    and its callbacks per notice would cost more still. Daemon threads: a host that
    exits without `close()` loses only the notices still queued, as a killed
    process would."""

    def __init__(self, channel: str, threads: int, attempt: Callable[[_Job], None]):
        self._jobs: collections.deque[_Job] = collections.deque()
        self._attempt = attempt
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)  # for a sleeping worker
        self._idle = threading.Condition(self._lock)  # for `wait`: nothing pending
        self._pending = 0  # queued or being sent
        self._sleeping = 0
        self._lingering = 0
        self._closed = False
        self._threads = [
            threading.Thread(target=self._work, name=f"hod-{channel}-{n}", daemon=True)
            for n in range(threads)
        ]
        self._started = False  # threads start with the first notice: many routers send none

    def put(self, job: _Job) -> None:
        with self._lock:
            self._pending += 1
            self._jobs.append(job)
            if not self._started:
                self._started = True
                for thread in self._threads:
                    thread.start()
            elif self._sleeping and not self._lingering:
                self._wake.notify()

    def _work(self) -> None:
        looks = LINGER_ROUNDS  # a new worker sleeps until there is work
        while True:
            with self._lock:
                if self._jobs:
                    job = self._jobs.popleft()
                elif self._closed:
                    return
                elif looks < LINGER_ROUNDS and not self._lingering:  # one lingers at a time
                    self._lingering += 1
                    job = None
                else:
                    self._sleeping += 1
                    self._wake.wait()
                    self._sleeping -= 1
                    continue
            if job is None:
                time.sleep(LINGER_S)
                with self._lock:
                    self._lingering -= 1
                looks += 1
                continue
            looks = 0
            try:
                self._attempt(job)
            except Exception:  # a bug in recording; the worker must live on
                log.exception("delivery worker: unexpected error")
            finally:
                with self._lock:
                    self._pending -= 1
                    if not self._pending:
                        self._idle.notify_all()

    def wait(self, timeout: float | None) -> bool:
        with self._lock:
            return self._idle.wait_for(lambda: not self._pending, timeout)

    def close(self) -> None:
        """Send what is queued, then stop the threads."""
        with self._lock:
            self._closed = True
            self._wake.notify_all()
        if self._started:
            for thread in self._threads:
                thread.join()


def _transient(error: BaseException) -> bool:
    """May trying again help? The adapter says so; network errors may pass;
    anything else (a bug, a refusal) will fail the same way again."""
    if isinstance(error, DeliveryFailed):
        return error.transient
    return isinstance(error, OSError)
