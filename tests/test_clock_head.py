"""The clock's next piece of work kept off the heap (``Scheduler.head``): the order of work
is exactly that of one heap keyed by (time, priority, sequence)."""

from __future__ import annotations

import heapq
import random
from collections.abc import Callable

from concsim.engine.clock import FAULT, NORMAL, Scheduler


def test_a_soon_with_nothing_else_due_now_is_the_head_and_runs_first() -> None:
    clock = Scheduler()
    ran: list[str] = []
    clock.at(5, ran.append, "later")
    clock.at(0, ran.append, "fault", priority=FAULT)
    clock.soon(ran.append, "soon")
    assert clock.head is not None
    assert clock.next_time() == 0
    clock.at(0, ran.append, "at now")
    clock.soon(ran.append, "second soon")
    while clock:
        clock.pop_and_run()
    assert ran == ["soon", "at now", "second soon", "fault", "later"]
    assert clock.head is None
    assert clock.next_time() is None
    assert not clock


def test_a_soon_behind_work_already_due_now_waits_its_turn() -> None:
    clock = Scheduler()
    ran: list[str] = []
    clock.at(0, ran.append, "due")
    clock.soon(ran.append, "soon")
    assert clock.head is None
    while clock:
        clock.pop_and_run()
    assert ran == ["due", "soon"]


def test_the_clock_keeps_the_order_of_one_heap_of_time_priority_sequence() -> None:
    """Random work, much of it scheduling more work as it runs, run by the clock and by a
    plain heap of (time, priority, sequence): the same order, for many seeds."""
    for seed in range(200):
        assert _run_clock(seed) == _run_heap(seed)


def _plan(seed: int) -> Callable[[int], list[tuple[str, int, int]]]:
    """What work number ``n`` schedules when it runs: (kind, delay, priority) each."""

    def children(n: int) -> list[tuple[str, int, int]]:
        rng = random.Random(seed * 1_000_003 + n)
        if n > 60:
            return []
        return [
            (rng.choice(("soon", "at")), rng.choice((0, 0, 1, 3)), rng.choice((NORMAL, FAULT)))
            for _ in range(rng.randint(0, 3))
        ]

    return children


def _run_clock(seed: int) -> list[int]:
    clock = Scheduler()
    children = _plan(seed)
    ran: list[int] = []
    made = [0]

    def work(n: int) -> None:
        ran.append(n)
        for kind, delay, priority in children(n):
            made[0] += 1
            if kind == "soon":
                clock.soon(work, made[0])
            else:
                clock.at(clock.now + delay, work, made[0], priority=priority)

    clock.soon(work, 0)
    while clock:
        clock.pop_and_run()
    return ran


def _run_heap(seed: int) -> list[int]:
    children = _plan(seed)
    heap: list[tuple[int, int, int, int]] = [(0, NORMAL, 0, 0)]
    ran: list[int] = []
    made, sequence = 0, 0
    while heap:
        now, _, _, n = heapq.heappop(heap)
        ran.append(n)
        for kind, delay, priority in children(n):
            made += 1
            sequence += 1
            when, level = (now, NORMAL) if kind == "soon" else (now + delay, priority)
            heapq.heappush(heap, (when, level, sequence, made))
    return ran
