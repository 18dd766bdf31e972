"""A run to its end does the ``cpu`` steps that nothing can interrupt at once, without a
round trip through the clock (concsim/engine/ahead.py): the events are exactly those of the
same run made one piece of clock work at a time."""

from __future__ import annotations

from pathlib import Path

import pytest

from concsim.engine import Injection, Simulation
from concsim.engine.clock import FAULT, Scheduler
from concsim.scenario.loader import load_scenario
from concsim.scenario.model import FaultKind, Scenario

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = sorted((ROOT / "scenarios").glob("*.yaml"))
RACE = ROOT / "scenarios" / "race-lost-update.yaml"


def _stepped(sim: Simulation) -> Simulation:
    """The run made one event at a time (``step``): each piece of clock work on its own."""
    while not sim.finished:
        sim.step()
    return sim


def _assert_same_run(
    scenario: Scenario,
    variant: str | None,
    seed: int,
    injections: tuple[Injection, ...] = (),
    max_events: int = 500_000,
) -> Simulation:
    def made() -> Simulation:
        return Simulation(
            scenario, variant=variant, seed=seed, injections=injections, max_events=max_events
        )

    ahead = made()
    ahead.run()
    stepped = _stepped(made())
    assert [e.to_dict() for e in ahead.events] == [e.to_dict() for e in stepped.events]
    assert ahead.exhausted == stepped.exhausted
    assert ahead.now == stepped.now
    # Each step run ahead is a timer the stepped run put on the clock and this one did not.
    assert stepped.world.steps_ahead == 0
    assert ahead.world.clock.scheduled + ahead.world.steps_ahead == stepped.world.clock.scheduled
    assert ahead.world.rng.getstate() == stepped.world.rng.getstate()
    return ahead


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda path: path.stem)
def test_every_bundled_scenario_and_variant_makes_the_same_events(path: Path) -> None:
    scenario = load_scenario(path)
    for variant in [None, *scenario.variant_names]:
        for seed in (0, 5):
            _assert_same_run(scenario, variant, seed)


@pytest.mark.parametrize("kind", list(FaultKind), ids=lambda kind: kind.value)
def test_injected_faults_land_at_the_same_event(kind: FaultKind) -> None:
    """A fault is work on the clock: a step it would interrupt is not run ahead."""
    for name in ("race-lost-update", "cpu-threads-gil", "race-with-lock"):
        scenario = load_scenario(ROOT / "scenarios" / f"{name}.yaml")
        task = scenario.tasks[0]
        target = (
            "main"
            if kind is FaultKind.INTERRUPT
            else (task.name if task.repeat == 1 else f"{task.name}-2")
        )
        for at in (0.0, 0.0123, 0.05):
            _assert_same_run(scenario, None, 2, (Injection(at, kind.value, target, "ValueError"),))


def test_a_run_stopped_by_its_budget_stops_at_the_same_event() -> None:
    scenario = load_scenario(RACE)
    for budget in (1_000, 1_001, 1_002, 1_003):
        sim = _assert_same_run(scenario, None, 0, max_events=budget)
        assert sim.exhausted is not None and f"{budget} events" in sim.exhausted


def test_race_lost_update_runs_most_steps_ahead(monkeypatch: pytest.MonkeyPatch) -> None:
    """Of its 800 ``cpu`` steps, only those a switch interval or a GIL hand-off ends take
    their turn on the clock."""
    popped = [0]
    pop_and_run = Scheduler.pop_and_run

    def counted(self: Scheduler) -> None:
        popped[0] += 1
        pop_and_run(self)

    monkeypatch.setattr(Scheduler, "pop_and_run", counted)
    scenario = load_scenario(RACE)
    Simulation(scenario, seed=0).run()
    ahead = popped[0]
    popped[0] = 0
    _stepped(Simulation(scenario, seed=0))
    assert popped[0] > 800
    assert ahead < popped[0] - 700


def test_work_on_the_clock_before_a_step_ends_stops_it_running_ahead() -> None:
    """A probe due in the middle of a ``cpu`` step sees the clock and the events as the
    run made one piece at a time does."""
    scenario = load_scenario(RACE)
    seen: dict[str, list[tuple[int, int]]] = {"ahead": [], "stepped": []}
    for how, seen_here in seen.items():
        sim = Simulation(scenario, seed=4)
        clock = sim.world.clock
        for at in range(1_000, 120_000, 7_777):

            def probe(sim: Simulation = sim, seen_here: list[tuple[int, int]] = seen_here) -> None:
                seen_here.append((sim.world.clock.now, sim.world.emitted))

            clock.at(at, probe, priority=FAULT)
        if how == "ahead":
            sim.run()
        else:
            _stepped(sim)
    assert len(seen["ahead"]) == 16
    assert seen["ahead"] == seen["stepped"]


def test_steps_run_ahead_are_counted_apart_from_the_clocks_work() -> None:
    """race-lost-update's 800 ``cpu`` steps: most end before the GIL's next drop request and
    run ahead; only the others are timers on the clock."""
    sim = Simulation(load_scenario(RACE), seed=0)
    sim.run()
    stepped = _stepped(Simulation(load_scenario(RACE), seed=0))
    assert sim.world.steps_ahead > 700
    assert sim.world.clock.scheduled + sim.world.steps_ahead == stepped.world.clock.scheduled
    assert sim.world.clock.scheduled < stepped.world.clock.scheduled - 700
