"""A run's random draws as a schedule: recorded from a seed, or replayed with deviations.

Every duration the seed varies (an I/O wait under ``machine.jitter``, a CPU step under
``machine.cpu_jitter``) is one draw, ``random.Random.uniform(-jitter, jitter)``, which is
``a + (b - a) * random()``. A draw of 0.5 varies nothing: ``-j + 2j * 0.5`` is exactly 0.
Every tie the seed breaks (``machine.ties: seeded``: which waiting thread takes the GIL or
a lock) is one draw too, and a draw of 0.5 picks the first waiter, the fixed order
(concsim.engine.threads.ties.pick). A schedule maps the draws that deviate, by their index
in the run, to their ``random()``; every other draw is 0.5, the run as written.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from concsim.durations import format_time
from concsim.engine import Injection, Simulation
from concsim.engine.threads.ties import AS_WRITTEN, Chance, Decision, pick
from concsim.events import Event, LaneStateChanged, SharedWritten
from concsim.scenario.model import Scenario


class Drawn(StrEnum):
    """What a draw decided."""

    DURATION = "duration"  # how long a step took
    TIE = "tie"  # which waiting thread went first


@dataclass(frozen=True, slots=True)
class Draw:
    """One varied duration: its place in the run and how far it went."""

    index: int
    low: float
    high: float
    value: float
    """What ``random()`` gave (``AS_WRITTEN``: no deviation)."""
    events_before: int
    """How many events the run had made when the duration was drawn."""
    drawn: Drawn = Drawn.DURATION

    @property
    def deviation(self) -> float:
        """The duration's change, as a fraction of it: ``+0.041`` is 4.1% longer."""
        return self.low + (self.high - self.low) * self.value


class Draws(Chance):
    """The run's random numbers: from its seed, or from a schedule; every draw recorded."""

    def __init__(self, seed: int, schedule: Mapping[int, float] | None = None) -> None:
        super().__init__(seed)
        self.schedule = schedule
        self.drawn: list[Draw] = []
        self.events: Sequence[Event] = ()

    def uniform(self, a: float, b: float) -> float:
        """``random.Random.uniform``, CPython's own formula, so a seed's draws are the same
        numbers the engine's own generator gives."""
        index = len(self.drawn)
        value = self.random() if self.schedule is None else self.schedule.get(index, AS_WRITTEN)
        self.drawn.append(Draw(index, a, b, value, len(self.events)))
        return a + (b - a) * value

    def tie(self, count: int) -> int:
        """``Chance.tie``: one of ``count`` waiters, from the seed or the schedule."""
        index = len(self.drawn)
        value = self.random() if self.schedule is None else self.schedule.get(index, AS_WRITTEN)
        self.drawn.append(Draw(index, 0.0, 1.0, value, len(self.events), Drawn.TIE))
        return pick(value, count)


@dataclass(frozen=True, slots=True)
class Simulated:
    """A run to its end: its events, its draws, and its decision points."""

    events: Sequence[Event]
    drawn: list[Draw]
    decisions: list[Decision]


def simulate(
    scenario: Scenario,
    variant: str | None,
    injections: Sequence[Injection],
    seed: int,
    schedule: Mapping[int, float] | None = None,
) -> Simulated:
    """One run to its end with its draws recorded (from the seed, or from ``schedule``)."""
    draws = Draws(seed, schedule)
    sim = Simulation(scenario, variant=variant, seed=seed, injections=injections, rng=draws)
    draws.events = sim.events
    return Simulated(sim.run(), draws.drawn, sim.world.decisions)


def tie_in_words(decision: Decision) -> str:
    """``thread-3 took the GIL from thread-1 before thread-2, who had waited longer``."""
    return f"{decision.winner} {decision.took}"


def deviations(drawn: Sequence[Draw]) -> dict[int, float]:
    """The draws of a run that varied their duration."""
    return {draw.index: draw.value for draw in drawn if draw.value != AS_WRITTEN}


def in_words(run: Simulated, kept: Mapping[int, Any]) -> list[str]:
    """Each kept deviation, as the step it varied (``12.3ms thread-2: adder-2: work() ran
    4.1% longer than written``) or the tie it broke (``15ms thread-3 took the GIL before
    thread-2, who had waited longer``), then each update the run lost, in order of time."""
    events = run.events
    lines: list[tuple[float, int, str]] = []
    # Each tie the seed broke drew once, in the order of the decision points.
    ties = iter(run.decisions)
    for draw in run.drawn:
        decision = next(ties, None) if draw.drawn is Drawn.TIE else None
        if draw.index not in kept:
            continue
        if decision is not None:
            t = decision.at / 1_000_000
            lines.append((t, decision.events_before, f"{format_time(t)} {tie_in_words(decision)}"))
            continue
        change = next(
            (e for e in events[draw.events_before :] if isinstance(e, LaneStateChanged)), None
        )
        if change is None:
            continue
        what = f"{change.task}: " if change.task and change.task != change.lane else ""
        what += change.step or change.state.value
        longer = "longer" if draw.deviation > 0 else "shorter"
        lines.append(
            (
                change.t,
                change.seq,
                f"{format_time(change.t)} {change.lane}: {what} ran "
                f"{abs(draw.deviation):.1%} {longer} than written",
            )
        )
    for event in events:
        if isinstance(event, SharedWritten) and event.lost:
            lines.append((event.t, event.seq, f"{format_time(event.t)} {event.why}"))
    return [text for _, _, text in sorted(lines)]


@dataclass(frozen=True, slots=True)
class ShrunkRun:
    """A seed's run reduced to the fewest deviations that still give its outcome."""

    seed: int
    schedule: dict[int, float]
    drawn: int
    """How many draws the seed's run made (each a possible deviation)."""
    runs: int
    complete: bool
    words: list[str]


def shrink_seed(
    scenario: Scenario,
    variant: str | None,
    injections: Sequence[Injection],
    seed: int,
    *,
    budget: int = 2_000,
) -> ShrunkRun:
    """The seed's run, shrunk: the fewest of its deviations with which the same outcome
    (the same facets: main, results, tasks, shared values, output) still comes."""
    from concsim.explore.samples import facets, run_outcome
    from concsim.explore.shrink import shrink
    from concsim.export.outcome import outcome

    first = simulate(scenario, variant, injections, seed)
    target = facets(outcome(first.events))

    def produces(schedule: Mapping[int, float]) -> bool:
        # Only the outcome counts here: the run keeps no history, as explore's runs do.
        result = run_outcome(scenario, variant, injections, seed, Draws(seed, schedule))
        return facets(result) == target

    found = shrink(deviations(first.drawn), produces, budget=budget)
    kept = simulate(scenario, variant, injections, seed, found.schedule)
    return ShrunkRun(
        seed,
        found.schedule,
        len(first.drawn),
        found.runs,
        found.complete,
        in_words(kept, found.schedule),
    )
