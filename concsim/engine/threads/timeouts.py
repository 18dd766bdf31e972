"""Waits that give up: ``acquire(timeout=...)`` and its kin. A timed waiter sits in the same
list of waiters as the others; a timer takes it out at its deadline, unless a release took
it out first (and handed it what it waited for)."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import Any

from ..runtime import Lane
from ..world import World

Waiters = deque[tuple[Lane, Callable[[Any], None]]]
Register = Callable[[Callable[[Any], None]], Callable[[], None]]


class GaveUp:
    """What a timed waiter is woken with when its deadline came first."""

    def __repr__(self) -> str:
        return "GAVE_UP"


GAVE_UP = GaveUp()


def register_until(world: World, waiters: Waiters, lane: Lane, until: int) -> Register:
    """Like ``Code._register``, plus a timer at ``until`` that wakes the lane with
    ``GAVE_UP`` if it is still waiting then (``lock_PyThread_acquire_lock`` with a
    timeout; ``asyncio.timeout`` around an asyncio acquire)."""

    def register(wake: Callable[[Any], None]) -> Callable[[], None]:
        entry = (lane, wake)
        waiters.append(entry)

        def expire() -> None:
            if entry in waiters:
                waiters.remove(entry)
                wake(GAVE_UP)

        world.clock.at(until, expire)

        def unregister() -> None:
            if entry in waiters:
                waiters.remove(entry)

        return unregister

    return register
