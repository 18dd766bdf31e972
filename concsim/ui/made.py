"""What one engine has made: its events, checkpoints of the views over them, who drives it.

The engine is deterministic, so the history it makes depends only on its inputs; several
runs (``concsim.ui.history.Run``) may show one engine's history, each from its own playhead:
the run shown now, the same history shown again from the start after a rewind or a step
back, and a worker running the engine ahead of the playhead (``jobs.look_ahead``). Every
piece of engine work goes through ``Made`` under its lock, one unit of work at a time, so
that the events are the same whether the engine makes them when shown or long before.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from concsim.ui.checkpoints import Checkpoints
from concsim.ui.markindex import MarkIndex

if TYPE_CHECKING:
    from concsim.ui.session import SimulationLike

SLICE = 256
"""Units of engine work between two looks at a budget (and two takes of the lock)."""


class Made:
    """One engine, its lock and its checkpoints; shared by every run over it."""

    def __init__(self, sim: SimulationLike) -> None:
        self.sim = sim
        # The engine's work without reading what it made (left as rows for the views'
        # fold, concsim.ui.fold), where the engine offers it; a live run's, as it is.
        self._advance: Callable[[float, int | None], object] = getattr(
            sim, "advance_count", sim.advance
        )
        self._step: Callable[[], object] = getattr(sim, "step_count", sim.step)
        # Held by whoever drives the engine: the view's thread or a worker.
        self.lock = threading.RLock()
        # The views' models every few thousand events of this history (``ui.checkpoints``).
        self.checkpoints = Checkpoints()
        # The marks of this history by their event's index, whoever folded them first.
        self.marks = MarkIndex()

    def advance(self, to: float, budget: Callable[[], bool] | None = None) -> bool:
        """Run the engine towards ``to`` until ``budget()`` says stop; True once there (at
        once if it stands there already, having run ahead). The same callbacks in the same
        order as one ``sim.advance(to)``, taken one unit of work at a time."""
        sim = self.sim
        while True:
            with self.lock:
                for _ in range(SLICE):
                    if not sim.due(to):
                        self._advance(to, None)  # nothing left up to ``to``: the clock reads it
                        return True
                    self._advance(to, 1)
            if budget is not None and budget():
                return False

    def step(self) -> None:
        """``sim.step()``: work until at least one new event appears (or the run ends)."""
        with self.lock:
            self._step()

    def inject(self, fault: str, target: str, error: str) -> None:
        with self.lock:
            self.sim.inject(fault, target, error)

    def run_ahead(self, stopped: threading.Event, limit: Callable[[], bool]) -> bool:
        """A slice of work beyond everything due, never ending the run (a stalled one is
        ended only by a key): False once there is nothing left to do by itself, or
        ``stopped`` is set; does nothing (True) while ``limit()`` holds."""
        sim = self.sim
        with self.lock:
            for _ in range(SLICE):
                if stopped.is_set():  # the view may have used the engine meanwhile
                    return False
                when = None if sim.finished else sim.next_time()
                if when is None:
                    return False
                if limit():
                    return True
                self._advance(when, 1)
            return True
