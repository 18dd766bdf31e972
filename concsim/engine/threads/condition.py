"""``threading.Condition`` (Lib/threading.py, ``Condition.wait``/``wait_for``/``notify``/
``notify_all``) over the program's locks (threads/lock.py).

``wait`` needs the lock held (``RuntimeError('cannot wait on un-acquired lock')``), queues
the thread, releases the lock, blocks until a ``notify`` picks it (first come, first
notified) or its timeout, then takes the lock again before it returns True (notified) or
False (timed out). ``wait_for`` re-checks its predicate after each wake-up until it holds or
the time left runs out. ``notify(n)`` wakes the first ``n`` waiters, ``notify_all`` all;
both need the lock held (``'cannot notify on un-acquired lock'``).

``asyncio.Condition`` (Lib/asyncio/locks.py) differs where a coroutine runs it: its lock
has no owner, so "held" means ``locked()``, by anyone; ``wait`` takes the lock back even
when it is cancelled (``finally: while True: try: await self.acquire() ... except
CancelledError: cancelled = True``) and only then raises; ``notify`` skips a waiter whose
future is already done (cancelled). A timeout is ``asyncio.wait_for`` around the wait
(threads/deadline.py): at the deadline the wait is cancelled, takes the lock back, and
raises TimeoutError -- even if it was notified and only waited for the lock, and without
looking at ``wait_for``'s predicate again. From 3.13 a wait that raises notifies one other
waiter first (gh-112202), so a notification a cancelled waiter took is not lost."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from concsim.events import ConditionNotified, TimeoutExpired

from ..runtime import Actor, Cancelled, Lane, SimError, TaskRun
from ..waits import PrimitiveWait
from ..world import World
from .deadline import Deadline, Expired
from .event import Waiters, waiting, with_timeout
from .lock import Locks


@dataclass(eq=False)
class SimCondition:
    name: str
    lock: str  # the name of the lock it uses
    waiters: Waiters = field(default_factory=deque)


class Conditions(Locks):
    """The program's conditions, by name, as the scenario declares them."""

    def __init__(self, world: World) -> None:
        super().__init__(world)
        self.conditions = {
            name: SimCondition(name, spec.lock or name)
            for name, spec in world.scenario.conditions.items()
        }

    def lock_name(self, name: str) -> str:
        """The lock ``acquire: NAME`` takes: a condition's own lock, else ``NAME``."""
        condition = self.conditions.get(name)
        return condition.lock if condition is not None else name

    def cond_wait(
        self, lane: Lane, run: TaskRun | None, name: str, timeout: int | None, label: str
    ) -> Actor:
        """``Condition.wait(timeout)``: True if notified, False if it timed out."""
        world = self.world
        condition = self.conditions[name]
        if self._in_asyncio(lane):
            deadline = Deadline(world, lane, timeout, f"condition {name}")
            try:
                return (yield from self._aio_wait(lane, run, condition, deadline, label))
            finally:
                deadline.close()
        yield from world.ensure_gil(lane)
        self._owned(lane, run, condition, "wait", label)
        self.release(lane, condition.lock)  # _release_save
        register = with_timeout(world, self._register(condition.waiters, lane), timeout)
        shown = waiting(label, name, f"released {condition.lock}")
        notified = yield from self.block(lane, shown, register, PrimitiveWait(name))
        if not notified:
            world.emit(TimeoutExpired, waiter=lane.id, on=f"condition {name}")
        yield from self.acquire(lane, condition.lock, label)  # _acquire_restore
        return bool(notified)

    def cond_wait_for(
        self,
        lane: Lane,
        run: TaskRun | None,
        name: str,
        holds: Callable[[], bool],
        timeout: int | None,
        label: str,
    ) -> Actor:
        """``Condition.wait_for(predicate, timeout)``: the predicate's last value."""
        world = self.world
        if self._in_asyncio(lane):
            return (yield from self._aio_wait_for(lane, run, name, holds, timeout, label))
        yield from world.ensure_gil(lane)
        end = None if timeout is None else world.clock.now + timeout
        result = holds()
        while not result:
            left = None if end is None else end - world.clock.now
            if left is not None and left <= 0:
                break
            yield from self.cond_wait(lane, run, name, left, label)
            result = holds()
        return result

    def cond_notify(
        self, lane: Lane, run: TaskRun | None, name: str, n: int | None, label: str
    ) -> None:
        """``Condition.notify(n)`` (``n`` None: ``notify_all``)."""
        condition = self.conditions[name]
        self._owned(lane, run, condition, "notify", label)
        if self._in_asyncio(lane):
            # ``if not fut.done()``: a waiter cancelled (or timed out) but not yet gone
            # from ``_waiters`` is skipped, and does not count towards ``n``
            pending = [entry for entry in condition.waiters if entry[0].waker is entry[1]]
            woken = pending if n is None else pending[:n]
            for entry in woken:
                condition.waiters.remove(entry)
        else:
            count = len(condition.waiters) if n is None else min(n, len(condition.waiters))
            woken = [condition.waiters.popleft() for _ in range(count)]
        self.world.emit(
            ConditionNotified,
            lane=lane.id,
            condition=name,
            woke=tuple(waiter.id for waiter, _ in woken),
        )
        for _, wake in woken:
            wake(True)

    def _owned(
        self, lane: Lane, run: TaskRun | None, condition: SimCondition, what: str, label: str
    ) -> None:
        """``if not self._is_owned(): raise RuntimeError(...)``; asyncio's: ``if not
        self.locked()`` (its lock has no owner)."""
        lock = self.locks.get(condition.lock)
        holder = lock.holder if lock is not None else None
        if holder is None or (holder is not lane and not self._in_asyncio(lane)):
            self.raise_in(lane, run, "RuntimeError", f"cannot {what} on un-acquired lock", label)

    # --- asyncio.Condition ---------------------------------------------------------------

    def _in_asyncio(self, lane: Lane) -> bool:
        return self.aio is not None and self.aio.is_coroutine(lane)

    def _aio_wait(
        self,
        lane: Lane,
        run: TaskRun | None,
        condition: SimCondition,
        deadline: Deadline,
        label: str,
    ) -> Actor:
        """``await cv.wait()`` (under ``asyncio.wait_for`` when timed): True if notified,
        False if the deadline came first; a cancel is raised once the lock is held again."""
        self._owned(lane, run, condition, "wait", label)
        self.release(lane, condition.lock)
        error: SimError | None = None
        shown = waiting(label, condition.name, f"released {condition.lock}")
        try:
            yield from self.block(
                lane, shown, self._register(condition.waiters, lane), PrimitiveWait(condition.name)
            )
        except (Cancelled, Expired) as exc:
            error = exc
        # finally: must reacquire lock even if wait is cancelled
        while True:
            try:
                yield from self.acquire(lane, condition.lock, label, shown=True)
                break
            except (Cancelled, Expired) as exc:
                error = exc if isinstance(exc, Expired) else self._cancel_after_acquire(exc)
        if error is not None and self.world.machine.python.at_least >= (3, 13):
            self._cond_pass_on(lane, condition)
        if isinstance(error, Cancelled):
            raise error
        return not (deadline.expired or error is not None)

    def _cancel_after_acquire(self, exc: Cancelled) -> Cancelled:
        """A cancel while ``wait`` takes the lock back: 3.11 and 3.12 note it and then
        ``raise exceptions.CancelledError`` -- a new one, without the ``cancel(msg)``
        message; 3.13 keeps the instance (``err = e`` ... ``raise err``, gh-112202) and
        its message."""
        return exc if self.world.machine.python.at_least >= (3, 13) else Cancelled()

    def _cond_pass_on(self, lane: Lane, condition: SimCondition) -> None:
        """3.13 (gh-112202): ``Condition.wait`` that leaves with an exception (a cancel, a
        ``wait_for`` timeout) calls ``self._notify(1)`` once it holds the lock again, in case
        it had been notified: the next waiter wakes instead -- spuriously, if it had not
        been. 3.11 and 3.12 do nothing, and a notification taken by a cancelled waiter is
        lost."""
        pending = [entry for entry in condition.waiters if entry[0].waker is entry[1]]
        if not pending:
            return
        condition.waiters.remove(pending[0])
        self.world.emit(
            ConditionNotified, lane=lane.id, condition=condition.name, woke=(pending[0][0].id,)
        )
        pending[0][1](True)

    def _aio_wait_for(
        self,
        lane: Lane,
        run: TaskRun | None,
        name: str,
        holds: Callable[[], bool],
        timeout: int | None,
        label: str,
    ) -> Actor:
        """``await asyncio.wait_for(cv.wait_for(predicate), timeout)``: True once the
        predicate holds, False (TimeoutError) if the deadline comes first."""
        deadline = Deadline(self.world, lane, timeout, f"condition {name}")
        condition = self.conditions[name]
        try:
            while not holds():
                if not (yield from self._aio_wait(lane, run, condition, deadline, label)):
                    return False
            return True
        finally:
            deadline.close()
