"""The GIL (Python/ceval_gil.c): who holds it, who waits, and the switch interval."""

from __future__ import annotations

from collections.abc import Collection
from typing import TYPE_CHECKING

from concsim.events import (
    Event,
    GilChanged,
    LaneKind,
    LaneState,
)
from concsim.scenario.model import Scenario

from ..rows import row_maker
from ..runtime import PREEMPTED, Actor, Gil, Lane, TimerStage
from ..waits import GIL_WAIT, CpuRun, GilRetake
from .switch_interval import next_drop, timer_for, wait_interval
from .ties import Contested, Decisions

_LOOP = LaneKind.LOOP  # a thread running an event loop: its coroutine is what runs
_gil_row = row_maker(GilChanged)  # made once: the row of every hand-off (_gil_changed)


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
    # at once. So a thread back from I/O beside a CPU-bound thread gets the GIL one
    # interval after it asked, however long the holder has held it. The waiters' timed
    # waits are one timer per GIL, due at the first of them that requests the drop
    # (threads/switch_interval.py).

    def __init__(
        self, scenario: Scenario, seed: int, keep: Collection[type[Event]] | None = None
    ) -> None:
        super().__init__(scenario, seed, keep)
        # How long take_gil's timed wait lasts: the machine's, fixed for the run.
        self._interval = wait_interval(self.machine.switch_interval)

    def ensure_gil(self, lane: Lane) -> Actor:
        thread = lane.thread or lane  # lane.os_thread, without the property's call
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
        self.queue_for_gil(lane)
        try:
            while gil.holder is not thread:
                yield GIL_WAIT
        finally:
            self.leave_gil_queue(lane)

    def queue_for_gil(self, lane: Lane) -> None:
        """``take_gil``'s start (Python/ceval_gil.c): ``lane``'s thread, not holding the
        GIL, begins its timed wait for it."""
        thread = lane.thread or lane
        gil = thread.proc.gil
        assert gil is not None
        gil.waiters.append(thread)
        gil.waiting_since[thread] = (self.clock.now, gil.switches)
        self.set_state(lane, LaneState.GIL_WAIT, lane.step)
        if not gil.timer.running:  # else the drop timer's callback re-arms it when done
            self._arm_drop_timer(gil)

    def leave_gil_queue(self, lane: Lane) -> None:
        """``lane``'s thread stops waiting for the GIL without taking it (a fault): one
        waiter fewer for the drop timer. Nothing if it is not waiting."""
        thread = lane.thread or lane
        gil = thread.proc.gil
        if gil is not None and thread in gil.waiters:
            gil.waiters.remove(thread)
            del gil.waiting_since[thread]
            self._arm_drop_timer(gil)

    def gil_ready(self, lane: Lane) -> bool:
        """Whether ``ensure_gil(lane)`` would return at once and change nothing: the build
        has no GIL, or the lane's thread holds it with no drop request to honour."""
        thread = lane.thread or lane
        gil = thread.proc.gil
        return gil is None or (gil.holder is thread and not (gil.drop_requested and gil.waiters))

    def _take_gil(self, gil: Gil, thread: Lane, reason: str) -> None:
        gil.holder = thread
        self._switched(gil)
        gil.drop_requested = False
        self._gil_changed(thread.proc.id, thread.id, reason)
        timer = gil.timer
        if (gil.waiting_since or timer.at >= 0) and not timer.running:
            self._arm_drop_timer(gil)

    def _gil_changed(self, process: str, holder: str | None, reason: str) -> None:
        """``emit(GilChanged, ...)``, its row made straight away when the run keeps every
        event: one per GIL hand-off, so without ``emit``'s keywords packed and unpacked."""
        if self.keep is not None:
            self.emit(GilChanged, process=process, holder=holder, reason=reason)
            return
        self.emitted += 1
        now = self.clock.now  # Driver._seconds(), inline
        if now != self._stamp_us:
            self._stamp_us = now
            self._stamp = now / 1_000_000
        self._rows.append(_gil_row(self._stamp, process=process, holder=holder, reason=reason))

    def _switched(self, gil: Gil) -> None:
        """``++gil->switch_number``: waiters' timeouts from now on wait again first.
        Invariant: timeouts due at this very instant ran before the switch unless the drop
        timer's callback made it or is still due now (it stands for the first of them)."""
        gil.switches += 1
        now = self.clock.now
        timer = gil.timer
        gil.waits_ended_first = not timer.running and timer.at != now
        gil.switched_at = now

    def _arm_drop_timer(self, gil: Gil) -> None:
        """(Re)arm the GIL's drop timer for the first waiter's timeout that will find no
        switch since its wait began (``switch_interval.next_drop``); none without waiters."""
        timer = gil.timer
        if timer.running:
            return  # the callback re-arms it once it is done
        if not gil.waiting_since:
            if timer.at >= 0:
                timer.number += 1
                timer.at = -1
            return
        now, interval = self.clock.now, self._interval
        after = now + 1 if timer.fired_at == now else now
        at, stage = timer_for(next_drop(gil, interval, after), interval, now)
        if timer.at == at and timer.stage is stage:
            return  # already armed
        if (
            stage is TimerStage.WAIT_AGAIN
            and timer.stage is TimerStage.DROP
            and timer.at == at + interval
        ):
            return  # the same drop request, armed by an earlier wait: it stays first
        timer.number += 1
        timer.at, timer.stage = at, stage
        self.clock.at(at, self._drop_timer_expired, gil, timer.number)

    def _drop_timer_expired(self, gil: Gil, number: int) -> None:
        """The first waiter's ``COND_TIMED_WAIT`` timed out: with the switch number
        unchanged, ``SET_GIL_DROP_REQUEST``; the holder, if mid-way through Python code,
        stops at its next eval-breaker check."""
        timer = gil.timer
        if number != timer.number:
            return  # re-armed since
        timer.at = -1
        if timer.stage is TimerStage.DROP:
            timer.fired_at = self.clock.now
            holder = gil.holder
            if holder is not None and gil.waiters:
                gil.drop_requested = True
                running = holder if holder.kind is not _LOOP else self._running_on(holder)
                if type(running.wait) is CpuRun:
                    # Mid-way through Python code: it stops at the next check.
                    timer.running = True
                    try:
                        in_place = self._preempt(running)
                    finally:
                        timer.running = False
                    self._arm_drop_timer(gil)
                    if in_place and self.ahead:
                        self._retake_now()
                    return
        self._arm_drop_timer(gil)

    def _preempt(self, lane: Lane) -> bool:
        """Stop ``lane``'s Python code at its next eval-breaker check; whether that was
        done in place, without resuming its actor (Cores does so)."""
        self.resume(lane, PREEMPTED)
        return False

    if TYPE_CHECKING:

        def _retaken(self, lane: Lane, epoch: int) -> None: ...

        def _retake_now(self) -> None: ...

    def _running_on(self, thread: Lane) -> Lane:
        if thread.kind is LaneKind.LOOP and self.loop_current is not None:
            return self.loop_current
        return thread

    def release_gil(self, lane: Lane, reason: str) -> None:
        thread = lane.thread or lane  # lane.os_thread, without the property's call
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
                first = self.decide(Contested.GIL, where, thread, gil.waiters)
            nxt = gil.waiters[first]
            del gil.waiters[first]
            del gil.waiting_since[nxt]
            self._take_gil(gil, nxt, f"{thread.id} released it: {reason}")
            woken = nxt if nxt.kind is not _LOOP else self._running_on(nxt)
            if type(woken.wait) is GilRetake:  # parked by _preempt: its code goes on
                self.clock.soon(self._retaken, woken, woken.epoch)
            else:
                self.clock.soon(self.resume, woken, None, None, woken.epoch)  # wake(), a call less
        else:
            self._switched(gil)
            self._gil_changed(thread.proc.id, None, reason)
