"""``threading.Semaphore`` and ``BoundedSemaphore`` (Lib/threading.py), and asyncio's
(Lib/asyncio/locks.py): a counter of free places, taken by ``acquire`` and given back by
``release``, which anyone may call.

Who gets a place that ``release`` frees:

- A thread: what Lib/threading.py does. ``release`` adds one to the value and
  ``self._cond.notify()`` wakes the *first* waiter of the Condition (FIFO), which takes
  the place only once it has the GIL (and the Condition's lock) again and finds the value
  above zero. The thread that released still holds the GIL, so if it acquires again at once
  it takes the place back (measured: a loop of ``with sem: spin(10ms)`` in one thread keeps
  a second thread out until the loop ends), and the woken one waits again, at the end of
  the line (``Condition.wait`` appends its waiter). Which woken thread gets the GIL first
  is the GIL's decision (threads/ties.py). A timed waiter keeps its deadline (``endtime``)
  through these rounds.
- A coroutine: asyncio's ``release`` hands the place to the first waiter
  (``_wake_up_next`` takes one off the value and sets its future), and ``acquire`` queues
  behind any waiter (``locked()`` is true while one waits): first come, first served.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from concsim.events import (
    LockAcquired,
    LockGaveUp,
    LockKind,
    LockReleased,
    LockTimedWait,
    LockWaited,
)

from ..code import Code
from ..runtime import Actor, Cancelled, Lane
from ..waits import LockWait
from ..world import World
from .deadline import Expired
from .timeouts import GAVE_UP, Register, register_until

SEMAPHORE = LockKind.SEMAPHORE


class _Woken:
    """What ``release`` gives a waiting thread: ``notify()``, a turn to look again."""


NOTIFIED = _Woken()
HANDED = "handed"


@dataclass(eq=False)
class SimSemaphore:
    name: str
    initial: int
    bounded: bool
    value: int
    holders: list[Lane] = field(default_factory=list)  # who took a place (for the lanes)
    waiters: deque[tuple[Lane, Callable[[Any], None]]] = field(default_factory=deque)

    def taken(self) -> str:
        """``2 of 3 taken``, as a blocked lane shows it."""
        if self.initial:
            return f"{min(len(self.holders), self.initial)} of {self.initial} taken"
        return f"value {self.value}"


class Semaphores(Code):
    """The program's semaphores, as the scenario declares them."""

    def __init__(self, world: World) -> None:
        super().__init__(world)
        self.semaphores = {
            name: SimSemaphore(name, spec.value, spec.bounded, spec.value)
            for name, spec in world.scenario.semaphores.items()
        }

    def sem_acquire(
        self, lane: Lane, name: str, label: str, timeout: int | None = None, blocking: bool = True
    ) -> Actor:
        """``Semaphore.acquire(blocking, timeout)`` (``await sem.acquire()``): True once a
        place is taken, False if it gave up."""
        world = self.world
        yield from world.ensure_gil(lane)
        sem = self.semaphores[name]
        coroutine = self.aio is not None and self.aio.is_coroutine(lane)
        until = None if timeout is None else world.clock.now + timeout
        while True:
            if sem.value > 0 and not (coroutine and sem.waiters):
                sem.value -= 1
                sem.holders.append(lane)
                world.emit(LockAcquired, lane=lane.id, lock=name, kind=SEMAPHORE)
                return True
            if not blocking:
                world.emit(LockGaveUp, lane=lane.id, lock=name, kind=SEMAPHORE)
                return False
            if until is not None and world.clock.now >= until:
                got: Any = GAVE_UP  # woken, beaten to the place, and out of time
            else:
                holders = ", ".join(holder.id for holder in sem.holders) or "nobody"
                said = {"lane": lane.id, "lock": name, "holder": holders, "taken": sem.taken()}
                if until is None:
                    world.emit(LockWaited, kind=SEMAPHORE, **said)
                else:
                    left = (until - world.clock.now) / 1_000_000
                    world.emit(LockTimedWait, kind=SEMAPHORE, timeout=left, **said)
                register = (
                    self._register(sem.waiters, lane)
                    if until is None
                    else register_until(world, sem.waiters, lane, until)
                )
                handed: list[bool] = []
                try:
                    got = yield from self.block(
                        lane,
                        f"{label} ({sem.taken()})",
                        _noting(register, handed),
                        LockWait(name, until),
                    )
                except (Cancelled, Expired):
                    if handed:
                        self._pass_on(lane, sem)
                    raise
                yield from world.ensure_gil(lane)
            if got is GAVE_UP:
                seconds = (timeout or 0) / 1_000_000
                world.emit(LockGaveUp, lane=lane.id, lock=name, timeout=seconds, kind=SEMAPHORE)
                return False
            if got == HANDED:
                return True  # release() took the place for this lane
            # NOTIFIED: look again, as ``while self._value == 0`` does

    def sem_release(self, lane: Lane, name: str) -> None:
        """``Semaphore.release()``: a place back, to the first waiter (see the module)."""
        world = self.world
        sem = self.semaphores[name]
        if sem.bounded and sem.value >= sem.initial:
            coroutine = self.aio is not None and self.aio.is_coroutine(lane)
            message = "BoundedSemaphore" if coroutine else "Semaphore"
            self.raise_in(lane, lane.task, "ValueError", f"{message} released too many times", None)
            return
        if lane in sem.holders:
            sem.holders.remove(lane)
        elif sem.holders:
            del sem.holders[0]  # released on another's behalf: anyone may release
        world.emit(LockReleased, lane=lane.id, lock=name, kind=SEMAPHORE)
        self._wake_up_next(sem)

    def _pass_on(self, lane: Lane, sem: SimSemaphore) -> None:
        """asyncio's ``Semaphore.acquire``, handed a place but cancelled before it ran:
        ``except CancelledError: if not fut.cancelled(): self._value += 1;
        self._wake_up_next()`` -- the place goes to the next waiter."""
        sem.holders.remove(lane)
        self.world.emit(LockReleased, lane=lane.id, lock=sem.name, kind=SEMAPHORE)
        self._wake_up_next(sem)

    def _wake_up_next(self, sem: SimSemaphore) -> None:
        """The place ``release`` frees: to the first waiter (see the module), or back to
        the value."""
        world = self.world
        name = sem.name
        if not sem.waiters:
            sem.value += 1
            return
        waiter, wake = sem.waiters.popleft()
        if waiter.thread is not None:  # a coroutine: _wake_up_next hands it the place
            sem.holders.append(waiter)
            world.emit(LockAcquired, lane=waiter.id, lock=name, kind=SEMAPHORE)
            wake(HANDED)
        else:
            sem.value += 1
            wake(NOTIFIED)


def _noting(register: Register, handed: list[bool]) -> Register:
    """``register``, noting in ``handed`` whether ``release`` handed the lane its place."""

    def noted(wake: Callable[[Any], None]) -> Callable[[], None]:
        def woken(value: Any) -> None:
            if value == HANDED:
                handed.append(True)
            wake(value)

        return register(woken)

    return noted
