"""The machine's CPU cores, shared by the OS in time slices, and code running on them:
Python code (holding the GIL) and native code (without it), with the machine's timing
jitter."""

from __future__ import annotations

from collections import deque
from collections.abc import Collection

from concsim.events import Event, LaneKind, LaneState
from concsim.scenario.model import Scenario

from .runtime import DESCHEDULED, PREEMPTED, Actor, Lane
from .threads.gil import GilModel
from .threads.ties import Chance
from .waits import CORE_WAIT, CpuRun, GilRetake, NativeRun, new_cpu_run, new_gil_retake

OS_TIMESLICE = 3_000
"""Microseconds a thread runs on a core before the OS gives the core to a thread waiting
for one. Linux (EEVDF since 6.6, CFS before) shares the cores among all runnable threads
in slices of a few milliseconds, so four CPU-bound processes on two cores all progress at
half speed and end together, rather than two running to the end first (measured:
benchmarks/cpython_facts/cores_shared.py)."""


_LOOP = LaneKind.LOOP


class Cores(GilModel):
    """A fixed number of cores: a lane runs code only on a free one, else it waits in turn."""

    def __init__(
        self, scenario: Scenario, seed: int, keep: Collection[type[Event]] | None = None
    ) -> None:
        super().__init__(scenario, seed, keep)
        self.rng = Chance(seed)
        self.cores_free = self.machine.cores
        self.core_waiters: deque[tuple[Lane, int]] = deque()
        self.on_core: dict[Lane, int] = {}  # lanes running on a core, and since when
        self._slicing = False  # a time-slice timer is pending

    # --- cores --------------------------------------------------------------------------

    def _ensure_core(self, lane: Lane) -> Actor:
        if self.cores_free > 0 and not self.core_waiters:
            self.cores_free -= 1
            self.on_core[lane] = self.clock.now
            return
        self.core_waiters.append((lane, lane.epoch))
        self.set_state(lane, LaneState.CORE_WAIT, lane.step)
        self._start_slicing()
        try:
            yield CORE_WAIT
        finally:
            self.core_waiters = deque(w for w in self.core_waiters if w[0] is not lane)
        self.on_core[lane] = self.clock.now

    def _release_core(self, lane: Lane) -> None:
        self.on_core.pop(lane, None)
        if self.core_waiters:
            waiter, epoch = self.core_waiters.popleft()
            self.clock.soon(self.wake, waiter, epoch)  # the core passes straight to it
        else:
            self.cores_free += 1

    # --- time slices --------------------------------------------------------------------
    #
    # The OS scheduler's tick runs only while some thread waits for a core: one timer at a
    # time (``_slicing``), due when the lane that has been on its core longest has run a
    # whole slice. That lane is descheduled (``DESCHEDULED`` sent to its ``CpuRun`` or
    # ``NativeRun``): it keeps the GIL if it holds it, and queues for a core again behind
    # the others. With no thread waiting, the timer lapses and code runs uninterrupted.

    def _start_slicing(self) -> None:
        if not self._slicing:
            self._slicing = True
            self.clock.at(self.clock.now + OS_TIMESLICE, self._slice_expired)

    def _slice_expired(self) -> None:
        """The OS scheduler's tick: while threads wait for a core, the one that has run
        longest on its core is descheduled (it keeps the GIL if it holds it) and queues
        for a core again behind the others."""
        self._slicing = False
        if not self.core_waiters or not self.on_core:
            return
        lane, since = min(self.on_core.items(), key=lambda item: item[1])
        self._slicing = True
        if self.clock.now - since < OS_TIMESLICE:
            self.clock.at(since + OS_TIMESLICE, self._slice_expired)
            return
        self.clock.at(self.clock.now + OS_TIMESLICE, self._slice_expired)
        self.resume(lane, DESCHEDULED)

    # --- running code -------------------------------------------------------------------

    def cpu(self, lane: Lane, duration: int, label: str) -> Actor:
        """Pure-Python work: holds the GIL and a core; a waiting thread preempts it, and
        the OS shares the cores in time slices when more threads want one."""
        remaining = duration
        # The common case first, without a generator: the GIL held, a core free.
        ready = self.gil_ready(lane)
        while True:
            if not ready:
                yield from self.ensure_gil(lane)
            if self.cores_free > 0 and not self.core_waiters:
                self.cores_free -= 1
                self.on_core[lane] = self.clock.now
            else:
                yield from self._ensure_core(lane)
            self.set_state(lane, LaneState.RUNNING, label)
            lane.run_until = until = self.clock.now + remaining
            try:
                signal = yield new_cpu_run((until,))  # CpuRun(until)
            finally:
                self._left_cpu(lane)
            if type(signal) is GilRetake:
                # Preempted and handed the GIL back with no core free (_retaken): the rest
                # of the code waits for a core here, as after ensure_gil.
                remaining = signal.remaining
                ready = True
                continue
            remaining = lane.run_until - self.clock.now
            if signal is PREEMPTED and remaining > 0:
                # drop_gil, then take_gil again: a waiter was there to ask for the drop.
                self.release_gil(lane, "the switch interval expired")
                ready = False
                continue
            if signal is DESCHEDULED and remaining > 0:
                ready = self.gil_ready(lane)  # off its core, still holding the GIL
                continue
            return

    def _left_cpu(self, lane: Lane) -> None:
        """``cpu``'s code stopped at its ``CpuRun`` (ended, preempted, descheduled, or an
        exception thrown at it): its core given back; or, parked by ``_preempt`` in the
        GIL's queue, its place there given up (ensure_gil's ``finally``)."""
        if lane in self.on_core:
            self._release_core(lane)
        else:
            self.leave_gil_queue(lane)

    # --- a drop request, honoured without resuming the thread ---------------------------
    #
    # A thread preempted mid-way through Python code (``CpuRun``) does what ``cpu`` does
    # on ``PREEMPTED``: gives back its core, drops the GIL (drop_gil), and waits for it
    # again (take_gil) with the rest of its code to run. Its frame does nothing between
    # (no code of the simulated program runs), so the GIL model does it in place: the
    # thread's actor stays suspended at its ``CpuRun``, its wait becomes ``GilRetake``,
    # and when the GIL comes back ``_retaken`` takes a core and starts the rest of the
    # code. A hand-off then resumes no actor: per switch interval, the drop timer's work
    # and the new holder's, without two trips through the actors' frames. The events,
    # their order and the clock's work are those of the trip through ``cpu``.

    def _preempt(self, lane: Lane) -> bool:
        """``resume(lane, PREEMPTED)`` for a thread in ``CpuRun``: drop_gil, then take_gil
        (Python/ceval_gil.c), in place when the code has time left (see above)."""
        wait = lane.wait
        assert type(wait) is CpuRun  # the drop timer's callback checked it
        remaining = wait.until - self.clock.now
        if remaining <= 0 or lane.thread is not None or lane.kind is _LOOP or lane.in_cleanup:
            self.resume(lane, PREEMPTED)  # its code ends now: it carries on in its frame
            return False
        lane.epoch += 1  # what resume does: the step's timer is stale from now
        lane.wait = None
        self._release_core(lane)
        self.release_gil(lane, "the switch interval expired")
        self.queue_for_gil(lane)  # ensure_gil: another holds it now, so it waits
        # Not in cleanup, so its step is the label its code shows (set_state).
        lane.wait = new_gil_retake((remaining, lane.step or ""))  # GilRetake(remaining, ...)
        return True

    def _retaken(self, lane: Lane, epoch: int) -> None:
        """The GIL handed back to a thread ``_preempt`` parked (``release_gil``'s wake-up):
        its code goes on, on a free core, as ``cpu`` would after ``ensure_gil``."""
        if lane.gen is None or lane.ended or epoch != lane.epoch:
            return
        wait = lane.wait
        assert type(wait) is GilRetake
        gil = lane.proc.gil
        assert gil is not None
        if gil.holder is not lane:  # ensure_gil's loop: it waits on (never seen so far)
            lane.epoch += 1
            return
        if not self.cores_free > 0 or self.core_waiters:
            self.resume(lane, wait, None, epoch)  # cpu waits for a core in its frame
            return
        lane.epoch += 1
        lane.wait = None
        self.cores_free -= 1
        self.on_core[lane] = now = self.clock.now
        self.set_state(lane, LaneState.RUNNING, wait.label)
        lane.run_until = until = now + wait.remaining
        lane.wait = new_cpu_run((until,))
        # start_timer(lane, CpuRun(until)), inline: once per hand-off
        self.clock.at(
            until, self._ran_alone if self.ahead else self.resume, lane, None, None, lane.epoch
        )

    def native(self, lane: Lane, duration: int, label: str) -> Actor:
        """C code that released the GIL: needs a core, not the GIL; the OS may deschedule
        it for a slice like any thread."""
        self.release_gil(lane, "native code released it")
        remaining = duration
        while True:
            yield from self._ensure_core(lane)
            self.set_state(lane, LaneState.NATIVE, label)
            started = self.clock.now
            try:
                signal = yield NativeRun(started + remaining)
            finally:
                remaining -= self.clock.now - started
                self._release_core(lane)
            if signal is DESCHEDULED and remaining > 0:
                continue
            return

    def jittered(self, duration: int) -> int:
        """An I/O wait's duration, varied by ``machine.jitter``."""
        jitter = self.machine.jitter
        return self._varied(duration, jitter) if jitter and duration else duration

    def cpu_varied(self, duration: int) -> int:
        """A CPU step's duration, varied by ``machine.cpu_jitter`` (``_varied``, inline: it
        runs for every stretch of Python code)."""
        jitter = self.machine.cpu_jitter
        if jitter and duration:
            return round(duration * (1 + self.rng.uniform(-jitter, jitter)))
        return duration

    def _varied(self, duration: int, jitter: float) -> int:
        if not jitter or not duration:
            return duration
        return round(duration * (1 + self.rng.uniform(-jitter, jitter)))
