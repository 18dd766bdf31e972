"""asyncio: one event loop on the main thread, coroutines that run until they await.

The loop keeps a FIFO of ready callbacks. A coroutine runs (holding the loop, and the
GIL for Python code) until it reaches an ``await`` of something not yet done; only then
can anything else run: other coroutines, timer callbacks, timeouts. That is why a ``cpu``
or ``blocking`` step inside ``async def`` freezes every other coroutine and makes timeouts
fire late. ``task.cancel()`` never interrupts running code: it throws CancelledError into
the coroutine at the await where it is parked, or at its next await.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Sequence
from functools import partial
from typing import Any

from concsim.events import (
    CancelDelivered,
    CancelRequested,
    Cleanup,
    FutureState,
    InterruptDelivered,
    LaneKind,
    LaneState,
    LoopBlocked,
    Outcome,
    ResultReceived,
    TaskSubmitted,
    TimeoutExpired,
)
from concsim.scenario import model as m

from .executors import Job, ThreadPool
from .interpreter import TaskResult, once
from .runtime import Actor, Cancelled, Interrupted, Lane, SimError, TaskRun
from .runtime_core import TIMED_OUT, Progress, Runtime
from .waits import Awaiting, BlockingCall, FutureWait, Hung, IoWait, LockWait, QueueWait

Register = Callable[[Callable[..., None]], Callable[[], None]]


class Waker:
    """Resumes a coroutine parked at an await, at most once: only while it is the lane's
    ``waker``, which calling it clears. A small object rather than a closure: a closure that
    tests ``co.waker is wake`` refers to itself, and a reference cycle per await would leave
    all the collecting to the cyclic garbage collector."""

    __slots__ = ("aio", "co")

    def __init__(self, aio: AsyncioModel, co: Lane) -> None:
        self.aio = aio
        self.co = co

    def __call__(self, value: Any = None, exc: BaseException | None = None) -> None:
        co, aio = self.co, self.aio
        if co.waker is self:
            co.waker = None
            aio.make_ready(co, value, exc)


class AsyncioModel:
    """``asyncio.run(main())``: the loop, its tasks, and main()'s way of collecting them."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        world = self.world = runtime.world
        self.program = world.program
        self.loop = world.new_lane(
            "loop", LaneKind.LOOP, world.main_proc, lane_id="loop", name="event loop"
        )
        world.loop_lane = self.loop
        # Ready callbacks: (coroutine, value, exception) to resume one, or (None, fn, None).
        self.ready: deque[tuple[Lane | None, Any, BaseException | None]] = deque()
        self.scheduled = False  # a _run_ready is due at this instant
        self.running = False  # _run_ready is draining the queue right now
        workers = min(32, world.machine.cores + 4)
        self.default_pool = ThreadPool(runtime, workers, how="asyncio.to_thread")
        self.interrupted = False
        self.in_teardown = False  # main() returned; asyncio.run() is cleaning up
        self.interrupted_again = False
        self.timed_out: set[str] = set()
        runtime.interp.aio = self

    def is_coroutine(self, lane: Lane) -> bool:
        return lane.thread is self.loop

    # --- the loop -----------------------------------------------------------------------

    def call_soon(self, fn: Callable[[], None]) -> None:
        self.ready.append((None, fn, None))
        self._kick()

    def _kick(self) -> None:
        # One wake-up of the loop serves every callback that is ready at this instant.
        if not self.running and self.world.loop_current is None and not self.scheduled:
            self.scheduled = True
            self.world.clock.soon(self._run_ready)

    def _run_ready(self) -> None:
        self.scheduled = False
        world = self.world
        ready = self.ready
        self.running = True
        try:
            while world.loop_current is None and ready:
                co, value, exc = ready.popleft()
                if co is None:
                    value()
                else:
                    self._step(co, value, exc)
        finally:
            self.running = False
        if world.loop_current is None and not ready:
            world.release_gil(self.loop, "the event loop is idle in select()")
            world.set_state(self.loop, LaneState.IDLE, "select()")

    def make_ready(self, co: Lane, value: Any = None, exc: BaseException | None = None) -> None:
        if self.world.loop_current is not None:
            self.world.set_state(co, LaneState.READY, co.step)
        self.ready.append((co, value, exc))
        if not self.scheduled:  # most wake-ups at an instant find the loop already due
            self._kick()

    def _step(self, co: Lane, value: Any, exc: BaseException | None) -> None:
        world = self.world
        if co.ended or co.gen is None:
            return
        run = co.task
        if co.must_cancel and run is not None and not run.started:
            # Cancelled before its first step: the coroutine body never runs.
            co.must_cancel = False
            co.gen = None
            self.runtime.settle(run, cancelled=True)
            world.set_state(co, LaneState.CANCELLED, run.name)
            self.runtime.end(run, Outcome.CANCELLED, "CancelledError", Cleanup.NONE)
            return
        if co.pending_error is not None and exc is None:
            exc, co.pending_error = co.pending_error, None
        if co.must_cancel and exc is None:
            co.must_cancel = False
            exc = Cancelled()
        if isinstance(exc, Cancelled):
            world.emit(CancelDelivered, task=run.name if run else co.id, lane=co.id, step=co.step)
        world.loop_current = co
        world.set_state(self.loop, LaneState.RUNNING, co.id)
        world.resume(co, value, exc)

    def _park(self, co: Lane) -> None:
        """The running coroutine reached an await (or ended): the loop moves on."""
        if self.world.loop_current is co:
            self.world.loop_current = None
        if not self.running:  # inside _run_ready the loop goes on to its next callback
            self._kick()

    def _cancel_due(self, co: Lane, label: str) -> None:
        """A cancel() that arrived while it ran is delivered at this await."""
        if co.must_cancel:
            co.must_cancel = False
            self.world.emit(
                CancelDelivered, task=co.task.name if co.task else co.id, lane=co.id, step=label
            )
            raise Cancelled()

    def await_(
        self,
        co: Lane,
        state: LaneState,
        label: str,
        register: Register,
        wait: Awaiting | LockWait | QueueWait | FutureWait,
    ) -> Actor:
        """``await`` something not yet done: park until the waker is called."""
        self._cancel_due(co, label)
        waker = co.waker = Waker(self, co)
        unregister = co.unblock = once(register(waker))
        self.world.set_state(co, state, label)
        self._park(co)
        try:
            value = yield wait
        finally:
            co.unblock = None
            unregister()
            if co.waker is waker:
                co.waker = None
        return value

    # --- steps inside a coroutine -------------------------------------------------------

    def await_io(self, co: Lane, waits: Sequence[tuple[int, str]], times: int = 1) -> Actor:
        """``await`` I/O or ``asyncio.sleep``: each of ``waits`` (a duration before jitter,
        and a label) in turn, ``times`` over. The hot path, so it parks the coroutine itself
        rather than through ``await_``, and a loop of awaits runs in this one generator."""
        world = self.world
        clock = world.clock
        jitter = world.machine.jitter
        for _ in range(times):
            for duration, label in waits:
                if jitter:
                    duration = world.jittered(duration)
                if co.must_cancel:
                    self._cancel_due(co, label)
                # The lane's own waker, reused from one I/O wait to the next: nothing but
                # the timer outlives a wait, and the timer carries the lane's epoch (bumped
                # at every resume), so an earlier wait's timer cannot wake a later wait.
                # ``await_`` makes a fresh waker per await instead, because the callbacks
                # it registers (a deadline's timer) are told apart by the waker's identity.
                waker = co.io_waker
                if waker is None:
                    waker = co.io_waker = Waker(self, co)
                co.waker = waker
                until = clock.now + duration
                clock.at(until, self._io_done, co, co.epoch)
                world.set_state(co, LaneState.IO, label)
                self._park(co)
                try:
                    yield IoWait(until)
                finally:
                    co.hung_io = False  # a hang freezes one I/O wait, not the ones after it
                    if co.waker is waker:
                        co.waker = None

    @staticmethod
    def _io_done(co: Lane, epoch: int) -> None:
        # Only the wait it was set for: the lane's epoch changes at every resume. A hang
        # injected meanwhile freezes the wait for good.
        if co.epoch == epoch and not co.hung_io:
            waker = co.waker
            if waker is not None:
                waker()

    def blocking(self, co: Lane, duration: int, label: str) -> Actor:
        """``time.sleep`` inside ``async def``: the loop itself is stuck until it returns."""
        world = self.world
        world.release_gil(co, "a blocking call released it")
        world.set_state(co, LaneState.LOOP_BLOCKED, label)
        world.emit(LoopBlocked, task=co.task.name if co.task else co.id, step=label)
        wait = BlockingCall(world.clock.now + duration)
        try:
            yield Hung(wait) if co.hung_io else wait  # a hung call has no timer
        finally:
            co.hung_io = False  # a hang freezes one I/O wait, not the ones after it

    def to_thread(self, co: Lane, duration: int, label: str) -> Actor:
        """``await asyncio.to_thread(f)``: f blocks a worker thread, the loop runs on."""
        world = self.world
        state = {"done": False}
        waiters: list[Callable[..., None]] = []

        def call(lane: Lane) -> Actor:
            world.release_gil(lane, "it started blocking I/O")
            world.set_state(lane, LaneState.IO, f"to_thread: {label}")
            yield IoWait(world.clock.now + duration)

        def done() -> None:
            state["done"] = True
            for wake in waiters:
                wake(None)

        self.default_pool.submit(Job([], call=call, done=done))

        def register(wake: Callable[..., None]) -> Callable[[], None]:
            waiters.append(wake)
            return _nothing

        if not state["done"]:
            what = f"await to_thread({label})"
            yield from self.await_(co, LaneState.BLOCKED, what, register, Awaiting(what))

    # --- tasks --------------------------------------------------------------------------

    def create_task(self, run: TaskRun) -> None:
        world = self.world
        run.submitted = True
        co = world.new_lane(
            "task",
            LaneKind.COROUTINE,
            world.main_proc,
            name=run.name,
            thread=self.loop,
            lane_id=run.name,
        )
        co.task = run
        run.lane = co
        world.emit(TaskSubmitted, task=run.name, how="asyncio.create_task")
        world.set_state(co, LaneState.QUEUED, "created")
        co.gen = self._coroutine(co, run)
        self.make_ready(co)
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
        self.cancel(run, "asyncio.wait_for() timed out and cancels the task it waits for")

    def _coroutine(self, co: Lane, run: TaskRun) -> Actor:
        runtime = self.runtime
        result: TaskResult = yield from runtime.execute(co, run)
        if run.name in self.timed_out and isinstance(result.error, Cancelled):
            runtime.finish(co, run, result, settle=False)
            runtime.settle(run, error=SimError("TimeoutError", ""))
        else:
            runtime.finish(co, run, result)
        self._park(co)

    def cancel(self, run: TaskRun, reason: str) -> bool:
        """``task.cancel()``: CancelledError at its current await, or at its next one."""
        world = self.world
        if run.future.is_done:
            world.emit(
                CancelRequested, task=run.name, accepted=False, reason="the task is already done"
            )
            return False
        world.emit(CancelRequested, task=run.name, accepted=True, reason=reason)
        co = run.lane
        assert co is not None
        if co.waker is not None:
            co.waker(None, Cancelled())
        else:
            co.must_cancel = True
        return True

    def cancel_main(self) -> None:
        main = self.runtime.main_lane
        assert main is not None
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
                    self.cancel(run, "a second Ctrl-C: Runner.close() cancels the tasks again")
            return
        self.interrupted = True
        self.cancel_main()

    # --- main() -------------------------------------------------------------------------

    def main(self, lane: Lane) -> Actor:
        world = self.world
        runtime = self.runtime
        error: SimError | None = None
        try:
            for step in self.program.main_steps:
                if isinstance(step, m.SubmitStep):
                    for run in self._selected(step.submit):
                        self.create_task(run)
                elif isinstance(step, m.CollectStep):
                    yield from self.collect(lane)
                else:
                    yield from runtime.interp.step(lane, None, step, [])
        except SimError as exc:
            error = exc
        lane.pending_error = None  # main() is over: nothing more can be raised in it
        if self.interrupted and isinstance(error, Cancelled):
            error = Interrupted()
        if error is not None and self.program.on_error:
            try:
                yield from runtime.interp.run_steps(lane, None, self.program.on_error, [])
            except SimError as exc:
                error = exc
        self.in_teardown = True
        label = "asyncio.run(): cancelling remaining tasks"
        left = [r for r in runtime.tasks if r.submitted and not r.future.is_done]
        if left:
            yield from self._stop_loop(lane, label)
        world.set_state(lane, LaneState.BLOCKED, label)
        # asyncio.run(): cancel what is still pending (CPython iterates a set; concsim uses
        # creation order), run the loop until they finish, then wait for to_thread workers.
        left = [r for r in runtime.tasks if r.submitted and not r.future.is_done]
        for run in left:
            self.cancel(run, "asyncio.run() cancels the tasks still pending when main() ends")
        yield from self._settle_all(lane, left, "asyncio.run(): cancelling remaining tasks")
        if self.interrupted_again:
            error = Interrupted()
        pool = self.default_pool
        if pool.workers:
            pool.shutdown(wait=True, cancel_futures=False)
            yield from self._settle(lane, pool.finished, "shutdown_default_executor()")
        runtime.unretrieved_warnings(asyncio=True)
        runtime.end_main(lane, error)
        self._park(lane)

    def _stop_loop(self, lane: Lane, label: str) -> Actor:
        """main() is over, but asyncio.run() cancels nothing before the loop stops
        (Lib/asyncio/base_events.py, run_until_complete): the main task's done-callback
        ``_run_until_complete_cb`` is scheduled with call_soon and stops the loop only
        after one more turn, in which everything already in the ready queue runs. So a
        task created on main()'s last line still starts, up to its first await."""
        if not self.ready:
            return

        def register(wake: Callable[..., None]) -> Callable[[], None]:
            self.call_soon(wake)
            return _nothing

        while True:
            try:
                yield from self.await_(lane, LaneState.BLOCKED, label, register, Awaiting(label))
                return
            except Cancelled:
                continue  # main() is over: a late cancel of it changes nothing

    def _selected(self, names: Any) -> list[TaskRun]:
        runs = [r for r in self.runtime.tasks if not r.submitted]
        if names == "all":
            return runs
        return [r for r in runs if r.name in names or r.spec.name in names]

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

    def _cancel_all(self, runs: list[TaskRun], reason: str) -> None:
        for run in runs:
            if not run.future.is_done:
                self.cancel(run, reason)

    def _receive(self, lane: Lane, run: TaskRun) -> Actor:
        self.runtime.receive(run)
        for step in self.program.on_result:
            yield from self.runtime.interp.step(lane, None, step, [])

    def collect(self, lane: Lane) -> Actor:
        collect = self.program.collect
        for run in self._selected("all"):
            self.create_task(run)
        runs = [r for r in self.runtime.tasks if r.submitted]
        deadline = None if collect.timeout is None else self.world.clock.now + collect.timeout
        pattern = collect.pattern
        if pattern is m.Pattern.GATHER:
            yield from self._gather(lane, runs, deadline)
        elif pattern is m.Pattern.TASKGROUP:
            yield from self._taskgroup(lane, runs, deadline)
        elif pattern is m.Pattern.AS_COMPLETED:
            yield from self._as_completed(lane, runs, deadline)
        elif pattern is m.Pattern.WAIT:
            yield from self._wait(lane, runs, deadline, collect.return_when)
        elif pattern is m.Pattern.RESULT:
            for run in runs:
                yield from self._await_task(lane, run)

    def _gather(self, lane: Lane, runs: list[TaskRun], deadline: int | None) -> Actor:
        collect = self.program.collect
        for run in runs:
            run.future.retrieved = True  # gather's done-callback reads every child's exception

        progress = Progress(self.runtime, runs)

        def finished() -> bool:
            if progress.all_done:
                return True
            return not collect.return_exceptions and progress.errored > 0

        try:
            got = yield from self.await_until(lane, finished, "await gather(...)", deadline)
        except Cancelled:
            if not collect.shield:  # cancelling a gather cancels its children, then waits
                self._cancel_all(runs, "the gather() it belongs to was cancelled")
                yield from self._settle_all(lane, runs, "gather() cancelling its children")
            raise
        if got is TIMED_OUT:
            if not collect.shield:
                self._cancel_all(
                    runs, "wait_for() timed out and cancelled gather(), which cancels its children"
                )
                yield from self._settle_all(lane, runs, "wait_for() waiting for cancellation")
            raise SimError("TimeoutError", "")
        if collect.return_exceptions:
            for run in runs:
                error = run.future.error
                value = run.future.value if error is None else repr(error)
                self.world.emit(ResultReceived, task=run.name, value=value)
                for step in self.program.on_result:
                    yield from self.runtime.interp.step(lane, None, step, [])
            return
        first = next((r for r in progress.update().order if r.future.error), None)
        if first is not None:
            self.runtime.receive(first)  # raises: the first exception propagates
        for run in runs:
            yield from self._receive(lane, run)

    def _taskgroup(self, lane: Lane, runs: list[TaskRun], deadline: int | None) -> Actor:
        """``async with asyncio.TaskGroup() as tg`` (Lib/asyncio/taskgroups.py): the first
        failure (heard of in ``_on_task_done``) cancels the other children; ``__aexit__``
        waits for all of them and raises an ExceptionGroup of every failure."""
        state: dict[str, Any] = {"aborting": False}

        def abort(reason: str) -> None:
            if not state["aborting"]:
                state["aborting"] = True
                self._cancel_all(runs, reason)

        def on_done(future: Any) -> None:
            if future.state is FutureState.FAILED:
                abort(
                    f"TaskGroup cancels the other tasks because {future.task.name} raised "
                    f"{future.error.error}"
                )

        def schedule_on_done(future: Any) -> None:
            # Future.__schedule_callbacks: done-callbacks go through loop.call_soon, so a
            # child whose step is already in the ready queue runs it before the group
            # hears of a sibling's failure. Two children failing at the same instant both
            # raise, and both are in the ExceptionGroup.
            self.call_soon(partial(on_done, future))

        for run in runs:
            run.future.retrieved = True  # the group collects every child's exception
            run.future.add_done_callback(schedule_on_done)
        interrupted: SimError | None = None
        progress = Progress(self.runtime, runs)
        while not progress.all_done:
            try:
                got = yield from self.await_until(
                    lane,
                    lambda: progress.all_done,
                    "TaskGroup.__aexit__",
                    deadline,
                )
            except Cancelled as exc:
                interrupted = exc
                abort("the task running the TaskGroup was cancelled")
                continue
            if got is TIMED_OUT:
                interrupted = SimError("TimeoutError", "")
                deadline = None
                abort("asyncio.timeout() expired around the TaskGroup")
        failed = [r for r in runs if r.future.state is FutureState.FAILED]
        if failed:
            count = len(failed)
            raise SimError(
                "ExceptionGroup",
                f"unhandled errors in a TaskGroup ({count} "
                f"sub-exception{'s' if count > 1 else ''})",
            )
        if interrupted is not None:
            raise interrupted
        for run in runs:
            yield from self._receive(lane, run)

    def _as_completed(self, lane: Lane, runs: list[TaskRun], deadline: int | None) -> Actor:
        progress = Progress(self.runtime, runs)
        taken = 0
        while taken < len(runs):
            if taken == len(progress.update().order):
                got = yield from self.await_until(
                    lane,
                    partial(progress.has_more_than, taken),
                    "as_completed()",
                    deadline,
                )
                if got is TIMED_OUT:
                    raise SimError("TimeoutError", "")
                continue
            taken += 1
            yield from self._receive(lane, progress.order[taken - 1])

    def _wait(
        self, lane: Lane, runs: list[TaskRun], deadline: int | None, when: m.ReturnWhen
    ) -> Actor:
        progress = Progress(self.runtime, runs)
        yield from self.await_until(
            lane, partial(progress.reached, when), f"asyncio.wait({when.value})", deadline
        )
        for run in list(progress.update().order):
            yield from self._receive(lane, run)

    def _await_task(self, lane: Lane, run: TaskRun) -> Actor:
        """``await task`` (or ``await wait_for(task, timeout)``): cancelling the waiter
        cancels the task, unless it is shielded."""
        collect = self.program.collect
        deadline = None if collect.timeout is None else self.world.clock.now + collect.timeout
        try:
            got = yield from self.await_until(
                lane, lambda: run.future.is_done, f"await {run.name}", deadline
            )
        except Cancelled:
            if not collect.shield:
                self.cancel(run, "the coroutine awaiting it was cancelled")
                yield from self._settle_all(lane, [run], f"await {run.name}")
            raise
        if got is TIMED_OUT:
            if not collect.shield:
                self.cancel(run, "asyncio.wait_for() timed out and cancels the task it waits for")
                yield from self._settle_all(lane, [run], f"wait_for({run.name}) cancelling")
            raise SimError("TimeoutError", "")
        yield from self._receive(lane, run)


def _nothing() -> None:
    return None
