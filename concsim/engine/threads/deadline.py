"""``asyncio.wait_for(aw, timeout)`` around an await of a primitive that must finish its
own clean-up first (``asyncio.Condition.wait`` takes its lock back even when cancelled).

At the deadline wait_for cancels the inner task wherever it waits (Lib/asyncio/tasks.py,
``wait_for``: ``fut.cancel()`` then ``_cancel_and_wait``), and only once the inner code has
run its clean-up does it raise TimeoutError. The simulated coroutine is that inner code: the
deadline throws ``Expired`` at its current await, or at its next resume if it was woken and
has not run yet (``Task.cancel`` sets ``_must_cancel`` then)."""

from __future__ import annotations

from concsim.events import TimeoutExpired

from ..runtime import Lane, SimError
from ..world import World


class Expired(SimError):
    """wait_for's cancel of the inner await at its deadline (TimeoutError once it ends)."""

    def __init__(self) -> None:
        super().__init__("TimeoutError", "")


class Deadline:
    """One ``asyncio.wait_for`` deadline over a coroutine's wait on ``on``."""

    def __init__(self, world: World, co: Lane, timeout: int | None, on: str) -> None:
        self.world = world
        self.co = co
        self.on = on
        self.open = True  # False once the wait has returned: the timer handle is cancelled
        self.expired = False
        self.error = Expired()
        if timeout is not None:
            world.clock.at(world.clock.now + timeout, self._expire)

    def _expire(self) -> None:
        if not self.open or self.expired:
            return
        self.expired = True
        co = self.co
        self.world.emit(TimeoutExpired, waiter=co.id, on=self.on)
        if co.waker is not None:
            co.waker(None, self.error)  # parked at an await: raised there
        else:
            co.pending_error = self.error  # woken, not yet run: raised as it resumes

    def close(self) -> None:
        self.open = False
        if self.co.pending_error is self.error:
            self.co.pending_error = None  # the wait ended first: nothing left to cancel
