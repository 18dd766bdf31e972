"""``threading.Lock`` (Modules/_threadmodule.c, lock_PyThread_acquire_lock): acquire,
release that hands the lock to the first waiter, and deadlock detection."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from concsim.events import (
    DeadlockDetected,
    LockAcquired,
    LockReleased,
    LockWaited,
)

from ..code import Code
from ..runtime import Actor, Lane
from ..waits import Hung, LockWait, Wait
from ..world import World
from .ties import Contested


@dataclass(eq=False)
class SimLock:
    name: str
    holder: Lane | None = None
    waiters: deque[tuple[Lane, Callable[[Any], None]]] = field(default_factory=deque)


class Locks(Code):
    """The program's locks, by name."""

    def __init__(self, world: World) -> None:
        super().__init__(world)
        self.locks: dict[str, SimLock] = {}

    # --- locks --------------------------------------------------------------------------

    def acquire(self, lane: Lane, name: str, label: str) -> Actor:
        world = self.world
        yield from world.ensure_gil(lane)
        lock = self.locks.setdefault(name, SimLock(name))
        if lock.holder is None:
            lock.holder = lane
            world.emit(LockAcquired, lane=lane.id, lock=name)
            return
        world.emit(LockWaited, lane=lane.id, lock=name, holder=lock.holder.id)
        wait = LockWait(name)
        self._detect_deadlock(lane, wait)
        yield from self.block(lane, label, self._register(lock.waiters, lane), wait)
        # release() handed the lock straight to this lane
        yield from world.ensure_gil(lane)

    def release(self, lane: Lane, name: str) -> None:
        world = self.world
        lock = self.locks.get(name)
        if lock is None or lock.holder is None:
            self.raise_in(lane, lane.task, "RuntimeError", "release unlocked lock", None)
            return
        world.emit(LockReleased, lane=lane.id, lock=name)
        if lock.waiters:
            # Which waiter proceeds "is not defined" for threading.Lock (threads/ties.py);
            # asyncio.Lock wakes its first waiter, so a coroutine's turn is never open.
            first = 0
            waiting = [waiter for waiter, _ in lock.waiters]
            if len(waiting) > 1 and all(waiter.thread is None for waiter in waiting):
                first = world.decide(Contested.LOCK, name, lane, waiting)
            waiter, wake = lock.waiters[first]
            del lock.waiters[first]
            lock.holder = waiter
            world.emit(LockAcquired, lane=waiter.id, lock=name)
            wake(None)
        else:
            lock.holder = None

    def _detect_deadlock(self, start: Lane, wait: Wait | None) -> None:
        """Follow lock -> holder -> the lock it waits for, back to ``start``?"""
        cycle: list[str] = [start.id]
        seen: set[str] = set()
        while isinstance(wait, LockWait):
            lock = self.locks[wait.lock]
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
