"""Work too long for one frame, done on a worker thread: running to the end, showing a
history again, simulating again, and running the engine ahead of the playhead.

Most jobs make a private run the screen cannot see yet (step back, rewind, end and a fault
on a big simulated run, another variant or seed): the worker runs its engine and feeds its
views, and the screen adopts the whole run when the job is done. Running a live program to
its end drives the session's own run instead: the worker reports how many events exist so
far, and the screen feeds them to its views a slice at a time. While a big run plays,
``look_ahead`` runs its engine ahead of the playhead. Every piece of engine work goes
through the run's ``Made``, under its lock, in the same calls and order as the synchronous
path, so the events are the same; and the workers sleep through the view's claims
(``concsim.ui.turns``), so keys are answered while they work.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum

from textual.message import Message

from concsim.durations import format_time
from concsim.scenario.model import Scenario
from concsim.ui.history import Run, event_budget, time_budget
from concsim.ui.session import SimulationFactory, elapsed_by_variant
from concsim.ui.turns import Turns

INLINE = 1_000
"""Events a key may make on the UI thread; more and the work goes to a job."""
INLINE_SECONDS = 0.004
"""Wall time a key may spend on the engine or on feeding the views on the UI thread in a
run past ``INLINE`` events; more and the work goes on in a job (so that the key's frame
still comes within the 50 ms a key may take)."""
REPORT = 2_000
"""Events between two progress reports of a job (the slice the screen feeds per message)."""


class JobKind(Enum):
    """What a job is doing, as the status bar says it."""

    END = "running to the end"
    BACK = "stepping back"
    SEEK = "seeking"
    REWIND = "rewinding"
    VARIANT = "switching variant"
    SEED = "restarting"
    FAULT = "running again up to the fault"
    REFUSED = "taking the refused fault back out"
    BRANCH = "switching branch"
    CHOICE = "running again with your choice"


@dataclass(eq=False)
class Job:
    """One piece of background work on ``run``: to ``target`` seconds, or to the end."""

    kind: JobKind
    run: Run | None  # None until the worker has built it with ``make``
    target: float | None
    expected: float | None = None  # the run's expected length, for a percentage
    note: str | None = None  # said when the job is done
    reached: float = 0.0  # virtual time the engine has reached (written by the worker)
    drawn: float | None = None  # share of the events fed to a private run's views, once made
    error: str | None = None
    make: Callable[[], Run] | None = None
    then: Callable[[Run], None] | None = None  # given the run instead of adopting it
    turns: Turns = field(default_factory=Turns)  # the view's claims, honoured between slices
    # A private run is made off screen and adopted once done; otherwise ``run`` is the run
    # on screen (running a live program to its end), fed by the screen as reports come.
    private: bool = True
    cancelled: threading.Event = field(default_factory=threading.Event)

    @property
    def progress(self) -> str:
        """``running to the end 45%`` or ``stepping back, t 1.2s of 2.5s``."""
        if self.drawn is not None:
            return f"{self.kind.value}, drawing {min(0.99, self.drawn):.0%}"
        goal = self.target if self.target is not None else self.expected
        if goal:
            share = min(0.99, self.reached / goal)
            return f"{self.kind.value} {share:.0%}"
        return f"{self.kind.value}, t {format_time(self.reached)}"


class JobProgressed(Message):
    """The job's engine has made ``upto`` events so far."""

    def __init__(self, job: Job, upto: int) -> None:
        self.job = job
        self.upto = upto
        super().__init__()


class JobDone(Message):
    """The job has finished (or failed: ``job.error``); its run is complete up to its target."""

    def __init__(self, job: Job) -> None:
        self.job = job
        super().__init__()


class VariantsMeasured(Message):
    """Each variant's length, measured on a worker thread for ``seed``."""

    def __init__(self, seed: int, elapsed: dict[str | None, float | None]) -> None:
        self.seed = seed
        self.elapsed = elapsed
        super().__init__()


def drive(job: Job, post: Callable[[Message], object]) -> None:
    """The worker's body: run the engine to the job's target, reporting every ``REPORT``
    events; a private run (a re-simulation) is fed to its views here as well."""
    private = job.private
    try:
        if job.run is None:
            assert job.make is not None
            job.turns.give_way()  # the key that started the job is answered first
            job.run = job.make()
        run = job.run
        while not job.cancelled.is_set():
            # A private run's views are fed off screen: report progress every 0.1 s.
            report = time_budget(0.1, time.perf_counter) if private else None
            stop = _stop(job, report or event_budget(run, REPORT))
            if job.target is None:
                done = run.run_on(stop) and (not private or run.feed(stop))
            elif private:
                done = run.reach(job.target, stop)  # the engine, then the views, to target
            else:
                done = run.advance(job.target, stop)
            # Where the engine stands (to the end), or the views (to a target).
            job.reached = run.sim.now if job.target is None else min(run.sim.now, run.now)
            if private and run.sim.finished and job.target is None:
                job.drawn = run.seen / max(1, len(run.sim.events))
            if done:
                break
            post(JobProgressed(job, len(run.sim.events)))
    except Exception as error:  # an engine error is reported on screen, never a traceback
        job.error = f"{type(error).__name__}: {error}"
    if not job.cancelled.is_set():
        post(JobDone(job))


def inline_budget(run: Run, big: bool) -> Callable[[], bool]:
    """What a key may do on the UI thread: ``INLINE`` events, and in a ``big`` run (one
    past ``INLINE`` events already) no more than ``INLINE_SECONDS`` either. A small run
    never depends on the wall clock, so it behaves exactly as if all were synchronous."""
    events = event_budget(run, INLINE)
    if not big:
        return events
    late = time_budget(INLINE_SECONDS, time.perf_counter)
    return lambda: events() or late()


def _stop(job: Job, budget: Callable[[], bool]) -> Callable[[], bool]:
    def stop() -> bool:
        job.turns.give_way()
        return job.cancelled.is_set() or budget()

    return stop


AHEAD = 300_000
"""Events the engine may make ahead of the playhead before it waits for the view."""


@dataclass(eq=False)
class Lookahead:
    """A worker running ``run``'s engine ahead of the playhead while the run plays: the run
    is deterministic, so what it makes now is what the view would have asked for later,
    and playback only moves the playhead over events already made."""

    run: Run
    turns: Turns = field(default_factory=Turns)
    stopped: threading.Event = field(default_factory=threading.Event)
    done: threading.Event = field(default_factory=threading.Event)  # the worker has ended
    error: str | None = None


def look_ahead(ahead: Lookahead) -> None:
    """The worker's body: the engine on, a slice at a time, until it finishes, stalls (a
    stalled run is ended only by a key), or is ``AHEAD`` events past the view."""
    run, stopped = ahead.run, ahead.stopped

    def far() -> bool:
        return len(run.sim.events) - run.seen >= AHEAD

    try:
        while run.made.run_ahead(stopped, far):
            ahead.turns.give_way()
            if far():
                stopped.wait(0.05)
    except Exception as error:  # shown when the view reaches it: nothing is lost
        ahead.error = f"{type(error).__name__}: {error}"
    finally:
        ahead.done.set()


def measure(
    scenario: Scenario,
    seed: int,
    factory: SimulationFactory,
    post: Callable[[Message], object],
) -> None:
    """The worker's body for the variants bar: every variant's length for ``seed``."""
    post(VariantsMeasured(seed, elapsed_by_variant(scenario, seed, factory)))
