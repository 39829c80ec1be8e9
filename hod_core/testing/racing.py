"""Calls released at once on threads of their own: a store's race tests."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any


def together(calls: Sequence[Callable[[], Any]]) -> list[Any]:
    """Run each call on its own thread, all released at once by a barrier; their answers in order."""
    start, answers = threading.Barrier(len(calls)), [None] * len(calls)

    def run(n: int, call: Callable[[], Any]) -> None:
        start.wait()
        answers[n] = call()

    threads = [threading.Thread(target=run, args=(n, c)) for n, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return answers
