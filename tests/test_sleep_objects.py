"""What a sleeping coroutine keeps alive for the garbage collector to track: each such
object is walked by every collection of the generation it sits in, and enough of them
promoted to the oldest generation make the collector walk the whole heap."""

from __future__ import annotations

import gc
from collections import Counter

from concsim.engine import Simulation
from concsim.engine.clock import FAULT
from concsim.scenario.model import Scenario

COROUTINES = 1_000


def _sleepers() -> Scenario:
    return Scenario.model_validate(
        {
            "name": "sleepers",
            "program": {"model": "asyncio", "collect": "gather"},
            "tasks": [
                {
                    "name": "sleeper",
                    "repeat": COROUTINES,
                    "steps": [{"repeat": 4, "steps": [{"sleep": "10ms"}]}],
                }
            ],
        }
    )


def _tracked_mid_run() -> Counter[str]:
    """The tracked objects the run added, by type, while every coroutine sleeps."""
    scenario = _sleepers()
    added: Counter[str] = Counter()
    gc.collect()
    before = Counter(type(o).__name__ for o in gc.get_objects())
    sim = Simulation(scenario)

    def probe() -> None:
        now = Counter(type(o).__name__ for o in gc.get_objects())
        added.update(now - before)

    sim.world.clock.at(25_000, probe, priority=FAULT)  # in the third sleep of each
    sim.run()
    return added


def test_a_sleeping_coroutine_keeps_its_lane_frames_and_task_but_no_spare_objects() -> None:
    added = _tracked_mid_run()
    # Its lane and I/O waker, its task and future, its two generator frames (the task's
    # function and the loop of awaits) and the list of values it consumes: 7 a coroutine,
    # and the run's own few.
    for kind in ("Lane", "Waker", "TaskRun", "Future"):
        assert COROUTINES <= added[kind] <= COROUTINES + 5, (kind, added[kind])
    assert 2 * COROUTINES <= added["generator"] <= 2 * COROUTINES + 10
    # None of: a result made before the body has run, a bound method per task for its
    # return, a tuple iterator per loop of awaits, a list per future for its callbacks,
    # a tuple per wake-up in the ready queue.
    assert added["TaskResult"] == 0
    assert added["method"] < COROUTINES // 10
    assert added["tuple_iterator"] < COROUTINES // 10
    assert added["list"] < COROUTINES + COROUTINES // 10
    assert sum(added.values()) < 8 * COROUTINES
