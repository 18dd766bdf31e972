"""``queue.Queue`` (Lib/queue.py): ``put`` that blocks on a full queue, ``get`` that
blocks on an empty one, each handing over to the first waiter.

With ``machine.ties: fifo`` a put hands its item straight to the first blocked getter, a
fixed order. With ``seeded`` it does what Lib/queue.py does: the item goes into the queue
and ``not_empty.notify()`` wakes the first getter, which takes *an* item only once it has
the GIL (and the queue's mutex) again; getters woken by two puts race for the GIL, and a
thread that calls ``get()`` meanwhile may take the item first. Coroutines (asyncio.Queue)
are always handed their item in turn."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from concsim.events import (
    LaneState,
    QueueGot,
    QueuePut,
)
from concsim.scenario.model import TieBreak

from ..code import Code
from ..runtime import Actor, Lane
from ..waits import QueueWait
from ..world import World
from .timeouts import GAVE_UP, register_until

_NOTIFIED = ("notified", None)
"""What a getter woken by ``not_empty.notify()`` is given: no item, only a turn to look."""


@dataclass(eq=False)
class SimQueue:
    name: str
    maxsize: int
    items: deque[Any] = field(default_factory=deque)
    getters: deque[tuple[Lane, Callable[[Any], None]]] = field(default_factory=deque)
    putters: deque[tuple[Lane, Callable[[Any], None]]] = field(default_factory=deque)
    unfinished: int = 0  # ``unfinished_tasks``: puts not yet matched by a task_done
    joiners: deque[tuple[Lane, Callable[[Any], None]]] = field(default_factory=deque)
    join_labels: dict[str, str] = field(default_factory=dict)  # a joiner's step, by lane


class Queues(Code):
    """The program's queues, by name, as the scenario declares them."""

    def __init__(self, world: World) -> None:
        super().__init__(world)
        self.queues = {name: SimQueue(name, q.maxsize) for name, q in world.scenario.queues.items()}

    # --- queues -------------------------------------------------------------------------

    def put(
        self,
        lane: Lane,
        name: str,
        value: Any,
        label: str,
        timeout: int | None = None,
        block: bool = True,
    ) -> Actor:
        """``Queue.put(item, block, timeout)``: raises ``queue.Full`` when a bounded queue
        stays full (at once with ``block=False``, else at the deadline)."""
        world = self.world
        yield from world.ensure_gil(lane)
        queue = self.queues[name]
        until = None if timeout is None else world.clock.now + timeout
        while queue.maxsize and len(queue.items) >= queue.maxsize and not self._hands(queue):
            got = yield from self._wait_or_give_up(lane, label, queue.putters, name, until, block)
            if got is GAVE_UP:
                self._queue_error(lane, "Full", timed=block)
        world.emit(QueuePut, lane=lane.id, queue=name, value=value)
        queue.unfinished += 1  # Queue.put: ``self.unfinished_tasks += 1``
        if self._hands(queue):
            getter, wake = queue.getters.popleft()
            world.emit(QueueGot, lane=getter.id, queue=name, value=value)
            wake(("item", value))
        else:
            queue.items.append(value)
            if queue.getters:  # not_empty.notify(): the first waiter, to look again
                _, wake = queue.getters.popleft()
                wake(_NOTIFIED)

    def get(
        self, lane: Lane, name: str, label: str, timeout: int | None = None, block: bool = True
    ) -> Actor:
        """``Queue.get(block, timeout)``: raises ``queue.Empty`` when the queue stays empty
        (at once with ``block=False``, else at the deadline)."""
        world = self.world
        yield from world.ensure_gil(lane)
        queue = self.queues[name]
        until = None if timeout is None else world.clock.now + timeout
        while not queue.items:  # Queue.get: ``while not self._qsize(): not_empty.wait()``
            got = yield from self._wait_or_give_up(lane, label, queue.getters, name, until, block)
            if got is GAVE_UP:
                self._queue_error(lane, "Empty", timed=block)
            if got is not _NOTIFIED:
                return got[1]  # handed straight over by put
        value = queue.items.popleft()
        world.emit(QueueGot, lane=lane.id, queue=name, value=value)
        if queue.putters:
            _, wake = queue.putters.popleft()
            wake(None)
        return value

    def _wait_or_give_up(
        self,
        lane: Lane,
        label: str,
        waiters: deque[tuple[Lane, Callable[[Any], None]]],
        name: str,
        until: int | None,
        block: bool,
    ) -> Actor:
        """One wait of ``put`` or ``get``: what the waker gave, or ``GAVE_UP`` when it may
        not wait (``block=False``) or its deadline came (``remaining <= 0``)."""
        world = self.world
        if not block or (until is not None and world.clock.now >= until):
            return GAVE_UP
        register = (
            self._register(waiters, lane)
            if until is None
            else register_until(world, waiters, lane, until)
        )
        got = yield from self.block(lane, label, register, QueueWait(name))
        yield from world.ensure_gil(lane)
        return got

    def _queue_error(self, lane: Lane, which: str, *, timed: bool) -> None:
        """``queue.Full``/``queue.Empty``; in a coroutine ``asyncio.QueueFull``/``QueueEmpty``
        of the nowait forms, or the ``TimeoutError`` of ``asyncio.timeout`` around the await."""
        if self.aio is not None and self.aio.is_coroutine(lane):
            error = "TimeoutError" if timed else f"asyncio.Queue{which}"
        else:
            error = f"queue.{which}"
        self.raise_in(lane, lane.task, error, "", None)

    def _hands(self, queue: SimQueue) -> bool:
        """Whether a put hands its item straight to the first getter; else it wakes it to
        look for the item, as Lib/queue.py does (threads with ``machine.ties: seeded``)."""
        if not queue.getters:
            return False
        getter = queue.getters[0][0]
        return getter.thread is not None or self.world.machine.ties is not TieBreak.SEEDED

    # --- task_done and join -------------------------------------------------------------

    def task_done(self, lane: Lane, name: str) -> None:
        """``Queue.task_done()`` (Lib/queue.py; asyncio.Queue's is the same): one fewer
        unfinished task; at zero, every ``join`` returns."""
        queue = self.queues[name]
        if queue.unfinished <= 0:
            self.raise_in(lane, lane.task, "ValueError", "task_done() called too many times", None)
            return
        queue.unfinished -= 1
        if not queue.unfinished:  # ``self.all_tasks_done.notify_all()``
            while queue.joiners:
                _, wake = queue.joiners.popleft()
                wake(None)
            return
        for joiner, _ in queue.joiners:  # the lanes count down what is left
            if joiner.state is LaneState.HUNG:
                continue
            label = f"{queue.join_labels[joiner.id]} ({queue.unfinished} unfinished)"
            self.world.set_state(joiner, LaneState.BLOCKED, label)

    def join(self, lane: Lane, name: str, label: str) -> Actor:
        """``Queue.join()``: wait while ``unfinished_tasks`` is above zero."""
        world = self.world
        yield from world.ensure_gil(lane)
        queue = self.queues[name]
        queue.join_labels[lane.id] = label
        while queue.unfinished:
            shown = f"{label} ({queue.unfinished} unfinished)"
            yield from self.block(lane, shown, self._register(queue.joiners, lane), QueueWait(name))
            yield from world.ensure_gil(lane)
