"""The GIL (Python/ceval_gil.c): who holds it, who waits, and the switch interval."""

from __future__ import annotations

from concsim.events import (
    GilChanged,
    LaneKind,
    LaneState,
)

from ..runtime import PREEMPTED, Actor, Gil, Lane
from ..waits import GIL_WAIT, CpuRun
from .ties import Contested, Decisions


def wait_interval(switch_interval: int) -> int:
    """How long a waiter's timed wait lasts, in microseconds: the switch interval, but at
    least 1 (take_gil: ``interval = (gil->interval >= 1 ? gil->interval : 1)``), so that
    an interval below a microsecond (stored as 0) still lets the holder run."""
    return max(1, switch_interval)


class GilModel(Decisions):
    """Each process's GIL: taken, waited for with a timeout of one switch interval, dropped
    on request, released around I/O and native code."""

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

    def gil_ready(self, lane: Lane) -> bool:
        """Whether ``ensure_gil(lane)`` would return at once and change nothing: the build
        has no GIL, or the lane's thread holds it with no drop request to honour."""
        thread = lane.thread or lane
        gil = thread.proc.gil
        return gil is None or (gil.holder is thread and not (gil.drop_requested and gil.waiters))

    def _take_gil(self, gil: Gil, thread: Lane, reason: str) -> None:
        gil.holder = thread
        gil.switches += 1
        gil.drop_requested = False
        self.emit(GilChanged, process=thread.proc.id, holder=thread.id, reason=reason)

    def _wait_interval(self, gil: Gil, thread: Lane, wait: int) -> None:
        """One ``COND_TIMED_WAIT(gil->cond, ..., interval)`` of a waiting thread."""
        self.clock.at(
            self.clock.now + wait_interval(self.machine.switch_interval),
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
            # drop_gil signals the condition once; the OS wakes one waiter, in no promised
            # order (threads/ties.py): the first by default, else the seed or a choice.
            first = 0
            if len(gil.waiters) > 1:
                where = "GIL" if thread.proc.id == "main" else f"GIL of {thread.proc.id}"
                first = self.decide(Contested.GIL, where, thread, list(gil.waiters))
            nxt = gil.waiters[first]
            del gil.waiters[first]
            self._take_gil(gil, nxt, f"{thread.id} released it: {reason}")
            self.clock.soon(self.wake, self._running_on(nxt), self._running_on(nxt).epoch)
        else:
            gil.switches += 1
            self.emit(GilChanged, process=thread.proc.id, holder=None, reason=reason)
