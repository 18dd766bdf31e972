"""The driver: the clock, the event log, the lanes, and the loop that runs their actors.

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

from collections.abc import Callable, Collection
from functools import partial
from typing import Any

from concsim.events import (
    Event,
    LaneCreated,
    LaneKind,
    LaneState,
    LaneStateChanged,
)
from concsim.scenario.model import Scenario

from .clock import Scheduler
from .recording import EventLog
from .rows import row_maker
from .runtime import Actor, Gil, Lane, Proc
from .waits import TIMED, IoWait

_TIMED = frozenset(TIMED)  # looked up by the wait's type: no chain of isinstance calls

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


class Driver:
    """Clock, event log and lanes of one run, and the driver that resumes their actors."""

    def __init__(
        self, scenario: Scenario, seed: int, keep: Collection[type[Event]] | None = None
    ) -> None:
        self.scenario = scenario
        self.machine = scenario.machine
        self.program = scenario.program
        self.seed = seed
        self.clock = Scheduler()
        self.events = EventLog()
        self._rows = self.events.rows  # appended to directly: the hot path
        self.emitted = 0  # events emitted so far, kept or not: the next one's ``seq``
        # With ``keep``, only events of those types are built and kept; the others are
        # counted (their ``seq`` numbers stay taken) and dropped: a run that only needs
        # its outcome skips building the history views draw (concsim/explore).
        self.keep = None if keep is None else frozenset(keep)
        self.lanes: dict[str, Lane] = {}
        self.main_proc = Proc("main", Gil() if self.machine.gil else None)
        self.loop_lane: Lane | None = None  # set by the asyncio model
        self.loop_current: Lane | None = None  # the coroutine the event loop is running
        self._counters: dict[str, int] = {}
        self.unnamed_threads = 0  # threading._counter: the last Thread-N given
        self._stamp_us = 0  # the instant of the last event, and its time in seconds:
        self._stamp = 0.0  # the events of one instant share one float (24 B each)
        self._mirrored: dict[tuple[str, str | None], str] = {}  # the loop's label per step
        # A run to its end (``Simulation.run``) lets a lane that a timer or a wake-up
        # resumed run its ``cpu`` steps ahead when nothing can interrupt them (ahead.py):
        # ``ahead`` says the run may, ``alone`` is the lane whose timer or wake-up is the
        # piece of clock work now running.
        self.ahead = False
        self.alone: Lane | None = None

    # --- events -------------------------------------------------------------------------

    def _seconds(self) -> float:
        """The time of an event at this instant, the same float object for all of them."""
        now = self.clock.now
        if now != self._stamp_us:
            self._stamp_us = now
            self._stamp = now / 1_000_000
        return self._stamp

    @property
    def now(self) -> float:
        return self.clock.now / 1_000_000

    def emit(self, cls: type[Event], **fields: Any) -> None:
        seq = self.emitted
        self.emitted = seq + 1
        keep = self.keep
        if keep is None or cls in keep:
            now = self.clock.now  # _seconds(), inline: a call less per event
            if now != self._stamp_us:
                self._stamp_us = now
                self._stamp = now / 1_000_000
            if keep is None:  # a row; its typed event is built when read (rows.py)
                self._rows.append(row_maker(cls)(self._stamp, **fields))
            else:
                self._rows.append(cls(t=self._stamp, seq=seq, **fields))

    def set_state(self, lane: Lane, state: LaneState, step: str | None = None) -> None:
        if lane.in_cleanup and state in _CLEANUP_SHOWN:
            state = LaneState.CLEANUP
            step = f"finally: {step}" if step else "finally"
        if lane.state is state and lane.step == step:
            return
        lane.state = state
        lane.step = step
        seq = self.emitted
        self.emitted = seq + 1
        keep = self.keep
        if keep is None:  # a row; its typed event is built when read (recording.py)
            now = self.clock.now  # _seconds(), inline: a call less per event
            if now != self._stamp_us:
                self._stamp_us = now
                self._stamp = now / 1_000_000
            task = lane.task.name if lane.task is not None else None
            self._rows.append((self._stamp, lane.id, state._value_, task, step))
        elif LaneStateChanged in keep:
            event = _new(LaneStateChanged)
            _init_state_changed(
                event,
                t=self._seconds(),
                seq=seq,
                lane=lane.id,
                state=state,
                task=lane.task.name if lane.task is not None else None,
                step=step,
            )
            self._rows.append(event)
        loop = self.loop_lane
        if (
            loop is not None
            and lane.thread is loop
            and self.loop_current is lane
            and state in _LOOP_MIRRORED
        ):
            self.set_state(loop, state, self._loop_label(lane, step))

    def state_shown(self, lane: Lane, state: LaneState) -> Callable[[str], None]:
        """``shown(step)`` is ``set_state(lane, state, step)`` for a lane that is never in
        cleanup and shows no other lane's state (the event loop's own), at the current
        instant: made once for a run of changes at one instant, it records the row without
        the checks and look-ups ``set_state`` makes for any lane (the loop's lane changes
        at every await of every coroutine)."""
        if self.keep is not None or lane.task is not None or lane.thread is not None:
            return partial(self.set_state, lane, state)
        rows, t, lane_id, value = self._rows, self._seconds(), lane.id, state._value_

        def shown(step: str) -> None:
            lane.state = state
            lane.step = step
            self.emitted += 1
            rows.append((t, lane_id, value, None, step))

        return shown

    def _loop_label(self, lane: Lane, step: str | None) -> str:
        """``co-3: sleep 10ms``: what the loop's lane shows of a coroutine's step, one
        string per (coroutine, step) however often it runs."""
        key = (lane.id, step)
        label = self._mirrored.get(key)
        if label is None:
            label = self._mirrored[key] = f"{lane.id}: {step}" if step else lane.id
        return label

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
        daemon: bool = False,
    ) -> Lane:
        """A lane; a ``daemon`` thread's (``threading.Thread(daemon=True)``, which interpreter
        exit never joins) is named so: ``daemon thread-N``."""
        if lane_id is None:
            number = self._counters.get(prefix, 0) + 1
            self._counters[prefix] = number
            lane_id = f"{prefix}-{number}"
        if daemon:
            name = f"daemon {lane_id}"
        lane = Lane(id=lane_id, kind=kind, proc=proc, thread=thread)
        self.lanes[lane_id] = lane
        self.emit(LaneCreated, lane=lane_id, lane_kind=kind, name=name or lane_id, process=proc.id)
        return lane

    def unnamed_thread(self) -> str:
        """The name ``Thread.__init__`` gives a thread created without one (Lib/threading.py,
        ``_newname``): ``Thread-N``, N the next of ``threading._counter``, one counter for
        every unnamed thread of the program (a plain thread adds `` (function)``)."""
        self.unnamed_threads += 1
        return f"Thread-{self.unnamed_threads}"

    def start(self, lane: Lane, actor: Actor) -> None:
        """Give ``lane`` its behaviour; it first runs at the current instant."""
        lane.gen = actor
        self.clock.soon(self.wake, lane, lane.epoch)

    def resume(
        self,
        lane: Lane,
        value: Any = None,
        exc: BaseException | None = None,
        epoch: int | None = None,
    ) -> None:
        """The driver: run ``lane`` until it yields its next wait, record it as ``lane.wait``
        and start its timer if it is a timed wait of a thread (a coroutine's timers are the
        event loop's, see ``AsyncioModel.await_io``). With ``epoch``, only if the lane still
        waits where it did then (``wake``; a timer calls this directly, a call less)."""
        gen = lane.gen
        if gen is None or lane.ended or (epoch is not None and epoch != lane.epoch):
            return
        lane.epoch += 1
        lane.wait = None
        try:
            wait = gen.send(value) if exc is None else gen.throw(exc)
        except StopIteration as stop:
            lane.gen = None
            if lane.returned is not None:  # an asyncio task's coroutine returned
                lane.returned(lane, stop.value)
            return
        lane.wait = wait
        # A coroutine's I/O timer is the event loop's (AsyncioModel.await_io); a hung wait
        # (``Hung``) and the waits that others end have none.
        kind = type(wait)
        if kind in _TIMED and (kind is not IoWait or lane.thread is None):
            # A Timed wait (its type was just checked): read without a cast() call.
            until: int = wait.until  # type: ignore[union-attr,assignment]
            fire = self._ran_alone if self.ahead else self.resume
            self.clock.at(until, fire, lane, None, None, lane.epoch)

    def start_timer(self, lane: Lane, wait: Any) -> None:
        """What ``resume`` does once the actor yielded ``wait`` (recorded as ``lane.wait``):
        start its timer if it is a timed wait of a thread. For the event loop, which steps
        its coroutines itself (coroutines/loop.py, ``_run_ready``)."""
        kind = type(wait)
        if kind in _TIMED and (kind is not IoWait or lane.thread is None):
            fire = self._ran_alone if self.ahead else self.resume
            self.clock.at(wait.until, fire, lane, None, None, lane.epoch)

    def _ran_alone(
        self, lane: Lane, value: Any, exc: BaseException | None, epoch: int | None
    ) -> None:
        """A timer or a wake-up of ``lane`` in a run to its end: ``resume``, the lane marked
        as the one running alone in this piece of clock work (ahead.py)."""
        if epoch is not None and epoch != lane.epoch:
            return  # stale (a step preempted since): dropped before any bookkeeping
        # Only while the run goes to its end: a timer set then could fire after an
        # exception left run() and the run was stepped on piece by piece.
        self.alone = lane if self.ahead else None
        try:
            self.resume(lane, value, exc, epoch)
        finally:
            self.alone = None

    def wake(self, lane: Lane, epoch: int, value: Any = None) -> None:
        """Resume ``lane`` with ``value`` if it still waits where it did at ``epoch``.
        Only ever called as a piece of clock work of its own (``clock.soon``), so in a run
        to its end the lane runs alone in it (ahead.py)."""
        if self.ahead:
            self._ran_alone(lane, value, None, epoch)
        else:
            self.resume(lane, value, None, epoch)

    def waker(self, lane: Lane) -> Callable[[Any], None]:
        """A callable that wakes ``lane`` from its current wait, at most once, soon."""
        epoch = lane.epoch

        def wake_soon(value: Any = None) -> None:
            self.clock.soon(self.wake, lane, epoch, value)

        return wake_soon
