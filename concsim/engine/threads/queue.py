"""``queue.Queue`` (Lib/queue.py): ``put`` that blocks on a full queue, ``get`` that
blocks on an empty one, each handing over to the first waiter."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from concsim.events import (
    QueueGot,
    QueuePut,
)

from ..code import Code
from ..runtime import Actor, Lane
from ..waits import QueueWait
from ..world import World


@dataclass(eq=False)
class SimQueue:
    name: str
    maxsize: int
    items: deque[Any] = field(default_factory=deque)
    getters: deque[tuple[Lane, Callable[[Any], None]]] = field(default_factory=deque)
    putters: deque[tuple[Lane, Callable[[Any], None]]] = field(default_factory=deque)


class Queues(Code):
    """The program's queues, by name, as the scenario declares them."""

    def __init__(self, world: World) -> None:
        super().__init__(world)
        self.queues = {name: SimQueue(name, q.maxsize) for name, q in world.scenario.queues.items()}

    # --- queues -------------------------------------------------------------------------

    def put(self, lane: Lane, name: str, value: Any, label: str) -> Actor:
        world = self.world
        yield from world.ensure_gil(lane)
        queue = self.queues[name]
        while queue.maxsize and len(queue.items) >= queue.maxsize and not queue.getters:
            yield from self.block(lane, label, self._register(queue.putters, lane), QueueWait(name))
            yield from world.ensure_gil(lane)
        world.emit(QueuePut, lane=lane.id, queue=name, value=value)
        if queue.getters:
            getter, wake = queue.getters.popleft()
            world.emit(QueueGot, lane=getter.id, queue=name, value=value)
            wake(("item", value))
        else:
            queue.items.append(value)

    def get(self, lane: Lane, name: str, label: str) -> Actor:
        world = self.world
        yield from world.ensure_gil(lane)
        queue = self.queues[name]
        if queue.items:
            value = queue.items.popleft()
            world.emit(QueueGot, lane=lane.id, queue=name, value=value)
            if queue.putters:
                _, wake = queue.putters.popleft()
                wake(None)
            return value
        got = yield from self.block(
            lane, label, self._register(queue.getters, lane), QueueWait(name)
        )
        yield from world.ensure_gil(lane)
        return got[1]
