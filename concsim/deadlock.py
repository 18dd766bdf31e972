"""A deadlock cycle found from who holds which lock and who waits for which: pure, no engine.

Lanes wait on each other in a cycle when each waits for a lock the next one holds; none of
them can run again, since a ``threading.Lock.acquire()`` with no timeout returns only when
the holder calls ``release()``. The views find the cycle from the state they fold from the
event stream (``LockAcquired`` / ``LockWaited`` / ``LockReleased``); the engine, which knows
the same from its locks, says it in ``DeadlockDetected`` with the same sentence.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Link:
    """One lane of a cycle: the lock it holds that the previous lane waits for, and the lock
    it waits for, held by the next lane."""

    lane: str
    holds: str
    waits_for: str


def sentence(links: Sequence[Link]) -> str:
    """``Deadlock: thread-1 holds lock_a and waits for lock_b; thread-2 holds lock_b and
    waits for lock_a.``"""
    parts = [f"{link.lane} holds {link.holds} and waits for {link.waits_for}" for link in links]
    return "Deadlock: " + "; ".join(parts) + "."


def links_of_chain(chain: Sequence[str]) -> list[Link]:
    """The links of ``lane, lock, lane, lock, …, lane`` (the first lane again at the end),
    where each lane waits for the lock after it: the ``DeadlockDetected.cycle`` form."""
    lanes, locks = list(chain[0:-1:2]), list(chain[1::2])
    return [
        Link(lane, locks[k - 1], locks[k]) for k, lane in enumerate(lanes)
    ]  # lanes[k] holds what lanes[k - 1] waits for


def find_cycle(
    held: Mapping[str, Iterable[str]],
    waits: Mapping[str, tuple[str, str]],
    order: Sequence[str] = (),
) -> tuple[Link, ...] | None:
    """The lanes that wait on each other's locks in a cycle, if any.

    ``held``: each lane's locks held now; ``waits``: each blocked lane's (lock, holder).
    A wait counts only while its holder still holds the lock. The cycle starts at the lane
    that comes first in ``order`` (the rows on screen), else at the first found.
    """
    holds = {lane: set(locks) for lane, locks in held.items()}

    def next_lane(lane: str) -> str | None:
        lock, holder = waits[lane]
        return holder if lock in holds.get(holder, ()) and holder in waits else None

    rank = {lane: k for k, lane in enumerate(order)}
    for start in sorted(waits, key=lambda lane: (rank.get(lane, len(rank)), lane)):
        path = [start]
        lane = next_lane(start)
        while lane is not None and lane not in path:
            path.append(lane)
            lane = next_lane(lane)
        if lane is None:
            continue
        ring = path[path.index(lane) :]
        first = min(ring, key=lambda name: (rank.get(name, len(rank)), ring.index(name)))
        k = ring.index(first)
        ring = ring[k:] + ring[:k]
        return tuple(
            Link(name, waits[ring[j - 1]][0], waits[name][0]) for j, name in enumerate(ring)
        )
    return None
