"""The event loop's I/O timers, batched: consecutive timers for one instant share one
clock callback (a speed device, not part of the model)."""

from __future__ import annotations

from collections.abc import Callable

from ..clock import Scheduler
from ..runtime import Lane
from ..waits import IoWait, new_io_wait

Done = Callable[[list[Lane], list[int]], None]
"""Called with a batch's coroutines and the epoch each had when its timer was set."""


class TimerBatch:
    """A timer per coroutine's I/O wait (``done([co], [co.epoch])`` at ``until``),
    scheduled as one clock callback, ``done(lanes, epochs)``, for a run of such timers.

    Invariant: a timer joins the pending batch only if that batch is due at the same
    instant and nothing else has been scheduled on the clock since the batch's last
    timer. Its own callback would then have come right after that timer's in the FIFO of
    its instant (clock.py: work at one key runs in the order it was scheduled), so running
    the batch's timers one after another is the same order, and a thousand coroutines
    whose sleeps end together cost one callback instead of a thousand. The waits of one
    batch end at one instant, so they share one ``IoWait`` (an immutable value).

    A batch keeps its coroutines and their epochs in two lists rather than a pair per
    timer: a pair holding a lane is an object the garbage collector tracks, one per sleep
    alive until its instant, and enough of those promoted to the oldest generation make the
    collector walk the whole heap."""

    __slots__ = ("_at", "_clock", "_done", "_epochs", "_lanes", "_mark", "_wait")

    def __init__(self, clock: Scheduler, done: Done) -> None:
        self._clock = clock
        self._done = done  # EventLoop._io_done
        self._lanes: list[Lane] = []  # the pending batch, if ``_at`` >= 0
        self._epochs: list[int] = []
        self._at = -1  # when it is due; -1: no batch pending (no time is negative)
        self._mark = -1  # clock.scheduled just after its last timer joined it
        self._wait = IoWait(-1)  # the wait of the batch's coroutines: IoWait(_at)

    def add(self, until: int, co: Lane) -> IoWait:
        """A timer that wakes ``co`` at ``until``; returns the wait it ends, to yield."""
        clock = self._clock
        if until == self._at and clock.scheduled == self._mark:
            self._lanes.append(co)
            self._epochs.append(co.epoch)
            return self._wait
        lanes, epochs = self._lanes, self._epochs = [co], [co.epoch]
        self._at = until
        self._wait = new_io_wait((until,))
        clock.at(until, self._run, lanes, epochs)
        self._mark = clock.scheduled
        return self._wait

    def _run(self, lanes: list[Lane], epochs: list[int]) -> None:
        if lanes is self._lanes:
            self._at = -1  # due now: later timers start a batch of their own
            self._lanes, self._epochs = [], []  # and it is not kept alive here once done
        self._done(lanes, epochs)
