"""``threading.Event`` (Lib/threading.py, ``Event.set``/``clear``/``wait``) and its asyncio
counterpart (Lib/asyncio/locks.py, ``Event``), with the timed wait both are used for.

CPython's ``Event.wait(timeout)`` is ``with self._cond: signaled = self._flag; if not
signaled: signaled = self._cond.wait(timeout); return signaled``: a waiter that ``set()``
notified returns True even if ``clear()`` came before it ran again, and one whose timeout
expired returns False. ``set()`` wakes every waiter at once (``notify_all``).
asyncio.Event.wait has no timeout: ``asyncio.wait_for(event.wait(), timeout)`` raises
TimeoutError instead, which the generated program turns into the same ``else`` branch."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from concsim.events import EventCleared, EventSet, TimeoutExpired

from ..code import Code
from ..runtime import Actor, Lane
from ..waits import PrimitiveWait
from ..world import World

Waiters = deque[tuple[Lane, Callable[[Any], None]]]


@dataclass(eq=False)
class SimEvent:
    name: str
    flag: bool = False
    waiters: Waiters = field(default_factory=deque)


class Events(Code):
    """The program's events, by name, as the scenario declares them."""

    def __init__(self, world: World) -> None:
        super().__init__(world)
        self.events = {name: SimEvent(name) for name in world.scenario.events}

    def is_set(self, name: str) -> bool:
        """``Event.is_set()`` (False for an event the scenario does not declare)."""
        event = self.events.get(name)
        return event is not None and event.flag

    def set_event(self, lane: Lane, name: str) -> None:
        """``Event.set``: the flag goes up and every waiter is woken with True."""
        event = self.events[name]
        event.flag = True
        waiters, event.waiters = list(event.waiters), deque()
        self.world.emit(EventSet, lane=lane.id, event=name, woke=tuple(w.id for w, _ in waiters))
        for _, wake in waiters:
            wake(True)

    def clear_event(self, lane: Lane, name: str) -> None:
        """``Event.clear``: the flag goes down; lanes already woken still return True."""
        self.events[name].flag = False
        self.world.emit(EventCleared, lane=lane.id, event=name)

    def wait_event(self, lane: Lane, name: str, timeout: int | None, label: str) -> Actor:
        """``Event.wait(timeout)``: True at once if set, else block until ``set()`` (True)
        or the timeout (False)."""
        world = self.world
        yield from world.ensure_gil(lane)
        event = self.events[name]
        if event.flag:
            return True
        if timeout is not None and timeout <= 0:
            return False
        shown = waiting(label, name, "not set")
        register = with_timeout(self.world, self._register(event.waiters, lane), timeout)
        signaled = yield from self.block(lane, shown, register, PrimitiveWait(name))
        if not signaled:
            world.emit(TimeoutExpired, waiter=lane.id, on=f"event {name}")
        yield from world.ensure_gil(lane)  # the condition's lock, taken again
        return bool(signaled)


Register = Callable[[Callable[[Any], None]], Callable[[], None]]


def waiting(label: str, name: str, detail: str) -> str:
    """What a lane blocked on ``name`` shows: its step's label and what it waits for,
    ``wait gate (2 of 3 arrived)``, or ``sync (gate: 2 of 3 arrived)`` for a labelled step
    (the code view finds the step's line by the label before the parenthesis)."""
    if label == f"wait {name}" or label == f"wait_for {name}":
        return f"{label} ({detail})"
    return f"{label} ({name}: {detail})"


def with_timeout(world: World, register: Register, timeout: int | None) -> Register:
    """``register`` (for ``Code.block``), and with a ``timeout`` a timer that wakes the lane
    with False first unless someone else wakes it before (a waker wakes at most once, so
    the later of the two is ignored)."""
    if timeout is None:
        return register
    clock = world.clock

    def with_timer(wake: Callable[[Any], None]) -> Callable[[], None]:
        unregister = register(wake)
        clock.at(clock.now + timeout, wake, False)
        return unregister

    return with_timer
