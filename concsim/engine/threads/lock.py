"""``threading.Lock`` and ``threading.RLock`` (Modules/_threadmodule.c,
lock_PyThread_acquire_lock, rlock_acquire, rlock_release): acquire, with a timeout or not
blocking at all, release that frees the lock and wakes one waiter, and deadlock detection.

A thread's lock is a POSIX semaphore (Python/thread_pthread.h, USE_SEMAPHORES):
``release()`` is ``sem_post``, which frees the lock at once and wakes one sleeping waiter;
the woken thread takes the semaphore in ``sem_wait`` -- without the GIL -- only when the OS
runs it. Until then the lock is free, and the releasing thread, which still holds the GIL,
takes it again if it acquires it first (``acquire_timed`` tries
``sem_trywait`` before it releases the GIL): the woken waiter then finds it taken and
sleeps again (benchmarks/cpython_facts/lock_barging.py). asyncio.Lock hands it to its first
waiter."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from concsim.events import (
    DeadlockDetected,
    LockAcquired,
    LockGaveUp,
    LockReleased,
    LockTimedWait,
    LockWaited,
)

from ..code import Code
from ..runtime import Actor, Cancelled, Lane
from ..waits import Hung, LockWait, Wait
from ..world import World
from .deadline import Expired
from .ties import Contested
from .timeouts import GAVE_UP, register_until

WAKE_UP = 0
"""Microseconds from ``sem_post`` to the woken waiter running ``sem_wait`` again. Measured:
tens of microseconds when a core is free, milliseconds on a busy machine. concsim charges
nothing for it, as for a GIL hand-off: the woken waiter runs after everything else due at
that instant, so a releaser that acquires again at the same instant takes the lock first."""


@dataclass(eq=False)
class SimLock:
    name: str
    reentrant: bool = False  # an RLock: its owner may take it again
    count: int = 0  # an RLock's recursion level (rlock_acquire's ``rlock_count``)
    holder: Lane | None = None
    waiters: deque[tuple[Lane, Callable[[Any], None]]] = field(default_factory=deque)
    waking: set[Lane] = field(default_factory=set)
    """Waiting threads a release has woken, not yet run: each finds the lock free or not."""


class Locks(Code):
    """The program's locks, by name."""

    def __init__(self, world: World) -> None:
        super().__init__(world)
        self.locks: dict[str, SimLock] = {
            name: SimLock(name, spec.reentrant) for name, spec in world.scenario.locks.items()
        }

    # --- locks --------------------------------------------------------------------------

    def acquire(
        self,
        lane: Lane,
        name: str,
        label: str,
        timeout: int | None = None,
        blocking: bool = True,
        shown: bool = False,
    ) -> Actor:
        """``lock.acquire(blocking, timeout)``: True once taken, False if it gave up.
        ``shown``: the blocked lane's label names the holder (version-2 steps)."""
        world = self.world
        yield from world.ensure_gil(lane)
        lock = self.locks.setdefault(name, SimLock(name))
        if lock.holder is None:
            lock.holder, lock.count = lane, 1
            world.emit(LockAcquired, lane=lane.id, lock=name)
            return True
        if lock.reentrant and lock.holder is lane:
            lock.count += 1  # rlock_acquire: the owner takes it again at once
            world.emit(LockAcquired, lane=lane.id, lock=name)
            return True
        if not blocking:
            world.emit(LockGaveUp, lane=lane.id, lock=name)
            return False
        if shown:
            label = f"{label} (held by {lock.holder.id})"
        if timeout is None:
            world.emit(LockWaited, lane=lane.id, lock=name, holder=lock.holder.id)
            wait = LockWait(name)
            self._detect_deadlock(lane, wait)
            register = self._register(lock.waiters, lane)
        else:
            world.emit(
                LockTimedWait,
                lane=lane.id,
                lock=name,
                holder=lock.holder.id,
                timeout=timeout / 1_000_000,
            )
            wait = LockWait(name, world.clock.now + timeout)
            assert wait.until is not None
            register = register_until(world, lock.waiters, lane, wait.until)
        try:
            got = yield from self.block(lane, label, register, wait)
        except (Cancelled, Expired):
            if lock.holder is lane:
                # asyncio.Lock.acquire: handed the lock but cancelled before it ran, it
                # gives it on (``except CancelledError: if not self._locked:
                # self._wake_up_first()``)
                world.emit(LockReleased, lane=lane.id, lock=name)
                self._hand_over(lane, lock)
            raise
        # the lane took the lock once woken (or was handed it, a coroutine), or gave up
        yield from world.ensure_gil(lane)
        if got is GAVE_UP:
            world.emit(LockGaveUp, lane=lane.id, lock=name, timeout=(timeout or 0) / 1_000_000)
            return False
        return True

    def release(self, lane: Lane, name: str) -> None:
        world = self.world
        lock = self.locks.get(name)
        if lock is not None and lock.reentrant:
            if lock.holder is not lane:  # rlock_release: only the owner may release
                self.raise_in(
                    lane, lane.task, "RuntimeError", "cannot release un-acquired lock", None
                )
                return
            lock.count -= 1
            world.emit(LockReleased, lane=lane.id, lock=name)
            if lock.count:
                return  # still held: released as often as acquired frees it
            self._hand_over(lane, lock)
            return
        if lock is None or lock.holder is None:
            self.raise_in(lane, lane.task, "RuntimeError", "release unlocked lock", None)
            return
        world.emit(LockReleased, lane=lane.id, lock=name)
        self._hand_over(lane, lock)

    def _hand_over(self, lane: Lane, lock: SimLock) -> None:
        lock.holder = None
        if not lock.waiters:
            return
        if any(waiter.thread is not None for waiter, _ in lock.waiters):
            # asyncio.Lock wakes its first waiter, so a coroutine's turn is never open.
            waiter, wake = lock.waiters.popleft()
            lock.holder, lock.count = waiter, 1
            self.world.emit(LockAcquired, lane=waiter.id, lock=lock.name)
            wake(None)
            return
        self._wake_one(lane, lock)

    def _wake_one(self, lane: Lane | None, lock: SimLock) -> None:
        """``sem_post``: wake one sleeping waiter. Which one is "not defined" for
        threading.Lock (threads/ties.py): the first by default, else the seed or a choice."""
        world = self.world
        asleep = [waiter for waiter, _ in lock.waiters if waiter not in lock.waking]
        if not asleep:
            return
        first = 0
        if len(asleep) > 1:
            first = world.decide(Contested.LOCK, lock.name, lane, asleep)
        woken = asleep[first]
        lock.waking.add(woken)
        world.clock.at(world.clock.now + WAKE_UP, self._woken, lock, woken)

    def _woken(self, lock: SimLock, lane: Lane) -> None:
        """The woken thread runs ``sem_wait`` again: it takes the lock if it is still free
        (and then waits for the GIL like any thread back from a blocking call); else another
        thread took it first and it sleeps again, still a waiter."""
        lock.waking.discard(lane)
        entry = next((entry for entry in lock.waiters if entry[0] is lane), None)
        if entry is None:
            # It stopped waiting meanwhile (gave up, or a fault): the wake-up goes unused,
            # but the lock stays free for whoever comes, so another sleeper is woken.
            if lock.holder is None:
                self._wake_one(None, lock)
            return
        if lock.holder is not None:
            return
        lock.waiters.remove(entry)
        lock.holder, lock.count = lane, 1
        self.world.emit(LockAcquired, lane=lane.id, lock=lock.name)
        entry[1](None)

    def _detect_deadlock(self, start: Lane, wait: Wait | None) -> None:
        """Follow lock -> holder -> the lock it waits for, back to ``start``?"""
        cycle: list[str] = [start.id]
        seen: set[str] = set()
        while isinstance(wait, LockWait):
            lock = self.locks.get(wait.lock)
            if lock is None or wait.until is not None:
                return  # a semaphore (no owner), or a waiter that will give up
            holder = lock.holder
            cycle += [lock.name]
            if holder is None or holder.id in seen:
                return
            cycle.append(holder.id)
            if holder is start:
                self.world.emit(DeadlockDetected, cycle=tuple(cycle))
                return
            seen.add(holder.id)
            wait = holder.wait  # not running now, so exactly where it is parked
            if isinstance(wait, Hung):
                wait = wait.of
