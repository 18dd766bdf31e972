"""A run: one simulation and the views' models (timeline, ledger) fed from its events.

A session holds one run at a time; stepping back, rewinding or switching variant builds a
new run and adopts it. A run can be advanced under a budget, so that one key or one frame
never does more engine work than it may (the rest waits for the next frame or a job).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from concsim.events import Event
from concsim.ui.ledger import Ledger
from concsim.ui.timeline import Timeline

if TYPE_CHECKING:
    from concsim.ui.session import SimulationLike

_SLICE = 256  # units of engine work between two looks at the clock or the budget


class Run:
    """One simulation and the views' models, fed with its first ``seen`` events.

    ``now``, ``finished`` and ``stalled`` are read from the simulation only by ``sync()``
    with no bound: while a worker thread drives the simulation (``jobs.py``), the view
    reads these copies and feeds itself the events the worker reports, never the engine.
    """

    def __init__(self, sim: SimulationLike) -> None:
        self.sim = sim
        self.timeline = Timeline()
        self.ledger = Ledger()
        self.seen = 0
        self.now = 0.0
        self.finished = False
        self.stalled = False
        # A run that stalled and was ended by hand ends where the clock then stood, which
        # only the session knows: a saved replay records it (Replay.ended_at).
        self.ended_at: float | None = None

    def sync(self, upto: int | None = None) -> list[Event]:
        """Feed events ``seen`` to ``upto`` (default: all, and the engine's state) to the
        views' models; returns them."""
        events = self.sim.events
        end = len(events) if upto is None else min(upto, len(events))
        new = events[self.seen : end]
        self.seen = max(self.seen, end)
        self.timeline.feed(new)
        self.ledger.feed(new)
        if upto is None:
            sim = self.sim
            self.now, self.finished, self.stalled = sim.now, sim.finished, sim.stalled
        elif new:
            self.now = max(self.now, new[-1].t)
        self.timeline.now = max(self.timeline.now, self.now)
        return new

    def whole_instants(self, upto: int, *, finished: bool = False) -> int:
        """A bound for ``sync`` at or below ``upto`` that ends between two instants: the
        lanes view keeps the columns before the playhead as final, so it must never see half
        an instant. While the engine runs, the instant of event ``upto - 1`` may still grow
        and is left out; once it has finished, that instant is taken whole."""
        events = self.sim.events
        upto = min(upto, len(events))
        if upto <= self.seen:
            return self.seen
        last = events[upto - 1].t
        if finished:
            while upto < len(events) and events[upto].t == last:
                upto += 1
            return upto
        lo, hi = self.seen, upto - 1
        while lo < hi:  # the first event at ``last``, by bisection
            mid = (lo + hi) // 2
            if events[mid].t < last:
                lo = mid + 1
            else:
                hi = mid
        return lo

    @property
    def behind(self) -> int:
        """Events the engine has produced that the views have not been fed yet."""
        return len(self.sim.events) - self.seen

    def advance(self, to: float, budget: Callable[[], bool] | None = None) -> bool:
        """Run the engine towards ``to`` until ``budget()`` says stop; True once there.

        Any split gives the same events as one ``sim.advance(to)`` (see its ``work``).
        """
        sim = self.sim
        while sim.due(to):
            if budget is not None and budget():
                return False
            sim.advance(to, work=_SLICE)
        sim.advance(to)  # nothing left up to ``to``: the clock reads it
        return True

    def run_on(self, budget: Callable[[], bool] | None = None) -> bool:
        """Run the engine towards the end until ``budget()`` says stop; True once finished.
        The same callbacks in the same order as ``sim.run()``."""
        sim = self.sim
        while not sim.finished:
            if budget is not None and budget():
                return False
            for _ in range(_SLICE):
                if sim.finished:
                    break
                self.step()
        return True

    def step(self) -> None:
        """One instant of the engine; a stalled run is ended there as hung."""
        sim = self.sim
        stalled = sim.stalled
        sim.step()
        if stalled and sim.finished:
            self.ended_at = sim.now


def event_budget(run: Run, events: int) -> Callable[[], bool]:
    """A budget that runs out once the engine has produced ``events`` more events."""
    stop = len(run.sim.events) + events
    return lambda: len(run.sim.events) >= stop
