"""The event loop's I/O timers for one instant share a clock callback, in their order."""

from __future__ import annotations

from concsim.engine import Simulation
from concsim.engine.clock import Scheduler
from concsim.engine.coroutines.timers import TimerBatch
from concsim.engine.runtime import Lane, Proc
from concsim.events import LaneKind
from concsim.scenario.loader import load_scenario_text


def lanes(*names: str) -> list[Lane]:
    proc = Proc("main", None)
    return [Lane(id=name, kind=LaneKind.COROUTINE, proc=proc) for name in names]


def test_timers_for_one_instant_in_a_row_share_one_callback_in_order() -> None:
    """GIVEN three timers for 10 ms with nothing else scheduled between them, THEN one
    clock callback runs all three, in the order they were set."""
    clock = Scheduler()
    fired: list[str] = []

    def done(cos: list[Lane], epochs: list[int]) -> None:
        fired.extend(f"{co.id}@{e}" for co, e in zip(cos, epochs, strict=True))

    timers = TimerBatch(clock, done)
    a, b, c = lanes("a", "b", "c")
    b.epoch = 4
    for co in (a, b, c):
        timers.add(10_000, co)
    assert clock.scheduled == 1
    while clock:
        clock.pop_and_run()
    assert fired == ["a@0", "b@4", "c@0"]


def test_other_work_scheduled_between_two_timers_keeps_its_place() -> None:
    """GIVEN a timer, other work for the same instant, then a second timer, THEN they run
    in that order: the second timer starts a batch of its own after the other work."""
    clock = Scheduler()
    order: list[str] = []
    timers = TimerBatch(clock, lambda cos, _: order.extend(co.id for co in cos))
    a, b, c = lanes("a", "b", "c")
    timers.add(10_000, a)
    clock.at(10_000, order.append, "other")
    timers.add(10_000, b)
    timers.add(20_000, c)  # another instant: a batch of its own
    assert clock.scheduled == 4
    while clock:
        clock.pop_and_run()
    assert order == ["a", "other", "b", "c"]


def test_a_batch_that_has_run_takes_no_more_timers() -> None:
    """A timer set for the current instant after its batch ran starts a new one (else it
    would join a list nobody reads again)."""
    clock = Scheduler()
    order: list[str] = []
    timers = TimerBatch(clock, lambda cos, _: order.extend(co.id for co in cos))
    a, b = lanes("a", "b")
    timers.add(0, a)
    clock.pop_and_run()
    timers.add(0, b)
    clock.pop_and_run()
    assert order == ["a", "b"]


def test_a_thousand_sleepers_cost_a_callback_per_instant_not_per_sleep() -> None:
    """``asyncio.gather`` of 1,000 coroutines sleeping 10 ms five times: the clock runs a
    callback per instant (and a few to start and end), not one per sleep."""
    text = """
name: sleepers
program: {model: asyncio, collect: gather}
tasks:
  - {name: sleeper, repeat: 1000, steps: [{repeat: 5, steps: [{sleep: 10ms}]}]}
"""
    sim = Simulation(load_scenario_text(text, "sleepers.yaml"))
    events = sim.run()
    assert events[-1].t == 0.05
    assert sim.world.clock.scheduled < 50
