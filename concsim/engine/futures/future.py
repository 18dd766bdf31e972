"""Methods of ``concurrent.futures.Future`` that the main program calls and prints
(Lib/concurrent/futures/_base.py: ``cancel``, ``cancelled``, ``running``, ``done``,
``exception``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import assert_never

from concsim.events import CancelRequested, FutureState
from concsim.scenario import model as m

from ..runtime import Actor, Cancelled, Lane, SimError, TaskRun
from ..runtime_core import Runtime
from .callbacks import DoneCallbacks


@dataclass(eq=False)
class FutureCalls:
    """``print(f"NAME.METHOD() -> {future.METHOD()}")``, one line per call."""

    runtime: Runtime
    callbacks: DoneCallbacks | None
    _lines: dict[tuple[int, str], m.PrintStep] = field(default_factory=dict)

    def run(self, lane: Lane, step: m.FutureStep) -> Actor:
        runtime = self.runtime
        run = runtime.by_name[step.future]
        for call in step.calls:
            yield from runtime.world.ensure_gil(lane)
            value = yield from self.call(lane, run, call)
            text = f"{step.future}.{call.value}() -> {value}"
            # one PrintStep per (step, text), kept for the run: the interpreter prepares
            # each step object once
            line = self._lines.get((id(step), text))
            if line is None:
                line = self._lines[(id(step), text)] = m.PrintStep(
                    print=text,
                    label=m.step_label(step),  # the line's, as the sites name it
                )
            yield from runtime.interp.step(lane, None, line, [])

    def call(self, lane: Lane, run: TaskRun, call: m.FutureCall) -> Actor:
        """What the method returns, as ``str()`` prints it (``repr`` for an exception)."""
        future = run.future
        match call:
            case m.FutureCall.CANCEL:
                return (yield from self.cancel(lane, run))
            case m.FutureCall.CANCELLED:
                return str(future.state is FutureState.CANCELLED)
            case m.FutureCall.RUNNING:
                return str(future.state is FutureState.RUNNING)
            case m.FutureCall.DONE:
                return str(future.is_done)
            case m.FutureCall.EXCEPTION:
                yield from self.runtime.wait_until(
                    lane, lambda: future.is_done, f"{run.name}.exception()"
                )
                yield from self.runtime.world.ensure_gil(lane)
                future.retrieved = True
                error = future.error
                if isinstance(error, Cancelled):
                    raise Cancelled()
                return "None" if error is None else exception_repr(error)
            case _:
                assert_never(call)

    def cancel(self, lane: Lane, run: TaskRun) -> Actor:
        """``Future.cancel()``: False once RUNNING or FINISHED; True if already cancelled;
        a PENDING future becomes CANCELLED (its work item stays queued until a worker drops
        it, so ``as_completed`` hears of it only then) and its callbacks run here."""
        world = self.runtime.world
        state = run.future.state
        if state is FutureState.CANCELLED:
            reason = "it is already cancelled"
            world.emit(CancelRequested, task=run.name, accepted=True, reason=reason, by=lane.id)
            return "True"
        if state is not FutureState.PENDING:
            reason = "it is running" if state is FutureState.RUNNING else "it is done"
            world.emit(CancelRequested, task=run.name, accepted=False, reason=reason, by=lane.id)
            return "False"
        world.emit(
            CancelRequested,
            task=run.name,
            accepted=True,
            reason="it had not started, so it never will",
            by=lane.id,
        )
        self.runtime.cancel_pending(run, notified=False)
        if self.callbacks is not None:
            yield from self.callbacks.completed(lane, run)
        return "True"


def exception_repr(error: SimError) -> str:
    """``repr(exception)``: the class's own name and its argument, ``ValueError('bad')``
    (engine/reprs.py)."""
    return repr(error)
