"""The virtual clock: a heap of work keyed by (time, priority, sequence)."""

from __future__ import annotations

import heapq
from collections.abc import Callable
from typing import Any

NORMAL = 1
"""Ordinary work: wake-ups, timers, hand-offs."""
FAULT = 2
"""Injected faults run after everything else at their instant, so that a fault injected
interactively at time t (after the view has processed every event at t) and the same fault
replayed from a file land at exactly the same place in the order."""

Work = tuple[int, int, int, Callable[..., None], tuple[Any, ...]]


class Scheduler:
    """Runs callbacks in virtual time; time is integer microseconds, so it never drifts."""

    __slots__ = ("_heap", "_seq", "now")

    def __init__(self) -> None:
        self._heap: list[Work] = []
        self._seq = 0
        self.now = 0

    def at(self, when: int, fn: Callable[..., None], *args: Any, priority: int = NORMAL) -> None:
        if when < self.now:
            when = self.now  # the past is closed: late work runs now
        self._seq += 1
        heapq.heappush(self._heap, (when, priority, self._seq, fn, args))

    def soon(self, fn: Callable[..., None], *args: Any) -> None:
        self._seq += 1
        heapq.heappush(self._heap, (self.now, NORMAL, self._seq, fn, args))

    def next_time(self) -> int | None:
        return self._heap[0][0] if self._heap else None

    def pop_and_run(self) -> None:
        when, _, _, fn, args = heapq.heappop(self._heap)
        self.now = when
        fn(*args)

    def __bool__(self) -> bool:
        return bool(self._heap)
