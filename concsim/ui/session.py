"""A session: one scenario under one variant and seed, its simulation, timeline and ledger.

The view never touches the engine directly; it asks the session to advance, step, step back,
rewind or inject, and reads the timeline and ledger the session keeps in step with the
events. Stepping back re-simulates from the seed plus the recorded injections: the engine is
deterministic, so the new run repeats the old one exactly up to the point asked for.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol

from concsim.events import Event, FaultRefused, RunEnded
from concsim.replay import Replay
from concsim.scenario.model import Scenario
from concsim.ui.ledger import Ledger
from concsim.ui.timeline import Timeline


class SimulationLike(Protocol):
    """The part of ``concsim.engine.Simulation`` the app uses."""

    @property
    def now(self) -> float: ...
    @property
    def events(self) -> list[Event]: ...
    @property
    def finished(self) -> bool: ...
    @property
    def injections(self) -> tuple[Any, ...]: ...
    @property
    def stalled(self) -> bool: ...

    def next_time(self) -> float | None: ...
    def step(self) -> list[Event]: ...
    def run(self) -> list[Event]: ...
    def advance(self, to: float) -> list[Event]: ...
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
    ) -> None:
        self.scenario = scenario
        self.source = source
        self.variant = variant
        self.seed = scenario.seed if seed is None else seed
        self.factory = factory
        self.generation = 0  # bumped whenever the history is rebuilt (rewind, variant, seed)
        # Where a stalled run was ended by hand: the end is part of the session (see replay).
        self.ended_at: float | None = None
        self._start(tuple(injections))

    def _start(self, injections: tuple[Any, ...]) -> None:
        self.ended_at = None
        self.sim = self.factory(self.scenario, self.variant, self.seed, injections)
        self.timeline = Timeline()
        self.ledger = Ledger()
        self.seen = 0
        self.generation += 1
        self.sim.advance(0.0)  # what happens at t = 0 (lanes created, tasks submitted)
        self.sync()

    def sync(self) -> list[Event]:
        """Feed the events the simulation produced since the last call to the views' models."""
        new = self.sim.events[self.seen :]
        self.seen = len(self.sim.events)
        self.timeline.feed(new)
        self.ledger.feed(new)
        self.timeline.now = max(self.timeline.now, self.sim.now)
        return new

    @property
    def events(self) -> list[Event]:
        return self.sim.events

    @property
    def now(self) -> float:
        return self.sim.now

    @property
    def finished(self) -> bool:
        return self.sim.finished

    @property
    def injections(self) -> tuple[Any, ...]:
        return tuple(self.sim.injections)

    @property
    def stalled(self) -> bool:
        """Deadlocked or hung: nothing more happens unless a fault is injected."""
        return self.sim.stalled

    @property
    def elapsed(self) -> float | None:
        return self.timeline.elapsed

    def advance_to(self, t: float) -> list[Event]:
        if self.finished or t <= self.now:
            return []
        self.sim.advance(t)
        return self.sync()

    def step(self) -> list[Event]:
        if self.finished:
            return []
        stalled = self.stalled
        self.sim.step()
        return self._ended(stalled)

    def run_to_end(self) -> list[Event]:
        """Everything that is left; a stalled program is ended as hung, as ``run()`` does."""
        if self.finished:
            return []
        self.sim.run()
        return self._ended(stalled=True)

    def _ended(self, stalled: bool) -> list[Event]:
        # A run that stalled and was ended by hand ends where the clock then stood, which
        # only this session knows: the replay records it (Replay.ended_at).
        if stalled and self.finished:
            self.ended_at = self.now
        return self.sync()

    def step_back(self) -> bool:
        """Back to just before the latest group of events; False if at the start already."""
        events = self.events
        if not events:
            return False
        latest = events[-1].t
        for event in reversed(events):
            if event.t < latest:
                self._start(self.injections)
                self.advance_to(event.t)
                return True
        return False

    def rewind(self) -> None:
        """Back to t = 0, keeping the injections: playing again repeats them."""
        self._start(self.injections)

    def restart(self, seed: int) -> None:
        """A fresh run with another seed and no injections."""
        self.seed = seed
        self._start(())

    def switch_variant(self, variant: str | None) -> None:
        self.variant = variant
        self._start(())

    def inject(self, fault: str, target: str, error: str = "RuntimeError") -> list[Event]:
        """Inject now; a refused fault is taken back out (so neither the history nor a saved
        replay holds it) and the refusal is returned for the view to show."""
        kept = self.injections
        self.sim.inject(fault, target, error)
        new = self.sync()
        if any(isinstance(event, FaultRefused) for event in new):
            self._resimulate(kept, self.now)
        return new

    def remove_injection(self, index: int) -> None:
        """Take back one injected fault: the run is re-simulated to now without it."""
        kept = self.injections[:index] + self.injections[index + 1 :]
        self._resimulate(kept, self.now)

    def _resimulate(self, injections: tuple[Any, ...], now: float) -> None:
        self._start(injections)
        self.advance_to(now)

    def replay(self) -> Replay:
        return Replay(self.source, self.seed, self.variant, self.injections, ended_at=self.ended_at)


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
        while not sim.finished and len(sim.events) < budget:
            sim.step()
        ends = [event for event in sim.events[-3:] if isinstance(event, RunEnded)]
        found[name] = ends[-1].elapsed if ends else None
    return found
