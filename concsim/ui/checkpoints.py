"""Copies of the views' models every few thousand events, so that moving the playhead back
never feeds the views from the start of the run.

The views' models (``Timeline`` with its ``Story``, ``Ledger``) are folds of the event
stream: the models after the first ``n`` events are a function of ``n``. Stepping back one
event, or seeking to any earlier time, therefore takes a copy of the nearest checkpoint at
or before the place wanted and feeds it the few events between (at most about ``SPACING``).
A checkpoint may fall inside an instant: the copies are fed on as the models were.

Every run over one engine (``concsim.ui.made.Made``) shares its checkpoints: they hold the
same history, whoever fed it first.
"""

from __future__ import annotations

import threading
from bisect import bisect_right
from dataclasses import dataclass

from concsim.ui.ledger import Ledger
from concsim.ui.timeline import Timeline

SPACING = 2048
"""Events between two checkpoints at first: the most a step back feeds (a few milliseconds)."""
MOST = 64
"""Checkpoints kept at most: past that, every other one goes and the spacing doubles (a
copy of a long run's models is megabytes; a run of 130,000 events keeps every 2,048th)."""
NEAR = 2
"""Checkpoints kept near the playhead besides, at most: one is made where a move back
lands further than ``SPACING`` from every checkpoint, at the last multiple of ``SPACING``
before it, so that the steps back that follow feed ``SPACING`` events at most however
far apart the others have grown; the oldest goes."""


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """The views' models after the first ``seen`` events, the playhead at ``now``; private
    copies, never fed (``restore`` copies them again)."""

    seen: int
    now: float
    timeline: Timeline
    ledger: Ledger

    def restore(self) -> tuple[Timeline, Ledger]:
        """Copies of the models to feed on from here."""
        return self.timeline.copy(), self.ledger.copy()


class Checkpoints:
    """The checkpoints of one history, by the number of events each holds; added from the
    view's thread and from workers feeding a run off screen, so under a lock."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.seens: list[int] = []
        self.kept: list[Checkpoint] = []
        self.spacing = SPACING
        self.near: list[Checkpoint] = []  # near the playhead, the newest last

    def __len__(self) -> int:
        return len(self.kept)

    def next_place(self, seen: int, end: int) -> int | None:
        """Where the next checkpoint after ``seen`` goes (the next multiple of the spacing),
        if it lies at or before ``end``."""
        spacing = self.spacing
        place = (seen // spacing + 1) * spacing
        return place if place <= end else None

    def add(self, seen: int, now: float, timeline: Timeline, ledger: Ledger) -> None:
        """Keep copies of the models after ``seen`` events (once per place)."""
        with self.lock:
            k = bisect_right(self.seens, seen)
            if k and self.seens[k - 1] == seen:
                return
        checkpoint = Checkpoint(seen, now, timeline.copy(), ledger.copy())
        with self.lock:
            k = bisect_right(self.seens, seen)
            if not (k and self.seens[k - 1] == seen):
                self.seens.insert(k, seen)
                self.kept.insert(k, checkpoint)
            if len(self.kept) > MOST:
                self.spacing *= 2
                kept = [k for k, seen in enumerate(self.seens) if seen % self.spacing == 0]
                self.seens = [self.seens[k] for k in kept]
                self.kept = [self.kept[k] for k in kept]

    def add_near(self, seen: int, now: float, timeline: Timeline, ledger: Ledger) -> None:
        """Keep copies of the models after ``seen`` events near the playhead (``NEAR``)."""
        if self.has(seen):
            return
        checkpoint = Checkpoint(seen, now, timeline.copy(), ledger.copy())
        with self.lock:
            self.near = [*self.near, checkpoint][-NEAR:]

    def has(self, seen: int) -> bool:
        with self.lock:
            k = bisect_right(self.seens, seen)
            return (bool(k) and self.seens[k - 1] == seen) or any(
                near.seen == seen for near in self.near
            )

    def before(self, upto: int) -> Checkpoint | None:
        """The latest checkpoint holding ``upto`` events or fewer."""
        with self.lock:
            k = bisect_right(self.seens, upto)
            found = self.kept[k - 1] if k else None
            for near in self.near:
                if near.seen <= upto and (found is None or near.seen > found.seen):
                    found = near
            return found
