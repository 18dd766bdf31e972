"""asyncio tasks (Lib/asyncio/tasks.py): ``create_task``, ``Task.cancel``, ``wait_for``'s
cancellation, Ctrl-C in ``asyncio.run``, and awaiting tasks to settle."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from concsim.events import (
    CancelRequested,
    InterruptDelivered,
    LaneKind,
    LaneState,
    TaskSubmitted,
    TimeoutExpired,
)
from concsim.scenario import model as m

from ..interpreter import TaskResult
from ..runtime import Actor, Cancelled, Lane, SimError, TaskRun
from ..runtime_core import TIMED_OUT, Progress, Runtime
from ..waits import Awaiting, FutureWait
from .loop import EventLoop


class Tasks(EventLoop):
    """The loop's tasks: created, cancelled, awaited."""

    def __init__(self, runtime: Runtime) -> None:
        super().__init__(runtime)
        # What every task's lane calls when its coroutine returns, read once: each read of
        # ``self._returned`` makes a new bound method, an object per task that the garbage
        # collector tracks for the task's whole life.
        self._on_returned = self._returned

    # --- tasks --------------------------------------------------------------------------

    def start_task(self, co: Lane, run: TaskRun, parent: str | None = None) -> Actor:
        """``create_task`` by the coroutine on ``co``. Under ``asyncio.eager_task_factory``
        (3.12+, ``Task.__eager_start`` in Lib/asyncio/tasks.py) the new task runs at once,
        inside ``create_task``, up to its first real suspension; a task that ends without
        suspending is never scheduled. Only then does ``co`` go on."""
        if run.submitted:
            return
        eager = self.program.task_factory is m.TaskFactory.EAGER
        self.create_task(run, parent, eager=eager)
        if not eager:
            return
        # The new task is first in the ready queue, ``co`` right behind it: nothing else
        # runs in between, as both run in one call of CPython's.
        self.ready.insert(1, (co, None, None))
        self.world.set_state(co, LaneState.READY, co.step)  # still on its create_task line
        self._park(co)
        yield Awaiting(f"create_task({run.name}) runs it eagerly")

    def create_task(self, run: TaskRun, parent: str | None = None, *, eager: bool = False) -> None:
        """``asyncio.create_task``; a task created by another task (``parent``) has a lane
        whose title names its parent."""
        world = self.world
        run.submitted = True
        co = world.new_lane(
            "task",
            LaneKind.COROUTINE,
            world.main_proc,
            name=run.name if parent is None else f"{run.name} (in {parent})",
            thread=self.loop,
            lane_id=run.name,
        )
        co.task = run
        run.lane = co
        how = "asyncio.create_task" if parent is None else f"asyncio.create_task in {parent}"
        world.emit(TaskSubmitted, task=run.name, how=how)
        world.set_state(co, LaneState.QUEUED, "created")
        # Task.__init__: ``loop.call_soon(self.__step)``; the coroutine starts at that step.
        # Under the eager factory that step is taken now, inside create_task: it goes
        # first in the ready queue, where start_task puts the creator right behind it.
        first = partial(self._first_step, co, run)
        if eager:
            self.ready.appendleft((None, first, None))
        else:
            if world.loop_current is not None:  # as make_ready shows a task that waits
                world.set_state(co, LaneState.READY, co.step)
            self.call_soon(first)
        if run.spec.timeout is not None:
            deadline = world.clock.now + run.spec.timeout
            world.clock.at(deadline, lambda: self.call_soon(lambda: self._expire(run, deadline)))

    def _expire(self, run: TaskRun, deadline: int) -> None:
        """``asyncio.wait_for(task, timeout)`` ran out: cancel the task, then TimeoutError."""
        if run.future.is_done:
            return
        world = self.world
        world.emit(
            TimeoutExpired,
            waiter=f"wait_for({run.name})",
            on=run.name,
            late_by=(world.clock.now - deadline) / 1_000_000,
        )
        self.timed_out.add(run.name)
        # 3.11: wait_for itself, in main() awaiting it, cancels the task
        why = "asyncio.wait_for() timed out and cancels the task it waits for"
        self.cancel(run, why, by=self.runtime.main_lane.id if self.runtime.main_lane else None)

    def _first_step(self, co: Lane, run: TaskRun) -> None:
        """``Task.__step``'s first call: the task's coroutine starts, unless a cancel()
        came first (then its body never runs). From then on the coroutine (``run_task``)
        is the lane's actor itself, and ``_returned`` takes what it returns."""
        if co.ended or self._cancelled_before_start(co):
            return
        world = self.world
        world.loop_current = co
        world.set_state(self.loop, LaneState.RUNNING, co.id)
        co.gen = self.runtime.execute(co, run)
        co.returned = self._on_returned  # one bound method for every task: fewer objects
        world.resume(co)

    def _returned(self, co: Lane, result: TaskResult) -> None:
        """The task's coroutine returned (``Task.__step``: ``StopIteration`` sets the
        task's result): settle the task, and the loop moves on."""
        # Nothing the ended lane keeps refers back to it: no cycle left to the collector.
        co.returned = co.io_waker = None
        runtime = self.runtime
        run = co.task
        assert run is not None  # until ``finish`` below
        if run.name in self.timed_out and isinstance(result.error, Cancelled):
            runtime.finish(co, run, result, settle=False)
            runtime.settle(run, error=SimError("TimeoutError", ""))
        else:
            runtime.finish(co, run, result)
        self._park(co)

    def cancel(
        self, run: TaskRun, reason: str, msg: str | None = None, *, by: str | None = None
    ) -> bool:
        """``task.cancel(msg)``, called on the lane ``by`` (None: a fault): CancelledError(msg)
        at its current await, or at its next one."""
        world = self.world
        if run.future.is_done:
            reason = "the task is already done"
            world.emit(CancelRequested, task=run.name, accepted=False, reason=reason, by=by)
            return False
        world.emit(CancelRequested, task=run.name, accepted=True, reason=reason, by=by)
        co = run.lane
        assert co is not None
        co.cancel_requests += 1  # Task._num_cancels_requested
        if co.waker is not None:
            co.waker(None, Cancelled(msg or ""))
        else:
            co.must_cancel = True
            co.cancel_message = msg or ""
        return True

    def cancel_main(self) -> None:
        main = self.runtime.main_lane
        assert main is not None
        main.cancel_requests += 1
        if main.waker is not None:
            main.waker(None, Cancelled())
        else:
            main.must_cancel = True

    def interrupt(self) -> None:
        """3.11 asyncio.Runner: SIGINT cancels the main task; run() then raises
        KeyboardInterrupt after cancelling every other task. A second SIGINT while those
        clean up raises KeyboardInterrupt out of the loop, and Runner.close() cancels the
        tasks again, cutting their finally blocks short."""
        main = self.runtime.main_lane
        assert main is not None
        self.world.emit(InterruptDelivered, lane=main.id, step=main.step)
        if self.in_teardown or self.interrupted:
            self.interrupted_again = True
            for run in self.runtime.tasks:
                if run.submitted and not run.future.is_done:
                    why = "a second Ctrl-C: Runner.close() cancels the tasks again"
                    self.cancel(run, why, by=main.id)
            return
        self.interrupted = True
        self.cancel_main()

    def await_until(
        self, co: Lane, predicate: Callable[[], bool], label: str, deadline: int | None = None
    ) -> Actor:
        if predicate():
            return True
        world = self.world

        def register(wake: Callable[..., None]) -> Callable[[], None]:
            unwatch = self.runtime.watch(predicate, wake)
            if deadline is not None:
                world.clock.at(deadline, lambda: self.call_soon(lambda: wake(TIMED_OUT)))
            return unwatch

        got = yield from self.await_(co, LaneState.BLOCKED, label, register, FutureWait(label))
        if got is TIMED_OUT:
            late = max(0, world.clock.now - deadline) if deadline is not None else 0
            world.emit(TimeoutExpired, waiter=co.id, on=label, late_by=late / 1_000_000)
        return got

    def _settle(self, co: Lane, predicate: Callable[[], bool], label: str) -> Actor:
        """Wait for ``predicate`` even through further cancellations."""
        while True:
            try:
                yield from self.await_until(co, predicate, label)
                return
            except Cancelled:
                continue

    def _settle_all(self, co: Lane, runs: list[TaskRun], label: str) -> Actor:
        progress = Progress(self.runtime, runs)
        yield from self._settle(co, lambda: progress.all_done, label)

    def _cancel_all(self, runs: list[TaskRun], reason: str, by: str | None) -> None:
        for run in runs:
            if not run.future.is_done:
                self.cancel(run, reason, by=by)

    def _receive(self, lane: Lane, run: TaskRun) -> Actor:
        self.runtime.receive(run)
        for step in self.program.on_result:
            yield from self.runtime.interp.step(lane, None, step, [])
