"""Done-callbacks of a thread pool's futures (Lib/concurrent/futures/_base.py,
``Future.add_done_callback`` and ``Future._invoke_callbacks``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel

from concsim.events import CallbackInvoked, FutureState, OutputWritten
from concsim.scenario import model as m
from concsim.scenario.pynames import callback_functions

from ..exits import traceback_line
from ..flow import Stopped
from ..runtime import Actor, Future, Lane, SimError, TaskRun
from ..runtime_core import Runtime
from .executor import Executor

THREAD = "{thread}"
"""Where a callback's ``print`` shows ``threading.current_thread().name``."""


@dataclass(frozen=True, eq=False)
class Callback:
    """``def function(future): <steps>``."""

    function: str
    steps: tuple[m.Step, ...]


@dataclass(eq=False)
class DoneCallbacks:
    """The callbacks registered on each future, in registration order, until it is done."""

    runtime: Runtime
    executor: Executor
    logging_configured: bool  # logging.basicConfig ran: the log record goes to stdout
    registered: dict[TaskRun, list[Callback]] = field(default_factory=dict)
    by_step: dict[int, Callback] = field(default_factory=dict)  # per add_done_callback step
    _filled: dict[tuple[int, str], m.Step] = field(default_factory=dict)

    def of(self, step: m.AddDoneCallbackStep) -> Callback:
        """The callback an ``add_done_callback`` step of main adds."""
        return self.by_step[id(step)]

    def add(self, lane: Lane, runs: Sequence[TaskRun], callback: Callback) -> Actor:
        """``future.add_done_callback(fn)`` for each run in turn: kept while the future is
        not done; on a done (or cancelled) future ``fn`` runs at once, in the caller."""
        yield from self.runtime.world.ensure_gil(lane)
        for run in runs:
            if run.future.is_done:
                yield from self.invoke(lane, run, callback)
            else:
                self.registered.setdefault(run, []).append(callback)

    def completed(self, lane: Lane, run: TaskRun) -> Actor:
        """``Future._invoke_callbacks()``, called by ``set_result`` / ``set_exception`` in
        the thread that completed the future, once its waiters are woken."""
        for callback in self.registered.pop(run, []):
            yield from self.invoke(lane, run, callback)

    def invoke(self, lane: Lane, run: TaskRun, callback: Callback) -> Actor:
        """One call ``fn(future)``; an exception is logged (``LOGGER.exception('exception
        calling callback for %r', future)``) and ignored."""
        world = self.runtime.world
        yield from world.ensure_gil(lane)
        thread = self.thread_name(lane)
        world.emit(
            CallbackInvoked, lane=lane.id, task=run.name, callback=callback.function, thread=thread
        )
        steps = [self._fill(step, thread) for step in callback.steps]
        # What a thread pool's worker writes after its task returned belongs to that task
        # (as live mode counts it); in main, or in a process pool's manager thread (a
        # thread of the parent, running no task), to main.
        owner = run if lane in self.executor.workers else None
        try:
            yield from self.runtime.interp.run_steps(lane, owner, steps, [])
        except Stopped:
            pass  # ``return`` from the callback
        except SimError as error:
            prefix = "ERROR concurrent.futures: " if self.logging_configured else ""
            last = traceback_line(error.error, error.message, in_asyncio=False)
            world.emit(
                OutputWritten,
                lane=lane.id,
                task=None if owner is None else run.name,
                text=f"{prefix}exception calling callback for {future_repr(run.future)}\n"
                f"Traceback (most recent call last):\n  ...\n{last}\n",
            )

    def thread_name(self, lane: Lane) -> str:
        """``threading.current_thread().name`` on ``lane``."""
        if lane is self.runtime.main_lane:
            return "MainThread"
        return self.executor.thread_name(lane)

    def _fill(self, step: m.Step, thread: str) -> m.Step:
        """The step with ``{thread}`` filled in; one copy per step and thread, kept for the
        run (the interpreter prepares each step object once)."""
        if not isinstance(step, m.PrintStep) or THREAD not in step.print:
            return step
        key = (id(step), thread)
        filled = self._filled.get(key)
        if filled is None:
            text = step.print.replace(THREAD, thread)
            label = m.step_label(step)  # the line's, as the program's sites name it
            filled = self._filled[key] = step.model_copy(update={"print": text, "label": label})
        return filled


def done_callbacks(runtime: Runtime, executor: Executor | None) -> DoneCallbacks | None:
    """The program's done-callbacks, each named as ``def NAME(future):`` in main(), and
    hooked on the executor that completes the futures (None: main adds none)."""
    program = runtime.world.program
    added = [s for s in program.main if isinstance(s, m.AddDoneCallbackStep)]
    if not added or executor is None:
        return None
    callbacks = DoneCallbacks(runtime, executor, uses_logging(runtime.world.scenario))
    executor.after_done = callbacks.completed
    names = callback_functions([step.add_done_callback for step in added])
    for step, name in zip(added, names, strict=True):
        callbacks.by_step[id(step)] = Callback(name, step.steps)
    return callbacks


def future_repr(future: Future) -> str:
    """``repr(future)`` (``Future.__repr__``), its address written ``0x...``."""
    match future.state:
        case FutureState.DONE:
            return f"<Future at 0x... state=finished returned {type(future.value).__name__}>"
        case FutureState.FAILED:
            error = future.error.error if future.error is not None else "Exception"
            return f"<Future at 0x... state=finished raised {error.rpartition('.')[2]}>"
        case FutureState.CANCELLED:
            return "<Future at 0x... state=cancelled>"
        case FutureState.PENDING | FutureState.RUNNING:
            return f"<Future at 0x... state={future.state.value}>"


def uses_logging(scenario: m.Scenario) -> bool:
    """Whether the program configures ``logging`` (it does when any step logs): then the
    ``concurrent.futures`` logger's record goes to its handler, as ``ERROR
    concurrent.futures: ...``; else to ``logging.lastResort``, the message alone."""
    return any(isinstance(step, m.LogStep) for step in _models(scenario))


def _models(value: Any) -> list[BaseModel]:
    found: list[BaseModel] = []
    if isinstance(value, BaseModel):
        found.append(value)
        for name in type(value).model_fields:
            found += _models(getattr(value, name))
    elif isinstance(value, tuple | list):
        for item in value:
            found += _models(item)
    return found
