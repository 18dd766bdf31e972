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
from typing import Any

from concsim.events import (
    CancelDelivered,
    Cleanup,
    LaneKind,
    LaneState,
    LoopBlocked,
    Outcome,
)

from ..code import once
from ..futures import Job, ThreadPool
from ..runtime import Actor, Cancelled, Lane, TaskRun
from ..runtime_core import Runtime
from ..waits import (
    Awaiting,
    BlockingCall,
    FutureWait,
    Hung,
    IoWait,
    LockWait,
    PrimitiveWait,
    QueueWait,
    StartWait,
)
from .timers import TimerBatch

IO = LaneState.IO
RUNNING = LaneState.RUNNING


Register = Callable[[Callable[..., None]], Callable[[], None]]


class Waker:
    """Resumes a coroutine parked at an await, at most once: only while it is the lane's
    ``waker``, which calling it clears. A small object rather than a closure: a closure that
    tests ``co.waker is wake`` refers to itself, and a reference cycle per await would leave
    all the collecting to the cyclic garbage collector."""

    __slots__ = ("aio", "co")

    def __init__(self, aio: EventLoop, co: Lane) -> None:
        self.aio = aio
        self.co = co

    def __call__(self, value: Any = None, exc: BaseException | None = None) -> None:
        co, aio = self.co, self.aio
        if co.waker is self:
            co.waker = None
            aio.make_ready(co, value, exc)


class EventLoop:
    """The event loop (Lib/asyncio/base_events.py, ``BaseEventLoop._run_once``): a FIFO of
    ready callbacks, and the awaits whose shape is the loop's own."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        world = self.world = runtime.world
        self.program = world.program
        self.loop = world.new_lane(
            "loop", LaneKind.LOOP, world.main_proc, lane_id="loop", name="event loop"
        )
        world.loop_lane = self.loop
        # Ready callbacks: (coroutine, value, exception) to resume one, or (None, fn, None);
        # a coroutine alone stands for (coroutine, None, None), the wake-up of a sleep: no
        # tuple that holds a lane, an object the collector would track, per sleep.
        self.ready: deque[Lane | tuple[Lane | None, Any, BaseException | None]] = deque()
        self.scheduled = False  # a _run_ready is due at this instant
        self.running = False  # _run_ready is draining the queue right now
        workers = min(32, world.machine.cores + 4)
        self.default_pool = ThreadPool(runtime, workers, how="asyncio.to_thread")
        self.interrupted = False
        self.in_teardown = False  # main() returned; asyncio.run() is cleaning up
        self.interrupted_again = False
        self.timed_out: set[str] = set()
        self.timers = TimerBatch(world.clock, self._io_done)
        runtime.interp.aio = self

    def is_coroutine(self, lane: Lane) -> bool:
        return lane.thread is self.loop

    def tree_step(self, co: Lane, run: TaskRun | None, step: Any, label: str) -> Actor:
        """A step that creates, awaits or cancels tasks: the task tree's (children.py)."""
        raise NotImplementedError

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
        """``BaseEventLoop._run_once``, its second half: run the callbacks ready now, in
        order, until one of them holds the loop (a coroutine that does not await)."""
        self.scheduled = False
        world = self.world
        ready = self.ready
        self.running = True
        try:
            popleft, step, loop = ready.popleft, self._step, self.loop
            shown = world.state_shown(loop, RUNNING)
            while world.loop_current is None and ready:
                entry = popleft()
                co: Lane | None
                value: Any
                if isinstance(entry, Lane):
                    co, value, exc = entry, None, None
                else:
                    co, value, exc = entry
                if co is None:
                    value()
                elif exc or co.gen is None or co.must_cancel or co.pending_error:
                    step(co, value, exc)  # (an ended lane has no actor: World.kill)
                else:
                    # ``_step``'s common case, in this loop: a coroutine back from an await
                    # that completed, with nothing to deliver.
                    world.loop_current = co
                    if loop.step != co.id or loop.state is not RUNNING:
                        shown(co.id)
                    gen = co.gen
                    co.epoch += 1  # world.resume(co, value), inline: the hot path
                    co.wait = None
                    try:
                        wait = gen.send(value)
                    except StopIteration as stop:
                        co.gen = None
                        if co.returned is not None:  # a task's coroutine returned
                            co.returned(co, stop.value)
                        continue
                    co.wait = wait
                    if type(wait) is not IoWait:  # a coroutine's I/O timer is the loop's
                        world.start_timer(co, wait)
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
        if exc is not None or co.must_cancel or co.pending_error is not None:
            # Rare: something to deliver at the await (an await that completed has none).
            if self._cancelled_before_start(co):
                return
            exc = self._delivered(co, exc)
        world.loop_current = co
        world.set_state(self.loop, LaneState.RUNNING, co.id)
        world.resume(co, value, exc)

    def _cancelled_before_start(self, co: Lane) -> bool:
        """Cancelled before its first step: the coroutine body never runs."""
        run = co.task
        if not (co.must_cancel and run is not None and not run.started):
            return False
        co.must_cancel = False
        co.gen = None
        self.runtime.settle(run, cancelled=True)
        self.world.set_state(co, LaneState.CANCELLED, run.name)
        self.runtime.end(run, Outcome.CANCELLED, "CancelledError", Cleanup.NONE)
        return True

    def _delivered(self, co: Lane, exc: BaseException | None) -> BaseException | None:
        """The exception the coroutine gets at its await: ``exc``, else an error kept
        for it, else a cancel() that arrived while it was ready."""
        if co.pending_error is not None and exc is None:
            exc, co.pending_error = co.pending_error, None
        if co.must_cancel and exc is None:
            co.must_cancel = False
            exc, co.cancel_message = Cancelled(co.cancel_message), ""
        if isinstance(exc, Cancelled):
            run = co.task
            self.world.emit(
                CancelDelivered, task=run.name if run else co.id, lane=co.id, step=co.step
            )
        return exc

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
            message, co.cancel_message = co.cancel_message, ""
            raise Cancelled(message)

    def await_(
        self,
        co: Lane,
        state: LaneState,
        label: str,
        register: Register,
        wait: Awaiting | LockWait | QueueWait | FutureWait | StartWait | PrimitiveWait,
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
        timers = self.timers  # (not its bound ``add``: an object kept per sleeping lane)
        # The lane's own waker, the same for every I/O wait: nothing but the timer outlives
        # a wait, and the timer carries the lane's epoch (bumped at every resume), so an
        # earlier wait's timer cannot wake a later wait. ``await_`` makes a fresh waker per
        # await instead, because the callbacks it registers (a deadline's timer) are told
        # apart by the waker's identity.
        waker = co.io_waker
        if waker is None:
            waker = co.io_waker = Waker(self, co)
        last = len(waits)
        for _ in range(times):
            # By index: a range's iterator is not an object the collector tracks, a tuple's
            # is, and it lives as long as the sleep (one per sleeping coroutine).
            for index in range(last):
                duration, label = waits[index]
                if jitter:
                    duration = world.jittered(duration)
                if co.must_cancel:
                    self._cancel_due(co, label)
                co.waker = waker
                # clock.at(until, self._io_done, [co], [co.epoch]), batched: timers.py
                wait = timers.add(clock.now + duration, co)
                if co.state is not IO or co.step != label or co.in_cleanup:
                    world.set_state(co, IO, label)  # the second await on is already shown
                if world.loop_current is co:  # _park, inline
                    world.loop_current = None
                if not self.running:
                    self._kick()
                try:
                    yield wait
                finally:
                    co.hung_io = False  # a hang freezes one I/O wait, not the ones after it
                    if co.waker is waker:
                        co.waker = None

    def _io_done(self, lanes: list[Lane], epochs: list[int]) -> None:
        """I/O timers due now (a batch of them, coroutines/timers.py), each in turn."""
        # Only the wait each was set for: the lane's epoch changes at every resume. A hang
        # injected meanwhile freezes the wait for good. The waker's call, inline: the
        # wait's waker is the lane's ``io_waker``, and calling it clears it and makes the
        # coroutine ready.
        world, append = self.world, self.ready.append
        busy = world.loop_current is not None  # as it stays: nothing here runs a coroutine
        woken = False
        for co, epoch in zip(lanes, epochs, strict=True):
            if co.epoch == epoch and not co.hung_io and co.waker is not None:
                co.waker = None
                if busy:  # make_ready, inline
                    world.set_state(co, LaneState.READY, co.step)
                append(co)  # (co, None, None): see ``ready``
                woken = True
        if woken and not self.scheduled:  # one wake-up of the loop serves them all
            self._kick()

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

            def unregister() -> None:
                # A hang or a cancel takes the coroutine off the future: the thread's
                # result no longer wakes it (CPython: the awaited future is forgotten).
                if wake in waiters:
                    waiters.remove(wake)

            return unregister

        if not state["done"]:
            # A label already written as the await reads as it is, not wrapped twice.
            what = label if label.startswith("await ") else f"await to_thread({label})"
            yield from self.await_(co, LaneState.BLOCKED, what, register, Awaiting(what))


def do_nothing() -> None:
    return None
