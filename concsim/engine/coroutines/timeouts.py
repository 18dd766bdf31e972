"""``async with asyncio.timeout(d) as cm:`` and ``cm.reschedule(when)`` in a coroutine
(Lib/asyncio/timeouts.py, ``Timeout``): the ``within`` block of format version 2."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from concsim.events import TimeoutExpired
from concsim.scenario import model as m

from ..runtime import Actor, Cancelled, Lane, SimError, TaskRun
from .collecting import Collecting


class _State(Enum):
    """``timeouts._State``: the value is what CPython's messages call it."""

    ENTERED = "active"
    EXPIRING = "expiring"
    EXPIRED = "expired"
    EXITED = "finished"


@dataclass(eq=False)
class Timeout:
    """One entered ``asyncio.timeout()`` block: its state, the ``cancelling()`` count at
    ``__aenter__``, and which timer is live (``_timeout_handler``)."""

    step: m.WithinStep
    run: TaskRun | None  # None: main()
    cancelling: int
    state: _State = _State.ENTERED
    handler: int = 0  # the live timer's number; a timer carrying another one was cancelled

    @property
    def shown(self) -> str:
        return f"asyncio.timeout({self.step.within / 1e6:g})"


class Timeouts(Collecting):
    """The ``within`` blocks of each coroutine, innermost last, for ``reschedule``."""

    def _timeouts(self, co: Lane) -> list[Timeout]:
        if not hasattr(self, "open_timeouts"):
            self.open_timeouts: dict[str, list[Timeout]] = {}
        return self.open_timeouts.setdefault(co.id, [])

    def within(self, co: Lane, run: TaskRun | None, step: m.WithinStep) -> Actor:
        """``async with asyncio.timeout(d):`` (``Timeout``). At the deadline ``_on_timeout``
        cancels the task; ``__aexit__`` then calls ``uncancel()`` and turns the
        CancelledError into TimeoutError only if no other cancel is pending
        (``uncancel() <= cancelling()`` at entry): an inner block that expires is seen by an
        outer one as TimeoutError, an outer one that expires passes through the inner."""
        timeout = Timeout(step, run, co.cancel_requests)
        stack = self._timeouts(co)
        stack.append(timeout)
        self._arm(timeout, self.world.clock.now + step.within)
        error: SimError | None = None
        try:
            yield from self.runtime.interp.run_steps(co, run, step.steps, [])
        except SimError as exc:
            error = exc
        finally:
            stack.remove(timeout)
            timeout.handler += 1  # __aexit__: self._timeout_handler.cancel()
        if timeout.state is _State.EXPIRING:
            timeout.state = _State.EXPIRED
            co.cancel_requests -= 1  # uncancel()
            if co.cancel_requests <= timeout.cancelling and isinstance(error, Cancelled):
                raise SimError("TimeoutError", "")
        elif timeout.state is _State.ENTERED:
            timeout.state = _State.EXITED
        if error is not None:
            raise error

    def reschedule(self, co: Lane, step: m.RescheduleStep) -> None:
        """``cm.reschedule(loop.time() + d)`` of the innermost ``within`` block
        (``Timeout.reschedule``): the old timer is cancelled; ``None`` leaves none; a
        deadline not in the future runs ``_on_timeout`` at the loop's next iteration
        (``call_soon``). Only an active block may move: RuntimeError('Cannot change state
        of expiring Timeout') once it has expired."""
        timeout = self._timeouts(co)[-1]  # checks.py: a reschedule is inside a within
        if timeout.state is not _State.ENTERED:
            raise SimError("RuntimeError", f"Cannot change state of {timeout.state.value} Timeout")
        timeout.handler += 1
        if step.reschedule is None:
            return
        if step.reschedule <= 0:
            handler = timeout.handler
            self.call_soon(lambda: self._on_timeout(timeout, handler))
        else:
            self._arm(timeout, self.world.clock.now + step.reschedule)

    def _arm(self, timeout: Timeout, deadline: int) -> None:
        """``loop.call_at(when, self._on_timeout)``: at ``deadline`` the loop runs it."""
        handler = timeout.handler
        fire = self._on_timeout
        self.world.clock.at(deadline, lambda: self.call_soon(lambda: fire(timeout, handler)))

    def _on_timeout(self, timeout: Timeout, handler: int) -> None:
        """``Timeout._on_timeout``: cancel the task, the block is expiring."""
        if handler != timeout.handler:
            return  # this timer was cancelled: the block was left or rescheduled
        timeout.state = _State.EXPIRING
        run = timeout.run
        who = run.name if run is not None else "main"
        self.world.emit(TimeoutExpired, waiter=who, on=timeout.shown)
        if run is not None:
            # a callback the event loop runs (loop.call_at): the loop asks the cancel
            why = "asyncio.timeout() expired: Timeout._on_timeout cancels the task"
            self.cancel(run, why, by="loop")
        else:
            self.cancel_main()
