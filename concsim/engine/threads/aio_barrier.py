"""``asyncio.Barrier`` (Lib/asyncio/locks.py, 3.11: ``Barrier.wait``/``_block``/``_wait``/
``_exit``/``abort``/``reset``) for a barrier that coroutines wait on, beside threading's
(barrier.py), whose states it shares.

``wait`` runs under the barrier's ``asyncio.Condition``: ``_block`` waits while the barrier
drains or resets and raises ``BrokenBarrierError('Barrier aborted')`` if it is broken;
``index = self._count``; the last party trips it (``_release``: draining, ``notify_all``),
the others ``_wait`` with ``cond.wait_for(lambda: self._state is not FILLING)`` and raise
``BrokenBarrierError('Abort or reset of barrier')`` if it broke or was reset meanwhile;
``finally: self._count -= 1; self._exit()``. asyncio's barrier has no timeout and no action:
a timeout is ``asyncio.wait_for`` (or ``asyncio.timeout``) around ``wait()``, which cancels
it, and a cancelled wait only leaves (``_count`` goes down): the barrier does not break,
unlike a threading wait that times out. ``reset`` puts a barrier that has waiters into the
resetting state from any other state, draining included (threading's leaves a draining one
be). The exception is asyncio's own class, ``asyncio.exceptions.BrokenBarrierError``, not
threading's.

The condition's lock is not modelled: a coroutine holds it only between two awaits (``wait``
releases it in ``cond.wait``, ``abort``/``reset`` never await inside it), and one coroutine
runs at a time, so whoever acquires it finds it free and takes it without suspending
(``Lock.acquire``'s fast path). The predicate is checked again when a woken waiter runs,
not when it is notified, as ``Condition.wait_for`` does."""

from __future__ import annotations

from concsim.events import BarrierPassed

from ..runtime import Actor, Lane, SimError, TaskRun
from ..waits import PrimitiveWait
from .barrier import BROKEN_BARRIER, Barriers, BarrierState, SimBarrier
from .deadline import Deadline, Expired
from .event import waiting

ABORTED = "Barrier aborted"
"""``_block``: the barrier was broken when ``wait`` was called."""
ABORT_OR_RESET = "Abort or reset of barrier"
"""``_wait``: the barrier broke, or was reset, while the coroutine waited in it."""


class AsyncioBarriers(Barriers):
    """The program's barriers, asyncio's where a coroutine uses them."""

    def _in_asyncio(self, lane: Lane) -> bool:
        return self.aio is not None and self.aio.is_coroutine(lane)

    def barrier_step(
        self, lane: Lane, run: TaskRun | None, name: str, timeout: int | None, label: str
    ) -> Actor:
        """A ``wait`` step on a barrier: True once passed; in a coroutine, False when
        ``asyncio.wait_for(barrier.wait(), timeout)`` raised TimeoutError."""
        if not self._in_asyncio(lane):
            yield from self.barrier_wait(lane, run, name, timeout, label)
            return True
        deadline = Deadline(self.world, lane, timeout, f"barrier {name}")
        try:
            yield from self.aio_barrier_wait(lane, run, self.barriers[name], label)
        except Expired:
            return False
        finally:
            deadline.close()
        return True

    def aio_barrier_wait(
        self, lane: Lane, run: TaskRun | None, barrier: SimBarrier, label: str
    ) -> Actor:
        """``await barrier.wait()``: the arrival index, or BrokenBarrierError; a cancel at
        one of its awaits leaves the barrier as it was, one party fewer."""
        while barrier.state in (BarrierState.DRAINING, BarrierState.RESETTING):  # _block
            yield from self._aio_cond_wait(lane, barrier, waiting(label, barrier.name, "draining"))
        if barrier.state is BarrierState.BROKEN:
            self.raise_in(lane, run, BROKEN_BARRIER, ABORTED, label)
        index = barrier.count
        barrier.count += 1
        try:
            if index + 1 == barrier.parties:  # _release
                barrier.state = BarrierState.DRAINING
                self._notify_all(barrier)
            else:  # _wait
                self._show_arrivals(barrier, label)
                while barrier.state is BarrierState.FILLING:
                    shown = self._arrivals(barrier, label)
                    yield from self._aio_cond_wait(lane, barrier, shown)
                if barrier.state in (BarrierState.BROKEN, BarrierState.RESETTING):
                    self.raise_in(lane, run, BROKEN_BARRIER, ABORT_OR_RESET, label)
            self.world.emit(BarrierPassed, lane=lane.id, barrier=barrier.name, index=index)
            return index
        finally:
            barrier.count -= 1  # _exit
            if barrier.count == 0:
                if barrier.state in (BarrierState.DRAINING, BarrierState.RESETTING):
                    barrier.state = BarrierState.FILLING
                self._notify_all(barrier)

    def _aio_cond_wait(self, lane: Lane, barrier: SimBarrier, label: str) -> Actor:
        """``await self._cond.wait()``: parked until a ``notify_all`` (or a cancel, raised
        here with the lock taken back at once: it is free). From 3.13 (gh-112202) a wait
        that raises first calls ``self._notify(1)``: the next coroutine still parked wakes
        for nothing, finds its predicate false and parks again, behind the others -- so a
        cancel in a filling barrier changes the order in which the parties pass it."""
        register = self._register(barrier.waiters, lane)
        try:
            yield from self.block(lane, label, register, PrimitiveWait(barrier.name))
        except SimError:
            if self.world.machine.python.at_least >= (3, 13) and barrier.waiters:
                _, wake = barrier.waiters.popleft()
                wake(True)
            raise

    def barrier_reset(self, lane: Lane, name: str) -> None:
        """``Barrier.reset``; asyncio's: ``if self._count > 0: if self._state is not
        RESETTING: self._state = RESETTING`` (a draining barrier too), else filling."""
        if not self._in_asyncio(lane):
            super().barrier_reset(lane, name)
            return
        barrier = self.barriers[name]
        if barrier.count > 0:
            if barrier.state is not BarrierState.RESETTING:
                barrier.state = BarrierState.RESETTING
                self._broke(lane, barrier, "reset it")
        else:
            barrier.state = BarrierState.FILLING
        self._notify_all(barrier)
