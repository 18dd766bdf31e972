"""What every model shares: task runs and their futures, waiting on them, task endings."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from concsim.events import (
    Cleanup,
    CleanupSkipped,
    FutureChanged,
    FutureState,
    LaneState,
    MainEnded,
    MainOutcome,
    Outcome,
    OutputWritten,
    ResultReceived,
    TaskEnded,
    TaskStarted,
    TimeoutExpired,
    WarningIssued,
)
from concsim.scenario.model import Model, ReturnWhen, Scenario

from .exits import system_exit_code, traceback_text
from .interpreter import Interpreter, TaskResult
from .runtime import Actor, Cancelled, Lane, SimError, TaskRun
from .waits import FutureWait, StartWait
from .world import World


class _TimedOut:
    def __repr__(self) -> str:
        return "TIMED_OUT"


TIMED_OUT: Any = _TimedOut()
"""What a wait returns when its timeout expired (or a timeout was injected)."""


class Progress:
    """What has become of some runs, read off the runtime's completion list as it grows.
    Asking costs O(1) amortised, so waiting on n futures (gather, TaskGroup, as_completed,
    wait) stays linear in n instead of rescanning every future at every wake-up."""

    __slots__ = ("_completed", "_cursor", "done", "errored", "failed", "members", "order")

    def __init__(self, runtime: Runtime, runs: list[TaskRun]) -> None:
        self._completed = runtime.completed
        self._cursor = 0
        self.members = set(runs)
        self.order: list[TaskRun] = []  # members, in the order waiters heard they settled
        self.done = 0
        self.errored = 0  # raised or cancelled
        self.failed = 0  # raised

    def update(self) -> Progress:
        completed = self._completed
        while self._cursor < len(completed):
            run = completed[self._cursor]
            self._cursor += 1
            if run in self.members:
                self.order.append(run)
                self.done += 1
                future = run.future
                if future.error is not None:
                    self.errored += 1
                    if future.state is FutureState.FAILED:
                        self.failed += 1
        return self

    def reached(self, when: ReturnWhen) -> bool:
        """Whether ``wait(return_when=when)`` would return now. A cancelled future is
        complete but is not an exception, for concurrent.futures and asyncio alike."""
        done = self.update().done
        if when is ReturnWhen.FIRST_COMPLETED:
            return done > 0
        if when is ReturnWhen.FIRST_EXCEPTION and self.failed:
            return True
        return done == len(self.members)

    def has_more_than(self, count: int) -> bool:
        return len(self.update().order) > count

    @property
    def all_done(self) -> bool:
        return self.update().done == len(self.members)


def expand_tasks(scenario: Scenario) -> list[TaskRun]:
    """``repeat: N`` stamps out NAME-1 .. NAME-N; ``{name}`` and ``{i}`` fill ``returns``."""
    runs: list[TaskRun] = []
    for spec in scenario.tasks:
        for i in range(1, spec.repeat + 1):
            name = spec.name if spec.repeat == 1 else f"{spec.name}-{i}"
            value = spec.returns
            if value is None:
                value = f"{name} done"
            elif isinstance(value, str):
                value = value.replace("{name}", name).replace("{i}", str(i))
            runs.append(TaskRun(name=name, index=len(runs), spec=spec, value=value, copy=i))
    return runs


class Runtime:
    """Task runs, futures, waiters and the results the main program received."""

    def __init__(self, world: World, interp: Interpreter) -> None:
        self.world = world
        self.interp = interp
        self.tasks = expand_tasks(world.scenario)
        self.by_name = {run.name: run for run in self.tasks}
        self.watchers: list[tuple[Callable[[], bool], Callable[[Any], None]]] = []
        self.completed: list[TaskRun] = []  # in the order their futures settled
        self.main_lane: Lane | None = None
        self.main_ended = False

    # --- futures ------------------------------------------------------------------------

    def set_running(self, run: TaskRun) -> bool:
        """``Future.set_running_or_notify_cancel()``: False if it was cancelled first."""
        future = run.future
        if future.state is FutureState.CANCELLED:
            return False
        if future.state is FutureState.PENDING:
            future.state = FutureState.RUNNING
            self.world.emit(FutureChanged, task=run.name, state=FutureState.RUNNING)
        return True

    def settle(
        self,
        run: TaskRun,
        *,
        value: Any = None,
        error: SimError | None = None,
        cancelled: bool = False,
        notified: bool = True,
    ) -> None:
        future = run.future
        if future.is_done:
            return
        if cancelled:
            future.state = FutureState.CANCELLED
            # The task's own CancelledError, message and all (3.11: _cancelled_exc).
            future.error = error if isinstance(error, Cancelled) else Cancelled()
        elif error is not None:
            future.state = FutureState.FAILED
            future.error = error
        else:
            future.state = FutureState.DONE
            future.value = value
        self.world.emit(
            FutureChanged,
            task=run.name,
            state=future.state,
            error=error.error if error is not None and not cancelled else None,
        )
        future.notified = notified
        if notified:
            self.completed.append(run)
        callbacks, future.callbacks = future.callbacks, None
        for callback in callbacks or ():
            callback(future)
        self.notify()

    def release_cancelled(self, run: TaskRun) -> None:
        """A worker dequeued a cancelled future (``set_running_or_notify_cancel()``): only
        now do ``wait()`` and ``as_completed()`` see it (CANCELLED_AND_NOTIFIED)."""
        if not run.future.notified:
            run.future.notified = True
            self.completed.append(run)
            self.notify()

    def notify(self) -> None:
        """Something settled or ended: wake every waiter whose condition now holds."""
        for watcher in list(self.watchers):
            predicate, fire = watcher
            if predicate() and watcher in self.watchers:
                self.watchers.remove(watcher)
                fire(True)

    def watch(
        self, predicate: Callable[[], bool], fire: Callable[[Any], None]
    ) -> Callable[[], None]:
        watcher = (predicate, fire)
        self.watchers.append(watcher)

        def unwatch() -> None:
            if watcher in self.watchers:
                self.watchers.remove(watcher)

        return unwatch

    def wait_until(
        self,
        lane: Lane,
        predicate: Callable[[], bool],
        label: str,
        deadline: int | None = None,
        wait: FutureWait | StartWait | None = None,
    ) -> Actor:
        """Block ``lane`` until ``predicate()`` holds: True, or TIMED_OUT at ``deadline``;
        ``wait`` is what the lane holds meanwhile (a FutureWait by default)."""
        if predicate():
            return True
        world = self.world
        if deadline is not None and deadline <= world.clock.now:
            return TIMED_OUT

        def register(wake: Callable[[Any], None]) -> Callable[[], None]:
            unwatch = self.watch(predicate, wake)
            if deadline is not None:
                world.clock.at(deadline, wake, TIMED_OUT)
            return unwatch

        result = yield from self.interp.block(lane, label, register, wait or FutureWait(label))
        if result is TIMED_OUT:
            world.emit(TimeoutExpired, waiter=lane.id, on=label)
        return result

    def receive(self, run: TaskRun) -> Any:
        """``future.result()`` in the main program: the value, or the stored error re-raised."""
        future = run.future
        future.retrieved = True
        if future.error is not None:
            error = future.error
            self.world.emit(ResultReceived, task=run.name, error=error.error)
            raise (
                SimError(error.error, error.message)
                if not isinstance(error, Cancelled)
                else Cancelled(error.message)
            )
        self.world.emit(ResultReceived, task=run.name, value=future.value)
        return future.value

    # --- a task's run on a lane ---------------------------------------------------------

    def execute(self, lane: Lane, run: TaskRun, *, during_shutdown: bool = False) -> Actor:
        """Run ``run`` on ``lane`` from start to end; returns its TaskResult."""
        self.start(lane, run, during_shutdown=during_shutdown)
        # The task's own generator, not one that delegates to it: one frame less to pass
        # through at every resume. ``yield from`` calls this at the same moment either way.
        return self.interp.run_task(lane, run)

    def start(self, lane: Lane, run: TaskRun, *, during_shutdown: bool = False) -> None:
        """The task's function is called on ``lane``: it is running."""
        run.started = True
        run.lane = lane
        lane.task = run
        self.world.emit(TaskStarted, task=run.name, lane=lane.id, during_shutdown=during_shutdown)
        self.set_running(run)

    def finish(self, lane: Lane, run: TaskRun, result: TaskResult, *, settle: bool = True) -> None:
        """The task returned or raised: settle its future, end it, free its lane."""
        error = result.error
        if result.stopped:  # it returned None early: a cooperative cancellation
            outcome, shown, error_name = Outcome.CANCELLED, LaneState.STOPPED, None
            if settle:
                self.settle(run, value=None)
        elif isinstance(error, Cancelled):
            outcome, shown, error_name = Outcome.CANCELLED, LaneState.CANCELLED, "CancelledError"
            if settle:
                self.settle(run, cancelled=True, error=error)
        elif error is not None:
            outcome, shown, error_name = Outcome.FAILED, LaneState.FAILED, error.error
            if settle:
                self.settle(run, error=error)
        else:
            outcome, shown, error_name = Outcome.OK, LaneState.DONE, None
            if settle:
                self.settle(run, value=result.value)
        self.world.set_state(lane, shown, run.name)
        self.end(run, outcome, error_name, result.cleanup)
        lane.task = None

    def end(self, run: TaskRun, outcome: Outcome, error: str | None, cleanup: Cleanup) -> None:
        if run.ended:
            return
        run.ended = True
        run.outcome = outcome
        self.world.emit(TaskEnded, task=run.name, outcome=outcome, error=error, cleanup=cleanup)
        self.notify()

    def kill_task(self, run: TaskRun, reason: str, error: str | None = None) -> None:
        """The task's thread or process vanished mid-run: its finally never runs."""
        lane = run.lane
        if run.spec.cleanup:
            self.world.emit(CleanupSkipped, task=run.name, reason=reason)
        if lane is not None:
            self.world.set_state(lane, LaneState.KILLED, run.name)
            lane.task = None
        self.end(run, Outcome.KILLED, error, Cleanup.SKIPPED if run.spec.cleanup else Cleanup.NONE)

    def cancel_pending(self, run: TaskRun, *, notified: bool = True) -> None:
        """A queued future was cancelled: the task will never start."""
        self.settle(run, cancelled=True, notified=notified)
        self.end(run, Outcome.CANCELLED, "CancelledError", Cleanup.NONE)

    # --- the end of the run -------------------------------------------------------------

    def end_main(self, lane: Lane, error: SimError | None, step: str = "main() ended") -> LaneState:
        """``main()`` returned or raised (``step``: the call that did, as the lane says it);
        returns the state its lane ends in."""
        self.main_ended = True
        final = LaneState.FAILED if error else LaneState.DONE
        self.world.set_state(lane, final, step)
        self.world.emit(
            MainEnded,
            outcome=MainOutcome.RAISED if error else MainOutcome.OK,
            error=error.error if error else None,
            message=error.message if error else "",
        )
        if error is not None and error.error == "SystemExit":
            # _Py_HandleSystemExit: no traceback; a code that is not an int is printed.
            code = system_exit_code(error.message)
            if isinstance(code, str):
                self.world.emit(OutputWritten, lane=lane.id, task=None, text=f"{code}\n")
        elif error is not None:
            # Uncaught, it reaches the interpreter, which prints it to stderr.
            in_asyncio = self.world.scenario.program.model is Model.ASYNCIO
            self.world.emit(
                OutputWritten,
                lane=lane.id,
                task=None,
                text=traceback_text(error, in_asyncio=in_asyncio),
            )
        return final

    def unretrieved_warnings(self, asyncio: bool) -> None:
        for run in self.tasks:
            future = run.future
            if future.state is FutureState.FAILED and not future.retrieved:
                assert future.error is not None
                note = (
                    " (asyncio logs 'Task exception was never retrieved' when the task is "
                    "garbage-collected)"
                    if asyncio
                    else " (concurrent.futures says nothing: it is silently lost)"
                )
                self.world.emit(
                    WarningIssued,
                    message=f"exception in task {run.name} was never retrieved: "
                    f"{future.error.error}{note}",
                )

    def close_unfinished(self) -> None:
        """At the end of the run: tasks that never started, and tasks that never finished."""
        for run in self.tasks:
            if run.ended:
                continue
            if run.started:
                if run.lane is not None:
                    self.world.set_state(run.lane, LaneState.HUNG, run.name)
                self.end(run, Outcome.HUNG, None, Cleanup.NONE)
            else:
                self.end(
                    run,
                    Outcome.NEVER_STARTED,
                    run.future.error.error if run.future.error else None,
                    Cleanup.NONE,
                )
