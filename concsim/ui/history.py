"""A run: one simulation and the views' models (timeline, ledger) fed from its events.

A session holds one run at a time; stepping back, rewinding or switching variant builds a
new run and adopts it. A run's playhead (``now``, the first ``seen`` events fed to its
views) may stand behind its engine: a worker ran the engine ahead, or the run shows again
a history its engine made before (``replay_to``, ``replay_from_start``: several runs over one
``Made``, sharing its checkpoints).
Engine work and feeding both go under a budget, so that one key or one frame never does
more than it may (the rest waits for the next frame or a job).
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from concsim.events import Event
from concsim.ui import checkpoints as kept
from concsim.ui import fold
from concsim.ui.fold import Fed, time_of
from concsim.ui.ledger import Ledger
from concsim.ui.made import SLICE, Made
from concsim.ui.timeline import Timeline

if TYPE_CHECKING:
    from concsim.ui.session import SimulationLike


class Run:
    """One simulation and the views' models, fed with its first ``seen`` events.

    ``now``, ``finished`` and ``stalled`` are read from the simulation only by ``sync()``
    with no bound: while a worker thread drives the simulation (``jobs.py``), the view
    reads these copies and feeds itself the events the worker reports, never the engine.
    """

    def __init__(self, sim: SimulationLike, made: Made | None = None) -> None:
        self.sim = sim
        self.made = made or Made(sim)  # shared by the runs that show this engine's history
        self.lock = self.made.lock
        self.timeline = Timeline()
        self.ledger = Ledger()
        self.seen = 0
        self.now = 0.0
        self.finished = False
        self.stalled = False
        # A run that stalled and was ended by hand ends where the clock then stood, which
        # only the session knows: a saved replay records it (Replay.ended_at).
        self.ended_at: float | None = None

    def sync(self, upto: int | None = None) -> Fed:
        """Feed events ``seen`` to ``upto`` (default: all, and the engine's state) to the
        views' models; returns them (typed when read)."""
        events = self.sim.events
        end = len(events) if upto is None else min(upto, len(events))
        start = self.seen
        checkpoints = self.made.checkpoints
        while (place := checkpoints.next_place(self.seen, end)) is not None:
            # Fed in two parts, copies of the models kept between (once per history).
            self._fold(place)
            if not checkpoints.has(place):
                checkpoints.add(place, time_of(events, place - 1), self.timeline, self.ledger)
        self._fold(end)
        if upto is None:
            sim = self.sim
            self.now, self.finished, self.stalled = sim.now, sim.finished, sim.stalled
        elif end > start:
            self.now = max(self.now, time_of(events, end - 1))
        self.timeline.now = max(self.timeline.now, self.now)
        return Fed(events, start, end)

    def _fold(self, end: int) -> None:
        """Feed the views' models the events from ``seen`` to ``end``; the marks they add
        go into the history's index if no run folded them before."""
        start = self.seen
        if end <= start:
            return
        story = self.timeline.story
        moments = len(story.moments)
        results = fold.feed(self.timeline, self.ledger, self.sim.events, start, end)
        self.seen = end
        self.made.marks.take(start, end, [m.index for m in story.moments[moments:]], results)

    def feed(self, budget: Callable[[], bool]) -> bool:
        """Feed the views (of a run off screen) every event the engine made, until
        ``budget()`` says stop; True once all are fed, with the engine's state."""
        while self.seen < len(self.sim.events):
            self.sync(self.seen + SLICE * 8)
            if budget():
                return False
        self.sync()
        return True

    def whole_instants(self, upto: int, *, finished: bool = False) -> int:
        """A bound for ``sync`` at or below ``upto`` that ends between two instants: the
        lanes view keeps the columns before the playhead as final, so it must never see half
        an instant. While the engine runs, the instant of event ``upto - 1`` may still grow
        and is left out; once it has finished, that instant is taken whole."""
        events = self.sim.events
        upto = min(upto, len(events))
        if upto <= self.seen:
            return self.seen
        last = time_of(events, upto - 1)
        if finished:
            while upto < len(events) and time_of(events, upto) == last:
                upto += 1
            return upto
        lo, hi = self.seen, upto - 1
        while lo < hi:  # the first event at ``last``, by bisection
            mid = (lo + hi) // 2
            if time_of(events, mid) < last:
                lo = mid + 1
            else:
                hi = mid
        return lo

    def show(
        self, t: float, budget: Callable[[], bool] | None = None, *, whole: bool = True
    ) -> Sequence[Event]:
        """Feed the views every event up to ``t`` (the engine has made them all: it stands
        past ``t``, or has stopped) and put the playhead at ``t``; under ``budget``, feed
        whole instants (or, for a run not on screen yet, any slice: ``whole=False``) until
        it runs out and stop the playhead at the last one fed."""
        events = self.sim.events
        count, start = len(events), self.seen
        end = bisect_right(Times(events), t, start, count)
        if budget is not None:
            upto = start
            while upto < end:  # at least one slice: a frame always moves on
                upto = min(end, upto + SLICE)
                if whole:
                    upto = self._instant_end(upto, end)
                self.sync(upto)
                if budget():
                    break
            if upto < end:  # out of budget: the playhead waits at the last instant fed
                self.timeline.now = max(self.timeline.now, self.now)
                return Fed(events, start, upto)
        return self._show_upto(start, end, count, t)

    def show_upto(self, upto: int) -> Sequence[Event]:
        """Feed the views the engine's events up to ``upto`` (made already); the playhead
        goes to the last one's time."""
        events = self.sim.events
        count = len(events)
        end = max(self.seen, min(upto, count))
        if end == self.seen:
            return self.sync() if end == count else Fed(events, end, end)  # its state: ended?
        return self._show_upto(self.seen, end, count, time_of(events, end - 1))

    def _show_upto(self, start: int, end: int, count: int, t: float) -> Sequence[Event]:
        """Events ``start`` (fed already from there) to ``end`` fed, the playhead at ``t``."""
        sim = self.sim
        self.sync(end)
        done = end == count and (sim.finished or sim.stalled)
        if done:
            self.finished, self.stalled = sim.finished, sim.stalled
        # A finished run ends where its engine stopped; a stalled one lets time pass.
        self.now = max(self.now, sim.now if sim.finished and done else t)
        self.timeline.now = max(self.timeline.now, self.now)
        return Fed(sim.events, start, end)

    def _instant_end(self, upto: int, end: int) -> int:
        """``upto`` moved on to the end of the instant of event ``upto - 1`` (at most ``end``)."""
        events = self.sim.events
        last = time_of(events, upto - 1)
        while upto < end and time_of(events, upto) == last:
            upto += 1
        return upto

    def ahead(self) -> bool:
        """Whether the engine stands past the playhead: it ran ahead (``look_ahead``), or
        this run shows again, from the start, a history its engine already made."""
        sim = self.sim
        if not replayable(sim):  # a live run: the program itself is what runs ahead
            return False
        return len(sim.events) > self.seen or sim.now > self.now

    def replay_to(self, upto: int, t: float | None = None) -> Run:
        """A new run over this run's engine, its views fed the first ``upto`` events (made
        already) from the nearest checkpoint, never from the start; the playhead at ``t``
        (default: the time of the last of them)."""
        events = self.sim.events
        upto = max(0, min(upto, len(events)))
        run = Run(self.sim, self.made)
        checkpoints = self.made.checkpoints
        checkpoint = checkpoints.before(upto)
        if checkpoint is not None:
            run.timeline, run.ledger = checkpoint.restore()
            run.seen, run.now = checkpoint.seen, checkpoint.now
        spacing = kept.SPACING
        near = (upto - 1) // spacing * spacing  # where the next step back finds one
        if near > run.seen and upto - run.seen > spacing:
            run.sync(near)
            checkpoints.add_near(near, time_of(events, near - 1), run.timeline, run.ledger)
        when = t if t is not None else (time_of(events, upto - 1) if upto else 0.0)
        run._show_upto(run.seen, upto, len(events), when)
        return run

    def replay_from_start(self) -> Run:
        """A new run over this run's engine, its views fed nothing yet: the same history
        shown again from the start, with no engine work (see ``replayable``)."""
        return Run(self.sim, self.made)

    @property
    def behind(self) -> int:
        """Events the engine has produced that the views have not been fed yet."""
        return len(self.sim.events) - self.seen

    def advance(self, to: float, budget: Callable[[], bool] | None = None) -> bool:
        """Run the engine towards ``to`` until ``budget()`` says stop; True once there
        (at once if it stands there already, having run ahead)."""
        return self.made.advance(to, budget)

    def reach(self, to: float, budget: Callable[[], bool] | None = None) -> bool:
        """The engine to ``to``, then the views (``show``), under ``budget``; True once
        both are there. Short of it, the views have every event the engine made."""
        if not replayable(self.sim):  # a live run: its views take what it made
            done = self.advance(to, budget)
            self.sync(None if done else len(self.sim.events))
            return done
        if not self.advance(to, budget):
            self.sync(len(self.sim.events))
            return False
        self.show(to, budget, whole=False)  # a run being made, not on screen yet
        events = self.sim.events
        return self.seen == len(events) or time_of(events, self.seen) > to

    def run_on(self, budget: Callable[[], bool] | None = None) -> bool:
        """Run the engine towards the end until ``budget()`` says stop; True once finished.
        The same callbacks in the same order as ``sim.run()``."""
        sim = self.sim
        while not sim.finished:
            if budget is not None and budget():
                return False
            with self.lock:
                for _ in range(SLICE):
                    if sim.finished:
                        break
                    self.step()
        return True

    def step(self) -> None:
        """One step of the engine; a stalled run is ended there as hung. The engine is
        first brought to the playhead if time has passed it by (a stalled run shown on)."""
        sim = self.sim
        with self.lock:
            self.catch_up()
            stalled = sim.stalled
            self.made.step()
            if stalled and sim.finished:
                self.ended_at = sim.now

    def catch_up(self) -> None:
        """Bring an engine that time has passed by (a stalled run, shown on) to the
        playhead, as ``sim.advance`` would have; call with ``lock`` held."""
        sim = self.sim
        if not sim.finished and sim.now < self.now and not sim.due(self.now):
            sim.advance(self.now)


class Times(Sequence[float]):
    """The times of the first ``count`` events (default: all) as a sequence, for ``bisect``
    (they never decrease)."""

    def __init__(self, events: Sequence[Event], count: int | None = None) -> None:
        self.events = events
        self.size = count

    def __len__(self) -> int:
        return len(self.events) if self.size is None else self.size

    def __getitem__(self, index: Any) -> Any:
        return time_of(self.events, index)


def replayable(sim: SimulationLike) -> bool:
    """A pure simulation, with no program outside it to close (a live run has one): its
    history depends only on its inputs, so the engine may run ahead of the view, and the
    history it made may be shown again from any point without running it again."""
    return not hasattr(sim, "close")


def time_budget(seconds: float, clock: Callable[[], float]) -> Callable[[], bool]:
    """A budget that runs out ``seconds`` of wall time from now."""
    deadline = clock() + seconds
    return lambda: clock() > deadline


def event_budget(run: Run, events: int) -> Callable[[], bool]:
    """A budget that runs out once the engine has produced ``events`` more events."""
    stop = len(run.sim.events) + events
    return lambda: len(run.sim.events) >= stop
