"""``wait`` and ``wait_for`` steps: one step name for an event, a barrier or a condition,
dispatched on the family of the primitive it names (threading.Event.wait,
threading.Barrier.wait, threading.Condition.wait and wait_for)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, assert_never

from concsim.scenario import model as m

from ..runtime import Actor, Lane, TaskRun
from .aio_barrier import AsyncioBarriers
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


class Waiting(Conditions, Events, AsyncioBarriers):
    """The waits of the program's primitives, each returning what CPython's returns."""

    shared: dict[str, int]  # the program's shared variables (the interpreter's)

    if TYPE_CHECKING:  # the interpreter's

        def _with_gil(
            self, action: Callable[[Lane, TaskRun | None], None]
        ) -> Callable[..., Any]: ...

        def run_steps(
            self,
            lane: Lane,
            run: TaskRun | None,
            steps: Sequence[Any],
            consumed: list[Any],
            *,
            top: bool = False,
        ) -> Actor: ...

    def primitive_call(self, step: PrimitiveStep, label: str) -> Callable[..., Any]:
        """How a step on an event, a barrier or a condition runs (the interpreter's
        ``_make_call``)."""
        with_gil = self._with_gil
        match step:
            case m.SetStep():
                return with_gil(lambda lane, run: self.set_event(lane, step.set))
            case m.ClearStep():
                return with_gil(lambda lane, run: self.clear_event(lane, step.clear))
            case m.WaitStep():
                return lambda lane, run, consumed: self._unless(
                    lane, run, self.wait_on(lane, run, step, label), step.else_, consumed
                )
            case m.AbortStep():
                return with_gil(lambda lane, run: self.barrier_abort(lane, step.abort))
            case m.ResetStep():
                return with_gil(lambda lane, run: self.barrier_reset(lane, step.reset))
            case m.WaitForStep():
                return lambda lane, run, consumed: self._unless(
                    lane, run, self.wait_for_on(lane, run, step, label), step.else_, consumed
                )
            case m.NotifyStep():
                return with_gil(
                    lambda lane, run: self.cond_notify(lane, run, step.notify, step.n, label)
                )
            case m.NotifyAllStep():
                return with_gil(
                    lambda lane, run: self.cond_notify(lane, run, step.notify_all, None, label)
                )
            case _:
                assert_never(step)

    def _unless(
        self, lane: Lane, run: TaskRun | None, wait: Actor, steps: Any, consumed: list[Any]
    ) -> Actor:
        """``if not <wait>: <steps>`` (a wait's ``else``)."""
        if not (yield from wait):
            yield from self.run_steps(lane, run, steps, consumed)

    def wait_on(self, lane: Lane, run: TaskRun | None, step: m.WaitStep, label: str) -> Actor:
        """``NAME.wait(timeout)``: an event's or a condition's flag (False: timed out); a
        barrier's returns its index or raises, so it counts as True (in asyncio, False when
        the ``asyncio.wait_for`` around it timed out)."""
        if step.wait in self.barriers:
            return (yield from self.barrier_step(lane, run, step.wait, step.timeout, label))
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
