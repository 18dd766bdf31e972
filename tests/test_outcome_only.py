"""A run that keeps only the events its outcome reads (``keep=OUTCOME_EVENTS``) keeps exactly
those events of the full stream, so its outcome is the same; and so is the outcome of a run
that keeps no history at all, as explore runs its seeds (``run_outcome``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from concsim.engine import Injection, Simulation
from concsim.events import LaneStateChanged, SharedWritten
from concsim.explore.samples import KEPT, run_outcome
from concsim.export.outcome import OUTCOME_EVENTS, outcome
from concsim.scenario.loader import load_scenario
from concsim.scenario.model import FaultKind, Scenario

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = sorted((ROOT / "scenarios").glob("*.yaml"))


def _both(
    scenario: Scenario,
    variant: str | None,
    seed: int,
    injections: tuple[Injection, ...] = (),
    max_events: int = 500_000,
) -> tuple[Simulation, Simulation]:
    def run(keep: frozenset[type] | None) -> Simulation:
        sim = Simulation(
            scenario,
            variant=variant,
            seed=seed,
            injections=injections,
            max_events=max_events,
            keep=keep,
        )
        sim.run()
        return sim

    return run(None), run(OUTCOME_EVENTS)


def _assert_same_outcome_only(
    scenario: Scenario, variant: str | None, seed: int, injections: tuple[Injection, ...] = ()
) -> None:
    full = Simulation(scenario, variant=variant, seed=seed, injections=injections)
    assert run_outcome(scenario, variant, injections, seed) == outcome(full.run())


def _assert_same_outcome(full: Simulation, kept: Simulation) -> None:
    wanted = [event for event in full.events if type(event) in OUTCOME_EVENTS]
    assert [e.to_dict() for e in kept.events] == [e.to_dict() for e in wanted]
    assert outcome(kept.events) == outcome(full.events)
    assert kept.exhausted == full.exhausted
    assert kept.world.emitted == len(full.events)


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda path: path.stem)
def test_every_bundled_scenario_variant_and_seed_has_the_same_outcome(path: Path) -> None:
    scenario = load_scenario(path)
    for variant in [None, *scenario.variant_names]:
        for seed in range(6):
            _assert_same_outcome(*_both(scenario, variant, seed))
            _assert_same_outcome_only(scenario, variant, seed)


@pytest.mark.parametrize("kind", list(FaultKind), ids=lambda kind: kind.value)
def test_injected_faults_give_the_same_outcome(kind: FaultKind) -> None:
    for name in ("race-lost-update", "io-threads", "asyncio-gather", "process-divisors"):
        scenario = load_scenario(ROOT / "scenarios" / f"{name}.yaml")
        target = "main" if kind is FaultKind.INTERRUPT else _first_task(scenario)
        for at in (0.0, 0.01, 0.3):
            injection = Injection(at, kind.value, target, "ValueError")
            _assert_same_outcome(*_both(scenario, None, 3, (injection,)))
            _assert_same_outcome_only(scenario, None, 3, (injection,))


def test_a_run_stopped_by_its_budget_stops_at_the_same_event() -> None:
    scenario = load_scenario(ROOT / "scenarios" / "race-lost-update.yaml")
    full, kept = _both(scenario, None, 0, max_events=1_000)
    assert full.exhausted is not None and "1000 events" in full.exhausted
    _assert_same_outcome(full, kept)


def test_only_the_kept_kinds_are_built() -> None:
    scenario = load_scenario(ROOT / "scenarios" / "race-lost-update.yaml")
    full, kept = _both(scenario, None, 0)
    assert any(type(event) is LaneStateChanged for event in full.events)
    assert not any(type(event) is LaneStateChanged for event in kept.events)
    writes = [e.seq for e in full.events if type(e) is SharedWritten]
    assert [e.seq for e in kept.events if type(e) is SharedWritten] == writes


def _first_task(scenario: Scenario) -> str:
    task = scenario.tasks[0]
    return task.name if task.repeat == 1 else f"{task.name}-1"


def test_an_outcome_only_run_keeps_no_write_and_no_state_change() -> None:
    """The final shared values come from the run, not from one event per write."""
    scenario = load_scenario(ROOT / "scenarios" / "race-lost-update.yaml")
    sim = Simulation(scenario, seed=0, keep=KEPT)
    sim.run()
    kinds = {type(event) for event in sim.events}
    assert SharedWritten not in kinds and LaneStateChanged not in kinds
    assert sim.world.emitted > 1_700 and len(sim.events) < 30
    assert run_outcome(scenario, None, (), 0)["shared"] == sim.shared


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda path: path.stem)
def test_a_run_keeping_no_history_counts_every_event_and_ends_in_the_same_states(
    path: Path,
) -> None:
    """Events a run does not keep are still counted, and the lanes go through the same
    states: the run is the same, only its record is smaller."""
    scenario = load_scenario(path)
    for variant in [None, *scenario.variant_names]:
        for seed in (0, 4):
            full = Simulation(scenario, variant=variant, seed=seed)
            full.run()
            kept = Simulation(scenario, variant=variant, seed=seed, keep=KEPT)
            kept.run()
            assert kept.world.emitted == len(full.events)
            assert kept.shared == full.shared
            assert kept.world.rng.getstate() == full.world.rng.getstate()
            assert [(lane.id, lane.state, lane.step) for lane in kept.world.lanes.values()] == [
                (lane.id, lane.state, lane.step) for lane in full.world.lanes.values()
            ]
