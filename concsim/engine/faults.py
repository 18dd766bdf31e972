"""Injected faults: what happens when someone fails, times out, cancels, kills, interrupts
or hangs part of a running program, in CPython's terms."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from concsim.durations import parse_seconds
from concsim.events import (
    CancelRequested,
    ExceptionRaised,
    FaultInjected,
    FaultRefused,
    FutureState,
    InterruptDelivered,
    LaneKind,
    ProcessKilled,
)
from concsim.scenario import model as m

from .coroutines import AsyncioModel
from .futures import ProcessPool
from .mainprog import MainProgram
from .runtime import Interrupted, Lane, SimError, TaskRun
from .runtime_core import TIMED_OUT, Runtime
from .waits import BlockingCall, FutureWait, IoWait, StartWait

FAULTS = tuple(kind.value for kind in m.FaultKind)


@dataclass(frozen=True, slots=True)
class Injection:
    """A fault at a virtual time (seconds); the unit of a reproducible session."""

    at: float
    fault: str
    target: str
    error: str = "RuntimeError"

    def __post_init__(self) -> None:
        if self.fault not in FAULTS:
            raise ValueError(f"unknown fault {self.fault!r}; expected one of: {', '.join(FAULTS)}")

    def to_dict(self) -> dict[str, object]:
        return {"at": self.at, "fault": self.fault, "target": self.target, "error": self.error}

    @classmethod
    def parse(cls, text: str) -> Injection:
        """``AT:FAULT:TARGET[:ERROR]``, as ``--inject`` takes it: ``1.2s:fail:job-2``,
        ``2s:interrupt`` (Ctrl-C always lands in the main thread). Raises ValueError."""
        parts = text.split(":")
        if len(parts) == 2 and parts[1] == "interrupt":
            parts.append("main")
        if len(parts) not in (3, 4):
            raise ValueError(f"{text!r}: expected AT:FAULT:TARGET[:ERROR], e.g. 1.2s:fail:B")
        try:
            at = parse_seconds(parts[0])
            return cls(at, parts[1], parts[2], *(parts[3:] or ["RuntimeError"]))
        except ValueError as error:
            raise ValueError(f"{text!r}: {error}") from None


class Faults:
    """Applies injections to a run; each either takes effect or says why it cannot."""

    def __init__(
        self, runtime: Runtime, main: MainProgram | None, aio: AsyncioModel | None
    ) -> None:
        self.runtime = runtime
        self.world = runtime.world
        self.main = main
        self.aio = aio
        self.handlers: dict[m.FaultKind, Callable[[Injection], str | None]] = {
            m.FaultKind.FAIL: self._fail,
            m.FaultKind.TIMEOUT: self._timeout,
            m.FaultKind.CANCEL: self._cancel_any,
            m.FaultKind.KILL: self._kill,
            m.FaultKind.INTERRUPT: self._interrupt,
            m.FaultKind.HANG: self._hang,
        }
        """What each fault does: it takes effect and returns None, or returns why not."""

    def apply(self, injection: Injection) -> None:
        world = self.world
        fault, target = injection.fault, injection.target
        world.emit(
            FaultInjected,
            fault=fault,
            target=target,
            error=injection.error if fault == "fail" else None,
        )
        reason = self.handlers[m.FaultKind(fault)](injection)
        if reason:
            world.emit(FaultRefused, fault=fault, target=target, reason=reason)

    # --- resolving a target -------------------------------------------------------------

    def _task(self, target: str) -> TaskRun | None:
        run = self.runtime.by_name.get(target)
        if run is not None:
            return run
        lane = self.world.lanes.get(target)
        return lane.task if lane is not None else None

    def _running(self, target: str) -> tuple[TaskRun | None, str | None]:
        run = self._task(target)
        if run is None:
            if target not in self.world.lanes:
                return None, f"there is no task or lane named {target}"
            return None, f"{target} is not running a task"
        if run.ended:
            return None, f"{run.name} has already finished"
        if not run.started or run.lane is None or run.lane.task is not run:
            return None, f"{run.name} has not started yet"
        return run, None

    # --- the six faults -----------------------------------------------------------------

    def _fail(self, injection: Injection) -> str | None:
        error = SimError(injection.error, "injected")
        if injection.target == "main":
            main = self.runtime.main_lane
            assert main is not None
            if self.runtime.main_ended or (self.aio is not None and self.aio.in_teardown):
                return "main() has already returned"
            return self._raise_in(main, None, error)
        run, why = self._running(injection.target)
        if run is None:
            return why
        assert run.lane is not None
        return self._raise_in(run.lane, run, error)

    def _raise_in(self, lane: Lane, run: TaskRun | None, error: BaseException) -> str | None:
        world = self.world
        if lane.pending_error is not None:
            return f"an exception is already due in {run.name if run else lane.id}"
        if isinstance(error, SimError) and not isinstance(error, Interrupted):
            world.emit(
                ExceptionRaised,
                lane=lane.id,
                task=run.name if run else None,
                error=error.error,
                message=error.message,
                step=lane.step,
            )
        if self.aio is not None and self.aio.is_coroutine(lane) and world.loop_current is not lane:
            # Raised where it is parked (the awaited operation fails) when the loop next
            # resumes it; until then it is due, and a second one is refused.
            lane.pending_error = error
            if lane.waker is not None:
                lane.waker()
            return None
        world.resume(lane, exc=error)
        return None

    def _timeout(self, injection: Injection) -> str | None:
        world = self.world
        run = self.runtime.by_name.get(injection.target)
        if self.aio is not None and run is not None and run.spec.timeout is not None:
            if run.future.is_done:
                return f"{run.name} has already finished"
            self.aio._expire(run, world.clock.now)
            return None
        main = self.runtime.main_lane
        assert main is not None
        parked = main.waker is not None if self.aio is not None else True
        if isinstance(main.wait, StartWait):
            return "main is in Thread.start(), which waits for the new thread with no timeout"
        if not isinstance(main.wait, FutureWait) or not parked:
            return "the main program is not waiting for results right now"
        if self.aio is not None:
            assert main.waker is not None
            main.waker(TIMED_OUT)
        else:
            world.resume(main, TIMED_OUT)
        return None

    def _cancel_any(self, injection: Injection) -> str | None:
        """``cancel``; in asyncio also of main's task or of the gather main awaits."""
        if self.aio is not None and injection.target in ("main", "gather"):
            return self.aio.cancel_from_outside(injection.target)
        return self._cancel(injection)

    def _cancel_coroutine(self, run: TaskRun) -> str | None:
        """``task.cancel()``; before main's ``create_task`` there is no Task to cancel."""
        if run.lane is None:
            return f"{run.name} has not been created yet"
        assert self.aio is not None
        self.aio.cancel(run, "task.cancel() was called")
        return None

    def _cancel(self, injection: Injection) -> str | None:
        world = self.world
        run = self._task(injection.target)
        if run is None:
            return f"{injection.target} is not a task"
        if self.aio is not None:
            return self._cancel_coroutine(run)
        model = world.program.model
        if model is m.Model.SEQUENTIAL:
            return "a plain function call cannot be cancelled"
        if run.future.state is FutureState.CANCELLED:
            world.emit(
                CancelRequested,
                task=run.name,
                accepted=True,
                reason="it is already cancelled, and cancel() says so again",
            )
            return None
        if run.ended or run.future.is_done:
            if not world.program.executor:
                return f"{run.name} has already finished"
            world.emit(
                CancelRequested, task=run.name, accepted=False, reason="the future is already done"
            )
            return None
        pool = self.main.executor if self.main else None
        if pool is not None and run.future.state is FutureState.PENDING:
            world.emit(
                CancelRequested,
                task=run.name,
                accepted=True,
                reason="it had not started, so it never will",
            )
            self.runtime.cancel_pending(run, notified=False)
            return None
        if model is m.Model.THREADS and run.started and _checks_stop(run):
            run.stop_requested = True
            world.emit(
                CancelRequested,
                task=run.name,
                accepted=True,
                reason=(
                    "threads cannot be cancelled from outside, but its stop event is now set and "
                    "it checks it between steps"
                ),
            )
            return None
        if pool is not None:
            why = (
                "it is already running: cancel() only succeeds before a future starts"
                if run.started
                else "it already sits in the call queue (max_workers + 1 "
                "items), where futures count as running"
            )
            world.emit(CancelRequested, task=run.name, accepted=False, reason=why)
            return None
        if model is m.Model.PROCESSES:
            return "a Process has no cancel(); kill it (terminate) instead"
        return "threads cannot be cancelled from outside; give it a stop event (check_stop)"

    def _kill(self, injection: Injection) -> str | None:
        world = self.world
        lane = world.lanes.get(injection.target)
        if lane is None:
            run = self._task(injection.target)
            lane = run.lane if run is not None and not run.ended else None
        if lane is None or lane.kind is not LaneKind.PROCESS:
            if self.aio is not None:
                return "coroutines cannot be killed; cancel them instead"
            return (
                "threads cannot be killed: Python has no API to stop a thread "
                "(only processes can be killed)"
            )
        if lane.ended or lane.gen is None:
            return f"process {lane.id} is not running"
        pool = self.main.executor if self.main else None
        if isinstance(pool, ProcessPool):
            pool.kill(lane)
            return None
        run = lane.task
        world.emit(ProcessKilled, lane=lane.id, task=run.name if run else None)
        world.kill(lane)
        if run is not None:
            self.runtime.kill_task(
                run, "Process.terminate()/kill() ends the child without running finally"
            )
        if self.main is not None:
            self.main.processes.killed(lane, run)
        self.runtime.notify()
        return None

    def _interrupt(self, injection: Injection) -> str | None:
        world = self.world
        main = self.runtime.main_lane
        assert main is not None
        if main.gen is None:
            return "the program has already exited"
        if self.aio is not None:
            if self.runtime.main_ended:
                return "asyncio.run() has already returned"
            self.aio.interrupt()
            return None
        world.emit(InterruptDelivered, lane=main.id, step=main.step)
        world.resume(main, exc=Interrupted())
        return None

    def _hang(self, injection: Injection) -> str | None:
        run = self._task(injection.target)
        if run is None:
            return f"{injection.target} is not a task"
        if run.ended:
            return f"{run.name} has already finished"
        lane = run.lane
        if lane is None or not run.started:
            return f"{run.name} has not started yet"
        lane.hung_io = True
        if isinstance(lane.wait, IoWait | BlockingCall) and not (
            self.aio is not None and self.aio.is_coroutine(lane) and lane.waker is not None
        ):
            lane.epoch += 1  # its wake-up timer is now stale: the I/O never completes
        elif lane.unblock is not None:
            # Blocked on a lock, a queue, a future: it leaves the waiters (a lock or an item
            # goes to the next one, as when CPython's waiter never returns). A thread's
            # wake-up already on its way is stale; a coroutine keeps its waker, so that a
            # cancellation still reaches it (asyncio: Task.cancel() cancels the awaited
            # future, which wakes the task whatever else has been taken off it).
            lane.unblock()
            lane.unblock = None
            if not (self.aio is not None and self.aio.is_coroutine(lane)):
                lane.epoch += 1
        return None


def _checks_stop(run: TaskRun) -> bool:
    return any(isinstance(step, m.CheckStopStep) for step in run.spec.steps)
