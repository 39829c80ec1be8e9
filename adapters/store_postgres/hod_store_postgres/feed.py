"""Which agent revision is newest, known without asking the database each time.

A router asks the store for agents changed since its last revision on every
Get Contacted request and every sweep (`hod_store_agents(after=...)`); almost
always the answer is "none". A save in any process sends `NOTIFY hod_agents_<schema>,
'<revision>'` inside its transaction (delivered when it commits); one thread
per store instance LISTENs and keeps the newest revision heard. So the store
queries only when there is news, and still at least every `poll_s` seconds:
a notification is lost while the listening connection is down (a restart, a
failover), so the poll is the backstop, and a reconnect forces one at once.
"""

from __future__ import annotations

import logging
import threading
import time

import psycopg
from psycopg import sql

log = logging.getLogger(__name__)

CHANNEL = "hod_agents_{schema}"  # NOTIFY reaches the whole database: one per schema
RECONNECT_S = (0.1, 0.5, 1.0, 2.0)  # waits between attempts, then the last one forever


class AgentFeed:
    """The newest agent revision this process knows of, kept by LISTEN/NOTIFY."""

    def __init__(self, conninfo: str, connect_kwargs: dict, poll_s: float, channel: str):
        self._conninfo = conninfo
        self.channel = channel
        self._kwargs = connect_kwargs
        self.poll_s = poll_s
        self.latest = 0  # the newest revision heard of or read
        self._checked_at = float("-inf")  # monotonic time of the last query
        self._listening = False
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Condition()

    def worth_asking(self, after: int) -> bool:
        """Should `hod_store_agents(after)` query? Yes unless nothing newer than
        `after` was heard of, the listener is up, and the last query is recent."""
        self._start()
        if after < self.latest or not self._listening:
            return True
        return time.monotonic() - self._checked_at >= self.poll_s

    def asked_at(self) -> float:
        """Call before querying; pass the result to `answered`."""
        return time.monotonic()

    def answered(self, started: float, newest: int) -> None:
        """A query that started at `started` saw revisions up to `newest`."""
        with self._lock:
            self.latest = max(self.latest, newest)
            self._checked_at = max(self._checked_at, started)

    def heard(self, revision: int) -> None:
        with self._lock:
            self.latest = max(self.latest, revision)
            self._lock.notify_all()

    def wait_for(self, revision: int, timeout: float) -> bool:
        """Wait until this process has heard of `revision` (or a later one):
        True, or False after `timeout` seconds. For hosts and tests that must
        know another process's save has arrived."""
        self._start()
        with self._lock:
            return self._lock.wait_for(lambda: self.latest >= revision, timeout)

    @property
    def listening(self) -> bool:
        return self._listening

    def close(self) -> None:
        """Stop listening: the thread ends (and its connection closes) within a
        `notifies` wait; nobody needs to wait for that."""
        self._stop.set()

    # -- the listening thread -----------------------------------------------------
    def _start(self) -> None:
        if self._thread is None and not self._stop.is_set():
            with self._lock:
                if self._thread is None:
                    self._thread = threading.Thread(
                        target=self._listen, name="hod-agent-feed", daemon=True
                    )
                    self._thread.start()

    def _listen(self) -> None:
        failures = 0
        while not self._stop.is_set():
            try:
                with psycopg.connect(self._conninfo, autocommit=True, **self._kwargs) as conn:
                    conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(self.channel)))
                    self._checked_at = float("-inf")  # what was sent while deaf: poll now
                    self._listening, failures = True, 0
                    while not self._stop.is_set():
                        for note in conn.notifies(timeout=0.5):
                            self.heard(int(note.payload))
            except (psycopg.Error, ValueError) as exc:
                if self._stop.is_set():
                    break
                if self._listening or not failures:
                    log.warning("store_postgres: agent notifications down, polling: %s", exc)
                self._listening = False
                wait = RECONNECT_S[min(failures, len(RECONNECT_S) - 1)]
                failures += 1
                self._stop.wait(wait)
        self._listening = False
