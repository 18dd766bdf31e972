"""The virtual clock: work runs in order of (time, priority, sequence)."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from heapq import heappop, heappush
from typing import Any

NORMAL = 1
"""Ordinary work: wake-ups, timers, hand-offs."""
FAULT = 2
"""Injected faults run after everything else at their instant, so that a fault injected
interactively at time t (after the view has processed every event at t) and the same fault
replayed from a file land at exactly the same place in the order."""

Key = tuple[int, int]
"""(time in microseconds, priority): one bucket of work."""
Work = tuple[Callable[..., None], tuple[Any, ...]]


class Scheduler:
    """Runs callbacks in virtual time; time is integer microseconds, so it never drifts.

    The order is that of a heap keyed by (time, priority, sequence), where sequence counts
    the calls to ``at`` and ``soon``: earliest first, then lower priority, then first
    scheduled. It is kept as a heap of the distinct (time, priority) keys and, for each
    key, a FIFO of its work. A FIFO is in sequence order by construction, so taking the
    head of the smallest key's FIFO is taking the smallest (time, priority, sequence).
    Simulations put many callbacks at the same instant (a thousand coroutines whose 10 ms
    sleeps all end together, every ``soon``), and then the heap holds one key for all of
    them instead of one entry each: most scheduling is an append and a popleft.

    Work added at the key being run (a ``soon`` from a callback) joins the end of its FIFO,
    exactly where its sequence number would put it. Work added at a smaller key (normal
    work scheduled by a fault at the same instant) is a new heap minimum and runs next, as
    it would in the single heap. Each ``pop_and_run`` looks at the heap afresh, so nothing
    depends on runs of work at one key being drained together.

    One piece of work is kept outside the heap: the first ``soon`` of an instant at which
    nothing else is due at normal priority (``head``, see ``soon``). It is the smallest
    (time, priority, sequence) there can be, so it runs next; ``next_time``, ``bool`` and
    ``pop_and_run`` read it first.
    """

    __slots__ = ("_buckets", "head", "keys", "now", "scheduled")

    def __init__(self) -> None:
        self.keys: list[Key] = []  # a heap; each key has a non-empty bucket: empty, no work
        self._buckets: dict[Key, deque[Work]] = {}
        self.scheduled = 0  # callbacks scheduled so far (the sequence number of the last)
        self.now = 0
        self.head: Work | None = None  # the next work, due now, kept off the heap (soon)

    def at(self, when: int, fn: Callable[..., None], *args: Any, priority: int = NORMAL) -> None:
        if when < self.now:
            when = self.now  # the past is closed: late work runs now
        self.scheduled += 1
        key = (when, priority)
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = deque()
            heappush(self.keys, key)
        bucket.append((fn, args))

    def soon(self, fn: Callable[..., None], *args: Any) -> None:
        """Run ``fn(*args)`` now, after the work already due now at normal priority.

        Most ``soon`` calls (a GIL hand-off, a wake-up) are the only work due at their
        instant: such work is the heap's next minimum, so it is kept in ``head`` rather
        than pushed and popped again (a bucket, a heap entry and a dict entry fewer)."""
        self.scheduled += 1
        key = (self.now, NORMAL)
        bucket = self._buckets.get(key)
        if bucket is None and self.head is None:
            self.head = (fn, args)
            return
        if bucket is None:
            bucket = self._buckets[key] = deque()
            heappush(self.keys, key)
        bucket.append((fn, args))

    def next_time(self) -> int | None:
        if self.head is not None:
            return self.now
        return self.keys[0][0] if self.keys else None

    def pop_and_run(self) -> None:
        head = self.head
        if head is not None:  # due now, before everything on the heap (soon)
            self.head = None
            head[0](*head[1])
            return
        key = self.keys[0]
        bucket = self._buckets[key]
        fn, args = bucket.popleft()
        if not bucket:
            # Dropped before ``fn`` runs: work it adds at this key starts a fresh bucket.
            heappop(self.keys)
            del self._buckets[key]
        self.now = key[0]
        fn(*args)

    def __bool__(self) -> bool:
        return self.head is not None or bool(self.keys)
