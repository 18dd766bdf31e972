"""Decision points: several threads wait for the same thing at once, and CPython does not
say which of them goes first.

Where CPython leaves the order open, the run decides, and every such decision is recorded:

- **The GIL** (Python/ceval_gil.c): ``drop_gil`` signals ``gil->cond`` once
  (``COND_SIGNAL``) and whichever waiting thread the OS wakes, or whose timed wait ends
  first, takes the GIL in ``take_gil``. No waiter is promised to be first.
- **threading.Lock** (Doc/library/threading.rst, Lock objects): "which one of the waiting
  threads proceeds is not defined, and may vary across implementations". CPython's lock
  is a semaphore (Python/thread_pthread.h, ``USE_SEMAPHORES``), with no queue of waiters:
  ``release`` wakes one of them, which takes the lock only if nobody took it first
  (threads/lock.py).
- **queue.Queue** (Lib/queue.py): ``put`` calls ``not_empty.notify()``, which wakes the
  *first* waiter of the Condition (Lib/threading.py, ``Condition.notify``: ``waiters[0]``),
  but the woken thread must then take the queue's mutex again, and so the GIL, before it
  takes an item: getters woken by two puts race for it. That race is a decision about the
  GIL, not about the queue (see threads/queue.py).

asyncio's ready queue is FIFO (Lib/asyncio/base_events.py, ``_ready`` is a deque run in
order), and ``asyncio.Lock`` and ``asyncio.Queue`` wake their first waiter: a coroutine is
never a candidate.

How a decision is made: a choice given for its number (``choices``: a person chose, or a
replay file recorded it), else the seed with ``machine.ties: seeded`` (one draw of the
run's random numbers), else the first waiter (``fifo``: today's fixed order, so a lesson's
numbers stay exact).
"""

from __future__ import annotations

import random
from collections.abc import Collection, Sequence
from enum import StrEnum
from functools import partial
from operator import attrgetter
from typing import NamedTuple, assert_never

from concsim.events import Event
from concsim.scenario.model import Scenario, TieBreak

from ..driver import Driver
from ..runtime import Lane

AS_WRITTEN = 0.5
"""The draw that changes nothing: a duration as written, the first waiter of a tie."""


class Contested(StrEnum):
    """What the waiting threads want."""

    GIL = "gil"
    LOCK = "lock"


class Maker(StrEnum):
    """Who decided."""

    FIFO = "fifo"  # nobody: the first waiter, the fixed order
    SEED = "seed"  # the run's seed (machine.ties: seeded)
    CHOSEN = "chosen"  # a person, or the replay that recorded their choice


def pick(value: float, count: int) -> int:
    """The choice a draw ``value`` in [0, 1) makes among ``count``: uniform, and the draw
    that changes nothing (``AS_WRITTEN``) picks the first, so that a schedule without this
    draw keeps the fixed order."""
    return min(int(((value + AS_WRITTEN) % 1.0) * count), count - 1)


def draw_for(index: int, count: int) -> float:
    """The draw in [0, 1) that picks ``index`` of ``count`` (the inverse of ``pick``)."""
    return ((index + 0.5) / count - AS_WRITTEN) % 1.0


class Chance(random.Random):
    """A run's random numbers: durations varied by the machine's jitter, ties broken."""

    def tie(self, count: int) -> int:
        """One of ``count`` waiters, each as likely."""
        return pick(self.random(), count)


class Decision(NamedTuple):
    """One decision point of a run: who was waiting, who went first, and who decided.

    A NamedTuple, not a frozen dataclass: every hand-off of the GIL among several waiters
    records one, and a frozen dataclass's ``__init__`` sets each field through
    ``object.__setattr__``, several times the cost of building a tuple."""

    number: int
    """Its place among the run's decision points (``choices`` are keyed by it)."""
    at: int
    """Virtual microseconds."""
    contested: Contested
    resource: str
    """``GIL`` (of a process, ``GIL of proc-1``) or the lock's name."""
    holder: str | None
    """The thread that let it go."""
    waiting: tuple[str, ...]
    """The waiting threads, in the order they began to wait."""
    chosen: int
    maker: Maker
    events_before: int
    """How many events the run had made when it was decided."""

    @property
    def winner(self) -> str:
        return self.waiting[self.chosen]

    @property
    def what(self) -> str:
        """``the GIL``, ``the GIL of process-1``, ``lock lock_a``."""
        match self.contested:
            case Contested.GIL:
                return f"the {self.resource}"
            case Contested.LOCK:
                return f"lock {self.resource}"
            case _:
                assert_never(self.contested)

    @property
    def took(self) -> str:
        """``took the GIL from thread-1 before thread-2, who had waited longer`` (what the
        winner did; ``took the GIL from thread-1`` when it was first in line)."""
        text = f"took {self.what}"
        if self.holder is not None:
            text += f" from {self.holder}"
        ahead = self.waiting[: self.chosen]
        if ahead:
            who = "who had" if len(ahead) == 1 else "who each had"
            text += f" before {', '.join(ahead)}, {who} waited longer"
        return text


new_decision = partial(tuple.__new__, Decision)
"""``Decision(*fields)`` without the NamedTuple's ``__new__`` (a Python function): a GIL
hand-off among several waiters makes one. Takes the fields as one tuple, in order."""

lane_id = attrgetter("id")


class Decisions(Driver):
    """The run's decision points, and what decides each (a choice, the seed, or FIFO)."""

    rng: Chance  # set by Cores

    def __init__(
        self, scenario: Scenario, seed: int, keep: Collection[type[Event]] | None = None
    ) -> None:
        super().__init__(scenario, seed, keep)
        self.decisions: list[Decision] = []
        self.choices: dict[int, str] = {}
        """Who goes first at a decision point, by its number: a thread's lane id."""

    def decide(
        self, contested: Contested, resource: str, holder: Lane | None, waiting: Sequence[Lane]
    ) -> int:
        """Which of ``waiting`` (in the order they began to wait, two or more) goes first."""
        number = len(self.decisions)
        ids = tuple(map(lane_id, waiting))
        chosen, maker = 0, Maker.FIFO
        if self.machine.ties is TieBreak.SEEDED:
            # Drawn even when a choice overrides it, so that the draws after it (durations,
            # later ties) are the same numbers as in the run without the choice.
            chosen, maker = self.rng.tie(len(ids)), Maker.SEED
        forced = self.choices.get(number)
        if forced is not None and forced in ids:
            chosen, maker = ids.index(forced), Maker.CHOSEN
        self.decisions.append(
            new_decision(
                (
                    number,
                    self.clock.now,
                    contested,
                    resource,
                    holder.id if holder is not None else None,
                    ids,
                    chosen,
                    maker,
                    len(self._rows),  # len(self.events), without EventLog.__len__'s call
                )
            )
        )
        return chosen
