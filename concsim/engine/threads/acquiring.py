"""The steps that take and give back a lock, an RLock or a semaphore, by the family its
name was declared in (an undeclared name is a ``threading.Lock``, as in version 1):
``acquire`` that may return False (``if not lock.acquire(timeout=...): <else>``),
``release``, and ``with NAME: <steps>``, which releases on the way out, by an exception
too (``Lock.__exit__``, ``Semaphore.__exit__``)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from concsim.scenario import model as m

from ..flow import BreakLoop, ContinueLoop, Returned
from ..runtime import Actor, Lane, SimError, TaskRun
from .lock import Locks
from .semaphore import Semaphores


class Acquiring(Locks, Semaphores):
    """Acquire, release and ``with`` over the program's locks and semaphores."""

    def run_steps(
        self,
        lane: Lane,
        run: TaskRun | None,
        steps: Sequence[Any],
        consumed: list[Any],
        *,
        top: bool = False,
    ) -> Actor:
        raise NotImplementedError  # the interpreter's

    def lock_name(self, name: str) -> str:
        """The lock ``acquire: NAME`` takes: ``NAME`` (a condition's, its own lock:
        ``Conditions.lock_name``, first in the interpreter's order)."""
        return name

    def acquire_call(self, step: m.AcquireStep, label: str) -> Callable[..., Actor]:
        """How an ``acquire`` step runs: a version-1 acquire of a plain lock as before, any
        other (a timeout, not blocking, a declared lock or a semaphore) by ``try_acquire``."""
        name = self.lock_name(step.acquire)
        if step.can_fail or name in self.semaphores or name in self.world.scenario.locks:
            return lambda lane, run, consumed: self.try_acquire(lane, run, step, consumed, label)
        return lambda lane, run, _: self.acquire(lane, name, label)

    def with_call(self, step: m.WithStep, label: str) -> Callable[..., Actor]:
        """How a ``with`` step runs."""
        return lambda lane, run, consumed: self.with_block(lane, run, step, consumed, label)

    def take(
        self,
        lane: Lane,
        name: str,
        label: str,
        timeout: int | None = None,
        blocking: bool = True,
    ) -> Actor:
        """``NAME.acquire(blocking, timeout)`` on whatever ``NAME`` is: True or False."""
        name = self.lock_name(name)
        if name in self.semaphores:
            got = yield from self.sem_acquire(lane, name, label, timeout, blocking)
        else:
            got = yield from self.acquire(lane, name, label, timeout, blocking, shown=True)
        return bool(got)

    def give_back(self, lane: Lane, name: str) -> None:
        """``NAME.release()`` on whatever ``NAME`` is."""
        name = self.lock_name(name)
        if name in self.semaphores:
            self.sem_release(lane, name)
        else:
            self.release(lane, name)

    def try_acquire(
        self, lane: Lane, run: TaskRun | None, step: m.AcquireStep, consumed: list[Any], label: str
    ) -> Actor:
        """``if not NAME.acquire(...): <else steps>``; the steps after it run either way."""
        got = yield from self.take(lane, step.acquire, label, step.timeout, step.blocking)
        if not got and step.else_:
            yield from self.run_steps(lane, run, step.else_, consumed)

    def with_block(
        self, lane: Lane, run: TaskRun | None, step: m.WithStep, consumed: list[Any], label: str
    ) -> Actor:
        """``with NAME: <steps>`` (``async with`` in a coroutine)."""
        yield from self.take(lane, step.with_, label)
        try:
            yield from self.run_steps(lane, run, step.steps, consumed)
        except (SimError, BreakLoop, ContinueLoop, Returned):
            # __exit__ runs on the way out of an exception too (a return at a stop check
            # is one here), and of a break, continue or return; then it goes on.
            yield from self.world.ensure_gil(lane)
            self.give_back(lane, step.with_)
            raise
        yield from self.world.ensure_gil(lane)
        self.give_back(lane, step.with_)
