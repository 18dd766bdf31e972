"""A session: one scenario under one variant and seed, its simulation, timeline and ledger.

The view never touches the engine directly; it asks the session to advance, step or step
back one event, seek, rewind or inject, and reads the timeline and ledger the session keeps
in step with the events. The engine is deterministic, so a history is a function of the seed
and the recorded injections: stepping back or seeking back shows the events the engine
already made again, from the nearest checkpoint of the views (``ui.checkpoints``) up to the
point asked for (a live run, which cannot, is run again instead), and the engine may run
ahead of the playhead while the run plays (``jobs.look_ahead``).
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol

from concsim.events import Event, FaultInjected, FaultRefused, RunEnded
from concsim.replay import Replay
from concsim.scenario.model import Scenario
from concsim.ui.branches import Branches
from concsim.ui.history import Run, Times, replayable
from concsim.ui.ledger import Ledger
from concsim.ui.timeline import Timeline


class SimulationLike(Protocol):
    """The part of ``concsim.engine.Simulation`` the app uses."""

    @property
    def now(self) -> float: ...
    @property
    def events(self) -> Sequence[Event]: ...
    @property
    def finished(self) -> bool: ...
    @property
    def injections(self) -> tuple[Any, ...]: ...
    @property
    def stalled(self) -> bool: ...

    def next_time(self) -> float | None: ...
    def due(self, to: float) -> bool: ...
    def step(self) -> list[Event]: ...
    def run(self) -> Sequence[Event]: ...
    def advance(self, to: float, work: int | None = ...) -> list[Event]: ...
    def inject(self, fault: str, target: str, error: str = ...) -> list[Event]: ...


SimulationFactory = Callable[[Scenario, str | None, int | None, Sequence[Any]], SimulationLike]


def engine_factory(
    scenario: Scenario, variant: str | None, seed: int | None, injections: Sequence[Any]
) -> SimulationLike:
    from concsim.engine import Simulation

    sim: SimulationLike = Simulation(
        scenario, variant=variant, seed=seed, injections=tuple(injections)
    )
    return sim


def budgeted_factory(max_events: int) -> SimulationFactory:
    """``engine_factory`` with another budget of events (``--max-events``)."""

    def factory(
        scenario: Scenario, variant: str | None, seed: int | None, injections: Sequence[Any]
    ) -> SimulationLike:
        from concsim.engine import Simulation

        sim: SimulationLike = Simulation(
            scenario,
            variant=variant,
            seed=seed,
            injections=tuple(injections),
            max_events=max_events,
        )
        return sim

    return factory


class Session:
    """The running simulation and everything derived from its events."""

    def __init__(
        self,
        scenario: Scenario,
        *,
        source: str,
        variant: str | None = None,
        seed: int | None = None,
        injections: Sequence[Any] = (),
        factory: SimulationFactory = engine_factory,
        choices: Mapping[int, str] | None = None,
        draws: Mapping[int, float] | None = None,
    ) -> None:
        self.scenario = scenario
        self.source = source
        self.variant = variant
        self.seed = scenario.seed if seed is None else seed
        self.factory = factory
        self.choices: dict[int, str] = dict(choices or {})
        """Who goes first at decision points, by number: the evil scheduler's picks."""
        self.draws: dict[int, float] | None = None if draws is None else dict(draws)
        """The run's draws as a schedule (a shrunk run), else None: the seed's own."""
        self.generation = 0  # bumped whenever the history is rebuilt (rewind, variant, seed)
        self._refused: tuple[object, tuple[Any, ...]] | None = None
        """An engine still holding a refused fault, and the injections kept without it,
        while the history is made again without it (on a worker, for a big run)."""
        self.run = self.fresh(tuple(injections))
        self.run.reach(0.0)  # what happens at t = 0 (lanes created, tasks submitted)
        self.adopt(self.run)
        self._branches = Branches.start(injections)
        self._branched = (self.variant, self.seed)

    @property
    def branches(self) -> Branches:
        """This variant and seed's timelines (``b``); another variant or seed starts anew."""
        if self._branched != (self.variant, self.seed):
            self._branches = Branches.start(self.injections)
            self._branched = (self.variant, self.seed)
        return self._branches

    @branches.setter
    def branches(self, branches: Branches) -> None:
        self._branches, self._branched = branches, (self.variant, self.seed)

    def fresh(self, injections: Sequence[Any]) -> Run:
        """A new run of this session's scenario, variant and seed (and its choices and
        draws), not started yet."""
        sim = self.factory(self.scenario, self.variant, self.seed, tuple(injections))
        world = getattr(sim, "world", None)  # an engine; a live run has no decisions to make
        if world is not None:
            world.choices.update(self.choices)
            if self.draws is not None:
                from concsim.replay import scheduled_draws

                world.rng = scheduled_draws(self.seed, self.draws)
        return Run(sim)

    def forget_schedule(self) -> None:
        """A new seed or variant is a new run: its decisions are its own again."""
        self.choices = {}
        self.draws = None

    def adopt(self, run: Run) -> None:
        """Make ``run`` the session's history (a rewind, a re-simulation, a new variant),
        its views fed up to where it stands (``Run.reach``)."""
        if run is not self.run:
            self.close()  # the run it replaces may hold a live program
        if self._refused is not None and self._refused[0] is not run.sim:
            self._refused = None
        self.run = run
        self.generation += 1

    @property
    def estimator(self) -> SimulationFactory:
        """What measures each variant's time: the simulator, also beside a live run."""
        factory: SimulationFactory = getattr(self.factory, "estimates", self.factory)
        return factory

    def close(self) -> None:
        """End the current run if it holds anything outside (a live program)."""
        close = getattr(self.run.sim, "close", None)
        if close is not None:
            close()

    def sync(self) -> Sequence[Event]:
        """Feed the events the simulation produced since the last call to the views' models."""
        return self.run.sync()

    @property
    def sim(self) -> SimulationLike:
        return self.run.sim

    @property
    def timeline(self) -> Timeline:
        return self.run.timeline

    @property
    def ledger(self) -> Ledger:
        return self.run.ledger

    @property
    def events(self) -> Sequence[Event]:
        """The engine's event list; only the first ``seen`` are the views' to read."""
        return self.run.sim.events

    @property
    def seen(self) -> int:
        return self.run.seen

    @property
    def now(self) -> float:
        return self.run.now

    @property
    def finished(self) -> bool:
        return self.run.finished

    @property
    def injections(self) -> tuple[Any, ...]:
        return tuple(self.sim.injections)

    @property
    def kept(self) -> tuple[Any, ...]:
        """The injections the history keeps: those of the engine, less a refused fault it
        still holds while the history is made again without it."""
        refused = self._refused
        if refused is not None and refused[0] is self.sim:
            return refused[1]
        return self.injections

    @property
    def taking_back(self) -> bool:
        """Whether the engine still holds a refused fault being taken back out."""
        return self._refused is not None and self._refused[0] is self.sim

    @property
    def stalled(self) -> bool:
        """Deadlocked or hung: nothing more happens unless a fault is injected."""
        return self.run.stalled

    @property
    def elapsed(self) -> float | None:
        return self.timeline.elapsed

    def advance_to(self, t: float, budget: Callable[[], bool] | None = None) -> Sequence[Event]:
        """Towards ``t``, stopping early (short of ``t``) when ``budget()`` says so. An
        engine that ran ahead only has its events shown."""
        if self.finished or t <= self.now:
            return []
        run = self.run
        if run.advance(t, budget) and replayable(run.sim):
            return run.show(t, budget)
        return self.sync()

    def made(self, t: float) -> bool:
        """Whether the engine has made every event up to ``t`` (it ran ahead)."""
        sim = self.sim
        return sim.finished or sim.now > t

    def show_made(self, t: float, budget: Callable[[], bool] | None = None) -> Sequence[Event]:
        """Towards ``t`` over the events the engine has made so far (a worker runs it
        ahead): the playhead stops short of the instant the engine is working on."""
        sim = self.sim
        if not self.made(t):
            t = sim.now - 1e-6  # one microsecond short: virtual time counts whole ones
        if self.finished or t <= self.now:
            return []
        return self.run.show(t, budget)

    def step(self) -> Sequence[Event]:
        """One event on: the next event the engine made (ahead, or shown again), or its
        next step made now and its first event shown; a stalled run is ended as hung."""
        if self.finished:
            return []
        run = self.run
        if not (replayable(run.sim) and len(run.sim.events) > run.seen):
            stalled = run.sim.stalled
            run.step()  # the engine's next step (``sim.step()``), shown one event at a time
            if stalled or not replayable(run.sim):
                # A live run shows what its program did; a stalled one, ended as hung here,
                # shows its whole ending at once.
                return self.sync()
        return run.show_upto(run.seen + 1)

    def run_to_end(self) -> Sequence[Event]:
        """Everything that is left; a stalled program is ended as hung, as ``run()`` does."""
        if self.finished:
            return []
        self.run.run_on()
        return self.sync()

    @property
    def ended_at(self) -> float | None:
        """Where a stalled run was ended by hand (see ``Replay.ended_at``)."""
        return self.run.ended_at

    def step_back_target(self, latest: float | None = None) -> float | None:
        """The time of the group of events before the one at ``latest`` (default: the
        newest), or None at the start."""
        events, seen = self.events, self.seen
        if not seen:
            return None
        latest = events[seen - 1].t if latest is None else latest
        index = bisect_left(Times(events, seen), latest)  # the first at ``latest`` or later
        return events[index - 1].t if index > 0 else None

    def step_back(self) -> bool:
        """Back one event (a live run: to the instant before the latest); False if at the
        start already."""
        if not replayable(self.sim):
            target = self.step_back_target()
            if target is None:
                return False
            run = self.again()
            run.reach(target)
            self.adopt(run)
            return True
        if not self.seen:
            return False
        self.show_event(self.seen - 1)
        return True

    def show_event(self, upto: int, t: float | None = None) -> None:
        """The playhead after the first ``upto`` events the engine made (at ``t``, or at
        the last one's time): from the nearest checkpoint, never from the start."""
        self.adopt(self.run.replay_to(upto, t))

    def seek(self, t: float, budget: Callable[[], bool] | None = None) -> Sequence[Event]:
        """The playhead to ``t``: back over the history made (at once, from a checkpoint),
        or on, as far as ``budget`` allows. A live run cannot be shown back in time."""
        if t >= self.now or not replayable(self.sim):
            return self.advance_to(t, budget)
        self.show_event(bisect_right(Times(self.events, self.seen), t), t)
        return []

    def again(self) -> Run:
        """A new run of this history from the start (same injections): over the same
        engine when it is a pure simulation (nothing to run again), else a fresh one."""
        if replayable(self.sim) and not self.taking_back:
            return self.run.replay_from_start()
        return self.fresh(self.kept)

    def rewind(self) -> None:
        """Back to t = 0, keeping the injections: playing again repeats them."""
        run = self.again()
        run.reach(0.0)
        self.adopt(run)

    def restart(self, seed: int) -> None:
        """A fresh run with another seed and no injections."""
        self.seed = seed
        self.forget_schedule()
        self._start(())

    def cannot_run(self, variant: str | None) -> str:
        """Why ``variant`` cannot run here ("" if it can): a live run needs the CPython its
        machine.python names (a simulation runs any version)."""
        if self.estimator is self.factory:
            return ""
        from concsim.live.interpreters import interpreter_for

        python = self.scenario.variant(variant).machine.python
        if interpreter_for(python) is not None:
            return ""
        shown = variant or "as written"
        return f"Skipped variant {shown}: it runs on CPython {python.value}, not on this machine."

    def switch_variant(self, variant: str | None) -> None:
        self.variant = variant
        self.forget_schedule()
        self._start(())

    def _start(self, injections: Sequence[Any]) -> None:
        run = self.fresh(injections)
        run.reach(0.0)
        self.adopt(run)

    def inject(
        self,
        fault: str,
        target: str,
        error: str = "RuntimeError",
        into: Run | None = None,
        *,
        redo: Callable[[tuple[Any, ...], float], None] | None = None,
    ) -> Sequence[Event]:
        """Inject now; a refused fault is taken back out (so neither the history nor a saved
        replay holds it) and the refusal is returned for the view to show.

        The fault goes into ``into`` (a run of this history made again up to now, which
        becomes the session's run) or the session's run; an engine that ran past now is
        first run again up to now here. A fault refused by the session's own engine is
        taken back out by simulating the history again without it, up to now: by
        ``redo(injections, now)`` if given (the view does it off its thread for a big run),
        else here."""
        kept, run = self.kept, into or self.run
        with run.lock:
            if run.ahead():
                run = self.fresh(kept)  # the engine is past now: run it again up to now
                run.advance(self.now)
                run.sync()
            run.catch_up()
            run.made.inject(fault, target, error)
        new = run.sync()
        if is_refused(new, fault, target):
            if run is self.run:
                self._refused = (run.sim, kept)
                (redo or self._resimulate)(kept, self.now)
            return new  # a run made for the fault is dropped: the history stays as it was
        if run is not self.run:
            self.adopt(run)
        return new

    def remove_injection(self, index: int) -> None:
        """Take back one injected fault: the run is re-simulated to now without it."""
        kept = self.injections[:index] + self.injections[index + 1 :]
        self._resimulate(kept, self.now)

    def _resimulate(self, injections: tuple[Any, ...], now: float) -> None:
        self._start(injections)
        self.advance_to(now)

    def replay(self) -> Replay:
        branches = self.branches
        kept = self.kept
        branches.keep(kept)
        return Replay(
            self.source,
            self.seed,
            self.variant,
            kept,
            ended_at=self.ended_at,
            branches=tuple(branches.items) if branches.branched else (),
            branch=branches.current.name if branches.branched else None,
            choices=dict(self.choices),
            draws=self.draws,
        )


def is_refused(new: Sequence[Event], fault: str, target: str) -> bool:
    """Whether the fault just injected was refused: its refusal follows it at once. A later
    refusal among the same events is of a fault the scenario aimed after an end it caused."""
    for k, event in enumerate(new):
        if isinstance(event, FaultInjected) and (event.fault, event.target) == (fault, target):
            after = new[k + 1] if k + 1 < len(new) else None
            return isinstance(after, FaultRefused) and (after.fault, after.target) == (
                fault,
                target,
            )
    return False


def elapsed_by_variant(
    scenario: Scenario,
    seed: int | None,
    factory: SimulationFactory = engine_factory,
    budget: int = 50_000,
) -> dict[str | None, float | None]:
    """Each variant's virtual run time with no injections (None: still running after
    ``budget`` events, too long to compare at a glance)."""
    found: dict[str | None, float | None] = {}
    for name in (None, *scenario.variant_names):
        sim = factory(scenario, name, seed, ())
        step = getattr(sim, "step_count", sim.step)  # the engine's: its events left as rows
        while not sim.finished and len(sim.events) < budget:
            step()
        ends = [event for event in sim.events[-3:] if isinstance(event, RunEnded)]
        found[name] = ends[-1].elapsed if ends else None
    return found
