"""A GIL hand-off at a drop request: the preempted thread is parked in take_gil by the GIL
model (its wait a ``GilRetake``), its actor left at its ``CpuRun``, and its code goes on
when the GIL comes back (concsim/engine/cores.py, ``_preempt`` and ``_retaken``)."""

from __future__ import annotations

from typing import Any

from concsim.engine import Injection, Simulation
from concsim.engine.runtime import Lane
from concsim.engine.waits import GilRetake
from concsim.events import GilChanged, LaneState
from concsim.scenario.loader import load_scenario_text

TWO_THREADS = """
name: two
machine: {switch_interval: 5ms}
program: {model: threads, executor: false, collect: join}
tasks:
  - {name: a, steps: [{cpu: 20ms}]}
  - {name: b, steps: [{cpu: 20ms}]}
"""


def test_a_preempted_thread_waits_for_the_gil_with_the_rest_of_its_code() -> None:
    """take_gil after drop_gil (Python/ceval_gil.c): thread-1 ran 5 ms of its 20 ms, then
    again from 5 ms to 10 ms, when thread-2's timed wait asked for the drop: it waits for
    the GIL with 10 ms of its code left, showing that code's step."""
    # GIVEN two threads computing 20 ms each, a 5 ms switch interval
    sim = Simulation(load_scenario_text(TWO_THREADS))
    # WHEN the run reaches 12 ms
    sim.advance(0.012)
    # THEN thread-1 waits in the GIL's queue with 10 ms left, its actor not resumed
    world = sim.world
    thread = world.lanes["thread-1"]
    gil = world.main_proc.gil
    assert gil is not None
    assert thread.wait == GilRetake(10_000, "cpu 20ms")
    assert (thread.state, thread.step) == (LaneState.GIL_WAIT, "cpu 20ms")
    assert [lane.id for lane in gil.waiters] == ["thread-1", "main"]
    assert gil.holder is world.lanes["thread-2"]


def test_the_gil_changes_hands_without_resuming_the_threads_actors() -> None:
    """Nine hand-offs, five resumes of the threads' actors: each thread's start,
    thread-2's first take_gil (it began waiting in its own frame), and each thread's code
    ending (thread-1's at 35 ms, as the drop request came due, so it drops the GIL in its
    frame; thread-2's at 40 ms). A preempted thread's code goes on in place."""
    # GIVEN two threads computing 20 ms each, a 5 ms switch interval
    sim = Simulation(load_scenario_text(TWO_THREADS))
    resumed: list[tuple[int, str, str]] = []
    world = sim.world
    resume = world.resume

    def counted(lane: Lane, value: Any = None, exc: Any = None, epoch: Any = None) -> None:
        if lane.id.startswith("thread") and lane.gen is not None and epoch in (None, lane.epoch):
            resumed.append((world.clock.now, lane.id, type(value).__name__))
        resume(lane, value, exc, epoch)

    world.resume = counted  # type: ignore[method-assign]
    # WHEN it runs to its end
    sim.run()
    # THEN the GIL changed hands nine times and the threads' actors ran five times
    holders = [(e.t, e.holder) for e in sim.events if isinstance(e, GilChanged)]
    assert holders == [
        (0.0, "thread-1"),
        (0.005, "main"),
        (0.005, "thread-1"),
        (0.01, "thread-2"),
        (0.015, "thread-1"),
        (0.02, "main"),
        (0.02, "thread-2"),
        (0.03, "thread-1"),
        (0.035, "thread-2"),
        (0.04, None),
    ]
    assert resumed == [
        (0, "thread-1", "NoneType"),
        (5_000, "thread-2", "NoneType"),
        (10_000, "thread-2", "NoneType"),
        (35_000, "thread-1", "Preempted"),
        (40_000, "thread-2", "NoneType"),
    ]


def test_a_fault_at_a_parked_thread_takes_it_out_of_the_gils_queue() -> None:
    """An exception thrown at a thread parked in take_gil unwinds from its ``CpuRun``; its
    place in the GIL's queue is given up, as ensure_gil's ``finally`` does, and the drop
    timer stays armed for the waiter left (main, at 15 ms)."""
    # GIVEN the two threads, and task a failing at 12 ms, while parked
    scenario = load_scenario_text(TWO_THREADS)
    sim = Simulation(scenario, injections=[Injection(0.012, "fail", "a")])
    # WHEN the run reaches 12 ms
    sim.advance(0.012)
    # THEN thread-1 failed, out of the queue; main still waits, the drop timer due at 15 ms
    world = sim.world
    thread = world.lanes["thread-1"]
    gil = world.main_proc.gil
    assert gil is not None
    assert (thread.wait, thread.state, thread.step) == (None, LaneState.FAILED, "a")
    assert [lane.id for lane in gil.waiters] == ["main"]
    assert gil.timer.at == 15_000
    assert world.on_core.keys() == {world.lanes["thread-2"]}
