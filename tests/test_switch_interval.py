"""The switch interval: one drop timer per GIL stands for every waiter's timed wait."""

from __future__ import annotations

from collections import deque
from typing import Any

import pytest

from concsim.engine import Simulation
from concsim.engine.clock import Scheduler
from concsim.engine.runtime import Gil, Lane, Proc, TimerStage
from concsim.engine.threads.switch_interval import (
    first_timeout_after,
    next_drop,
    timer_for,
    wait_interval,
)
from concsim.events import GilChanged, LaneKind
from concsim.scenario.loader import load_scenario_text

INTERVAL = 5_000


def waiting(since: dict[str, tuple[int, int]], switches: int, switched_at: int) -> Gil:
    """A GIL whose waiters began at ``since`` (id: (when, switch number seen))."""
    proc = Proc("main", None)
    lanes = {name: Lane(id=name, kind=LaneKind.THREAD, proc=proc) for name in since}
    gil = Gil(waiters=deque(lanes.values()), switches=switches, switched_at=switched_at)
    gil.waiting_since = {lanes[name]: seen for name, seen in since.items()}
    return gil


def test_a_waiter_that_saw_no_switch_requests_the_drop_one_interval_after_it_began() -> None:
    """take_gil: the timed wait times out after the interval and, with gil->switch_number
    as it was, sets the drop request."""
    gil = waiting({"thread-2": (1_000, 3)}, switches=3, switched_at=0)
    assert next_drop(gil, INTERVAL, after=1_000) == 6_000


def test_a_waiter_that_saw_a_switch_waits_a_whole_interval_more() -> None:
    """take_gil: a timeout after a switch only saves the new switch number and waits
    again, so the drop request comes one interval after the first timeout past the switch
    (its timeouts stay on its own grid, 2,000 + k * 5,000 us)."""
    gil = waiting({"thread-2": (2_000, 3)}, switches=4, switched_at=9_000)
    assert first_timeout_after(2_000, 9_000, INTERVAL) == 12_000
    assert next_drop(gil, INTERVAL, after=9_000) == 17_000


def test_a_timeout_at_the_instant_of_the_switch_counts_on_whichever_side_it_ran() -> None:
    """A timeout due at the very instant of the switch: if it ran after the switch it saw
    the new number (drop one interval later); if before, it saw the old one and waits
    again first."""
    gil = waiting({"thread-2": (0, 3)}, switches=4, switched_at=10_000)
    assert next_drop(gil, INTERVAL, after=10_000) == 15_000
    gil.waits_ended_first = True
    assert next_drop(gil, INTERVAL, after=10_000) == 20_000


def test_the_first_waiter_to_time_out_unchanged_decides_the_drop() -> None:
    """The drop request is one per interpreter: the earliest of the waiters' timeouts
    that finds no switch sets it."""
    gil = waiting(
        {"thread-2": (0, 3), "thread-3": (7_000, 4), "thread-4": (8_000, 4)},
        switches=4,
        switched_at=6_000,
    )
    # thread-2 timed out at 5,000 us (before the switch) and at 10,000 saw the switch:
    # drop at 15,000; thread-3 began after the switch: drop at 12,000.
    assert next_drop(gil, INTERVAL, after=8_000) == 12_000


def test_the_timer_runs_early_when_the_wait_before_the_drop_is_still_to_come() -> None:
    """Armed at 1,000 us for a drop at 17,000, the timer first runs at 12,000 (the timeout
    that waits again), so work started in between and ending at 17,000 keeps its place."""
    assert timer_for(17_000, INTERVAL, now=1_000) == (12_000, TimerStage.WAIT_AGAIN)
    assert timer_for(17_000, INTERVAL, now=12_000) == (17_000, TimerStage.DROP)


def test_an_interval_below_a_microsecond_waits_one() -> None:
    """take_gil: ``interval = gil->interval >= 1 ? gil->interval : 1``."""
    assert wait_interval(0) == 1
    assert wait_interval(5_000) == 5_000


def spinning(threads: int) -> str:
    return f"""
name: spin
machine: {{cores: {threads}, switch_interval: 5ms}}
program: {{model: threads, max_workers: {threads}, collect: map}}
tasks:
  - {{name: spin, repeat: {threads}, steps: [{{repeat: 10, steps: [{{cpu: 100ms}}]}}]}}
"""


def drop_timers_and_handoffs(monkeypatch: pytest.MonkeyPatch, threads: int) -> tuple[int, int]:
    """How many drop timers a run arms, and how many times the GIL changes hands."""
    armed = 0
    schedule = Scheduler.at

    def counting(clock: Scheduler, when: int, fn: Any, *args: Any, **kwargs: Any) -> None:
        nonlocal armed
        armed += getattr(fn, "__name__", "") == "_drop_timer_expired"
        schedule(clock, when, fn, *args, **kwargs)

    monkeypatch.setattr(Scheduler, "at", counting)
    sim = Simulation(load_scenario_text(spinning(threads), "spin.yaml"))
    sim.run()
    handoffs = sum(1 for e in sim.events if isinstance(e, GilChanged) and e.holder)
    return armed, handoffs


@pytest.mark.parametrize("threads", [2, 4, 8])
def test_drop_timers_follow_the_gils_handoffs_not_its_waiters(
    monkeypatch: pytest.MonkeyPatch, threads: int
) -> None:
    """CPU-bound threads under one GIL: about one drop timer is armed per hand-off, however
    many threads wait (a timer per waiter made it about one per waiter per interval)."""
    armed, handoffs = drop_timers_and_handoffs(monkeypatch, threads)
    assert handoffs >= 100 * threads - 10  # ten 100 ms steps each, a switch every 5 ms
    # A few more where a thread starts or ends while others wait (the waiters change).
    assert handoffs <= armed <= handoffs + 2 * threads
