"""The simulated machine: lanes as generator actors, the GIL, CPU cores, and event emission.

Scheduling is the heart of the model, so here is how it works. Each lane (a thread, a
process, a coroutine, the main program) is a generator. It suspends by yielding what it
waits for (waits.py: ``IoWait(until)``, ``GilWait()``, ``LockWait(lock)``, ...);
``resume``, the driver, records that as ``lane.wait`` and starts the timer of a timed wait.
Waits that others end (a lock, a queue, a future) are woken by the one who ends them. Every
wake-up carries the lane's ``epoch``; resuming a lane bumps the epoch, so a stale wake-up
(a timer of an I/O wait that a fault interrupted) is ignored without searching the heap.
Faults read ``lane.wait`` and throw exceptions into the generator at the point where it
waits, which is exactly where CPython raises them.
"""

from __future__ import annotations

import random
from collections import deque
from collections.abc import Callable
from typing import Any

from concsim.events import (
    Event,
    GilChanged,
    LaneCreated,
    LaneKind,
    LaneState,
    LaneStateChanged,
)
from concsim.scenario.model import Scenario

from .clock import Scheduler
from .runtime import PREEMPTED, Actor, Gil, Lane, Proc
from .waits import CORE_WAIT, GIL_WAIT, TIMED, CpuRun, IoWait, NativeRun

# States that, during a ``finally`` block, are shown as the cleanup phase.
_CLEANUP_SHOWN = frozenset(
    {LaneState.RUNNING, LaneState.IO, LaneState.NATIVE, LaneState.BLOCKED, LaneState.LOOP_BLOCKED}
)


# What the event loop's own lane shows of the coroutine it is running: the loop's thread
# runs that coroutine's code, Python or native (or waits for the GIL or a core to do so, or
# is stuck in its blocking call). A coroutine that awaits, ends or is ready is not the
# loop's state: the loop moves on to the next callback.
_LOOP_MIRRORED = frozenset(
    {
        LaneState.RUNNING,
        LaneState.NATIVE,
        LaneState.GIL_WAIT,
        LaneState.CORE_WAIT,
        LaneState.LOOP_BLOCKED,
    }
)

# Most events are LaneStateChanged, so set_state builds them the quick way. Calling a class
# with keyword arguments makes CPython 3.11 pack them into a dict and unpack it again for
# ``__init__`` (a class call has no fast path for keywords); creating the instance and
# calling ``__init__`` with the same keywords skips that, about a third of an event's cost.
# The object is the same: the events' classes define no ``__new__``.
_new = object.__new__
_init_state_changed = LaneStateChanged.__init__


class World:
    """Clock, event log, lanes and the shared hardware (GILs and cores) of one run."""

    def __init__(self, scenario: Scenario, seed: int) -> None:
        self.scenario = scenario
        self.machine = scenario.machine
        self.program = scenario.program
        self.seed = seed
        self.clock = Scheduler()
        self.events: list[Event] = []
        self.rng = random.Random(seed)
        self.lanes: dict[str, Lane] = {}
        self.main_proc = Proc("main", Gil() if self.machine.gil else None)
        self.cores_free = self.machine.cores
        self.core_waiters: deque[tuple[Lane, int]] = deque()
        self.loop_lane: Lane | None = None  # set by the asyncio model
        self.loop_current: Lane | None = None  # the coroutine the event loop is running
        self._counters: dict[str, int] = {}

    # --- events -------------------------------------------------------------------------

    @property
    def now(self) -> float:
        return self.clock.now / 1_000_000

    def emit(self, cls: type[Event], **fields: Any) -> None:
        self.events.append(cls(t=self.clock.now / 1_000_000, seq=len(self.events), **fields))

    def set_state(self, lane: Lane, state: LaneState, step: str | None = None) -> None:
        if lane.in_cleanup and state in _CLEANUP_SHOWN:
            state = LaneState.CLEANUP
            step = f"finally: {step}" if step else "finally"
        if lane.state is state and lane.step == step:
            return
        lane.state = state
        lane.step = step
        task = lane.task.name if lane.task is not None else None
        event = _new(LaneStateChanged)
        _init_state_changed(
            event,
            t=self.clock.now / 1_000_000,
            seq=len(self.events),
            lane=lane.id,
            state=state,
            task=task,
            step=step,
        )
        self.events.append(event)
        loop = self.loop_lane
        if (
            loop is not None
            and lane.thread is loop
            and self.loop_current is lane
            and state in _LOOP_MIRRORED
        ):
            self.set_state(loop, state, f"{lane.id}: {step}" if step else lane.id)

    # --- lanes --------------------------------------------------------------------------

    def new_lane(
        self,
        prefix: str,
        kind: LaneKind,
        proc: Proc,
        *,
        name: str | None = None,
        thread: Lane | None = None,
        lane_id: str | None = None,
    ) -> Lane:
        if lane_id is None:
            number = self._counters.get(prefix, 0) + 1
            self._counters[prefix] = number
            lane_id = f"{prefix}-{number}"
        lane = Lane(id=lane_id, kind=kind, proc=proc, thread=thread)
        self.lanes[lane_id] = lane
        self.emit(LaneCreated, lane=lane_id, lane_kind=kind, name=name or lane_id, process=proc.id)
        return lane

    def start(self, lane: Lane, actor: Actor) -> None:
        """Give ``lane`` its behaviour; it first runs at the current instant."""
        lane.gen = actor
        self.clock.soon(self.wake, lane, lane.epoch)

    def resume(self, lane: Lane, value: Any = None, exc: BaseException | None = None) -> None:
        """The driver: run ``lane`` until it yields its next wait, record it as ``lane.wait``
        and start its timer if it is a timed wait of a thread (a coroutine's timers are the
        event loop's, see ``AsyncioModel.await_io``)."""
        gen = lane.gen
        if gen is None or lane.ended:
            return
        lane.epoch += 1
        lane.wait = None
        try:
            wait = gen.send(value) if exc is None else gen.throw(exc)
        except StopIteration:
            lane.gen = None
            return
        lane.wait = wait
        # A coroutine's I/O timer is the event loop's (AsyncioModel.await_io); a hung wait
        # (``Hung``) and the waits that others end have none.
        if isinstance(wait, TIMED) and (type(wait) is not IoWait or lane.thread is None):
            self.clock.at(wait.until, self.wake, lane, lane.epoch)

    def wake(self, lane: Lane, epoch: int, value: Any = None) -> None:
        if lane.epoch == epoch:
            self.resume(lane, value)

    def waker(self, lane: Lane) -> Callable[[Any], None]:
        """A callable that wakes ``lane`` from its current wait, at most once, soon."""
        epoch = lane.epoch

        def wake_soon(value: Any = None) -> None:
            self.clock.soon(self.wake, lane, epoch, value)

        return wake_soon

    def kill(self, lane: Lane) -> None:
        """End a lane abruptly: no ``finally`` of the simulated program runs."""
        lane.ended = True
        gen, lane.gen = lane.gen, None
        self.release_gil(lane, "its thread was stopped")
        if gen is not None:
            gen.close()  # runs only the engine's own bookkeeping (waiter queues)

    # --- the GIL ------------------------------------------------------------------------
    #
    # CPython 3.2+ "new GIL" (Python/ceval_gil.c, take_gil): each thread that wants the GIL
    # waits on a condition for up to the switch interval, counted from when *it* started
    # waiting. If it timed out and no switch happened meanwhile (the switch number is the
    # one it saw), it sets the drop request; otherwise it waits another interval. The
    # holder releases the GIL at its next eval-breaker check. With FORCE_SWITCHING the
    # dropping thread then waits until another thread has taken it, so waiters are served
    # in turn. I/O and native code release the GIL voluntarily and the next waiter takes it
    # at once. So every waiter has its own timer: a thread back from I/O beside a CPU-bound
    # thread gets the GIL one interval after it asked, however long the holder has held it.

    def ensure_gil(self, lane: Lane) -> Actor:
        thread = lane.os_thread
        gil = thread.proc.gil
        if gil is None:
            return
        if gil.holder is thread:
            if not (gil.drop_requested and gil.waiters):
                return
            # A drop request arrived as its last stretch of code ended: it lets go now.
            self.release_gil(lane, "the switch interval expired")
        if gil.holder is None and not gil.waiters:
            self._take_gil(gil, thread, "it was free")
            return
        gil.waiters.append(thread)
        self.set_state(lane, LaneState.GIL_WAIT, lane.step)
        thread.gil_wait += 1
        self._wait_interval(gil, thread, thread.gil_wait)
        try:
            while gil.holder is not thread:
                yield GIL_WAIT
        finally:
            if thread in gil.waiters:
                gil.waiters.remove(thread)

    def _take_gil(self, gil: Gil, thread: Lane, reason: str) -> None:
        gil.holder = thread
        gil.switches += 1
        gil.drop_requested = False
        self.emit(GilChanged, process=thread.proc.id, holder=thread.id, reason=reason)

    def _wait_interval(self, gil: Gil, thread: Lane, wait: int) -> None:
        """One ``COND_TIMED_WAIT(gil->cond, ..., interval)`` of a waiting thread."""
        self.clock.at(
            self.clock.now + self.machine.switch_interval,
            self._interval_expired,
            gil,
            thread,
            wait,
            gil.switches,
        )

    def _interval_expired(self, gil: Gil, thread: Lane, wait: int, switches: int) -> None:
        if thread.gil_wait != wait or gil.holder is thread or thread not in gil.waiters:
            return  # that wait is over: the thread has the GIL or gave up waiting
        holder = gil.holder
        if holder is None:
            return  # never so: a released GIL passes straight to the first waiter
        if gil.switches == switches:
            gil.drop_requested = True
            running = self._running_on(holder)
            if type(running.wait) is CpuRun:
                # The holder is mid-way through Python code: it stops at the next check.
                self.resume(running, PREEMPTED)
        if gil.holder is not thread and thread in gil.waiters:
            self._wait_interval(gil, thread, wait)  # still waiting: another interval

    def _running_on(self, thread: Lane) -> Lane:
        if thread.kind is LaneKind.LOOP and self.loop_current is not None:
            return self.loop_current
        return thread

    def release_gil(self, lane: Lane, reason: str) -> None:
        thread = lane.os_thread
        gil = thread.proc.gil
        if gil is None or gil.holder is not thread:
            return
        gil.holder = None
        if gil.waiters:
            nxt = gil.waiters.popleft()
            self._take_gil(gil, nxt, f"{thread.id} released it: {reason}")
            self.clock.soon(self.wake, self._running_on(nxt), self._running_on(nxt).epoch)
        else:
            gil.switches += 1
            self.emit(GilChanged, process=thread.proc.id, holder=None, reason=reason)

    # --- cores --------------------------------------------------------------------------

    def _ensure_core(self, lane: Lane) -> Actor:
        if self.cores_free > 0 and not self.core_waiters:
            self.cores_free -= 1
            return
        self.core_waiters.append((lane, lane.epoch))
        self.set_state(lane, LaneState.CORE_WAIT, lane.step)
        try:
            yield CORE_WAIT
        finally:
            self.core_waiters = deque(w for w in self.core_waiters if w[0] is not lane)

    def _release_core(self) -> None:
        if self.core_waiters:
            lane, epoch = self.core_waiters.popleft()
            self.clock.soon(self.wake, lane, epoch)  # the core passes straight to it
        else:
            self.cores_free += 1

    # --- running code -------------------------------------------------------------------

    def cpu(self, lane: Lane, duration: int, label: str) -> Actor:
        """Pure-Python work: holds the GIL and a core; a waiting thread preempts it."""
        remaining = duration
        while True:
            yield from self.ensure_gil(lane)
            yield from self._ensure_core(lane)
            self.set_state(lane, LaneState.RUNNING, label)
            started = self.clock.now
            try:
                signal = yield CpuRun(started + remaining)
            finally:
                remaining -= self.clock.now - started
                self._release_core()
            if signal is PREEMPTED and remaining > 0:
                self.release_gil(lane, "the switch interval expired")
                continue
            return

    def native(self, lane: Lane, duration: int, label: str) -> Actor:
        """C code that released the GIL: needs a core, not the GIL."""
        self.release_gil(lane, "native code released it")
        yield from self._ensure_core(lane)
        self.set_state(lane, LaneState.NATIVE, label)
        try:
            yield NativeRun(self.clock.now + duration)
        finally:
            self._release_core()

    def jittered(self, duration: int) -> int:
        jitter = self.machine.jitter
        if not jitter or not duration:
            return duration
        return round(duration * (1 + self.rng.uniform(-jitter, jitter)))
