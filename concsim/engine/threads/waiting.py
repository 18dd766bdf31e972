"""``wait`` and ``wait_for`` steps: one step name for an event, a barrier or a condition,
dispatched on the family of the primitive it names (threading.Event.wait,
threading.Barrier.wait, threading.Condition.wait and wait_for)."""

from __future__ import annotations

from concsim.scenario import model as m

from ..runtime import Actor, Lane, TaskRun
from .barrier import Barriers
from .condition import Conditions
from .event import Events

PrimitiveStep = (
    m.SetStep
    | m.ClearStep
    | m.WaitStep
    | m.WaitForStep
    | m.AbortStep
    | m.ResetStep
    | m.NotifyStep
    | m.NotifyAllStep
)
"""A step on an event, a barrier or a condition."""


class Waiting(Conditions, Events, Barriers):
    """The waits of the program's primitives, each returning what CPython's returns."""

    shared: dict[str, int]  # the program's shared variables (the interpreter's)

    def wait_on(self, lane: Lane, run: TaskRun | None, step: m.WaitStep, label: str) -> Actor:
        """``NAME.wait(timeout)``: an event's or a condition's flag (False: timed out); a
        barrier's wait returns its index or raises, so it counts as True here."""
        if step.wait in self.barriers:
            yield from self.barrier_wait(lane, run, step.wait, step.timeout, label)
            return True
        if step.wait in self.conditions:
            return (yield from self.cond_wait(lane, run, step.wait, step.timeout, label))
        return (yield from self.wait_event(lane, step.wait, step.timeout, label))

    def wait_for_on(
        self, lane: Lane, run: TaskRun | None, step: m.WaitForStep, label: str
    ) -> Actor:
        """``cv.wait_for(lambda: NAME >= N, timeout)``: the predicate's last value."""
        until = step.until

        def holds() -> bool:
            return self.shared.get(until.shared, 0) >= until.at_least

        return (yield from self.cond_wait_for(lane, run, step.wait_for, holds, step.timeout, label))
