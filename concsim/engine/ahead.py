"""Running ahead: a stretch of Python code that nothing can interrupt, done at once.

A thread's ``cpu`` step (``Cores.cpu``) yields ``CpuRun(until)``; the driver starts its
timer, and when the timer fires the thread goes on. When no other work is due before that
timer, and the thread holds the GIL with no drop request and a free core, nothing can
happen meanwhile: no other lane runs, no fault lands, no switch interval ends. The step is
then done without the round trip through the clock: its state recorded, the clock moved to
its end, and the thread carries on in the same piece of clock work. The events, their
times and their order are those of the round trip, and so are the random draws: a run
made so is the same run (tests/test_ahead.py compares every bundled scenario's events).

Only a run to its end does this (``Simulation.run``): a caller stepping through time
(``advance``, ``step``) sees each piece of clock work separately, as before.
"""

from __future__ import annotations

from collections.abc import Collection

from concsim.events import Event, LaneState
from concsim.limits import DEFAULT_MAX_EVENTS
from concsim.scenario.model import Scenario

from .clock import NORMAL
from .cores import Cores
from .runtime import Lane

_NEVER = 1 << 62
"""An instant after every run's end: no work is due."""


class RunAhead(Cores):
    """Skips the clock's round trip of a ``cpu`` step that nothing can interrupt."""

    def __init__(
        self, scenario: Scenario, seed: int, keep: Collection[type[Event]] | None = None
    ) -> None:
        super().__init__(scenario, seed, keep)
        self.max_events = DEFAULT_MAX_EVENTS  # the simulation sets its own budget
        # Steps done at once: each would have been a timer on the clock. Counted apart
        # from the clock's own work (``clock.scheduled``), which they never were.
        self.steps_ahead = 0

    def cpu_at_once(self, lane: Lane, duration: int, label: str) -> bool:
        """Do ``cpu(lane, duration, label)`` (cores.py) at once if it would run to its end
        without a pause; False (nothing done) when it must take its turn on the clock.

        The conditions are those under which the round trip has no witness:
        - the lane is the one a timer or a wake-up just resumed (``alone``): that piece of
          clock work is its own, so nothing of another's is left to run after it at the
          earlier time;
        - it is a thread (not a coroutine) holding the GIL, not asked to drop it, and a core
          is free with no thread waiting for one: ``cpu`` would not wait first;
        - no work is due before the step's timer (which would run at ``(until, NORMAL)``,
          after all work already there);
        - the run's budget of events is not spent once the step's state is recorded (the
          driver's loop checks it between pieces of work, ``Simulation._work``).
        """
        gil = lane.proc.gil
        if (
            self.alone is not lane
            or lane.thread is not None
            or (
                gil is not None and (gil.holder is not lane or (gil.drop_requested and gil.waiters))
            )
            or self.cores_free <= 0
            or self.core_waiters
            or self.emitted >= self.max_events
        ):
            return False
        clock = self.clock
        until = clock.now + duration
        if until > self.horizon():
            return False
        # What the round trip does: the core taken and given back (no waiter to hand it to),
        # the state recorded, the timer fired (the lane's epoch bumped by its resume), the
        # clock at the step's end. The timer is never put on the clock: it is not counted
        # as the clock's work (``steps_ahead`` counts it).
        self.set_state(lane, LaneState.RUNNING, label)
        clock.now = until
        lane.epoch += 1
        self.steps_ahead += 1
        return True

    def _retake_now(self) -> None:
        """In a run to its end, the next piece of clock work run at once when it is the
        wake-up of the thread handed the GIL by an in-place preemption (``_retaken``):
        kept as the clock's ``head``, it is due before all other work, and between the two
        pieces the driver's loop (Simulation._work) would only have checked the run's
        budget of events (no actor ran, so the program cannot have ended). A turn of the
        loop less per hand-off; the same work in the same order."""
        clock = self.clock
        head = clock.head
        if head is None or head[0] != self._retaken or self.emitted > self.max_events:
            return
        clock.head = None
        self._retaken(*head[1])

    def horizon(self) -> int:
        """The last instant at which a step run ahead now may end: its timer would run at
        ``(until, NORMAL)``, after all work already there, so it must end before the first
        work due, or at its instant if that is a fault (which runs after normal work).
        While the lane runs alone and schedules nothing, this does not change
        (threads/stretch.py reads it once for a stretch of steps)."""
        clock = self.clock
        if clock.head is not None:
            return clock.now - 1  # work is due now: nothing may run ahead
        keys = clock.keys
        if not keys:
            return _NEVER
        when, priority = keys[0]
        return when if priority > NORMAL else when - 1
