"""The engine's event streams are byte-identical to the recorded ones (scripts/event_hashes.py),
and a ``repeat`` run in one batch gives exactly the events of the same steps written out."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from concsim.engine import Injection, Simulation
from concsim.scenario.model import Scenario

ROOT = Path(__file__).resolve().parent.parent


def _harness() -> ModuleType:
    spec = importlib.util.spec_from_file_location("event_hashes", ROOT / "scripts/event_hashes.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("event_hashes", module)
    spec.loader.exec_module(module)
    return module


def test_every_event_stream_is_byte_identical_to_the_recorded_one() -> None:
    harness = _harness()
    recorded = json.loads(harness.DIGESTS.read_text())
    now = harness.compute()
    assert len(now) > 2000  # the grid is all there: scenarios x variants x seeds x faults
    assert harness.differences(recorded, now) == []


def test_the_grid_covers_every_fault_kind_seed_and_bundled_scenario() -> None:
    harness = _harness()
    keys = list(harness.cases())
    faults = {i.fault for case in keys for i in case.injections}
    assert faults == {"fail", "hang", "cancel", "timeout", "kill", "interrupt"}
    assert {case.seed for case in keys} >= set(harness.SEEDS)
    bundled = {p.name for p in (ROOT / "scenarios").glob("*.yaml")}
    assert {case.path.name for case in keys} >= bundled


def _scenario(model: str, steps: list[dict[str, Any]]) -> Scenario:
    program: dict[str, Any] = {"model": model, "collect": "gather" if model == "asyncio" else "map"}
    if model != "asyncio":
        program["max_workers"] = 2
    return Scenario.model_validate(
        {
            "name": "repeat",
            "program": program,
            "tasks": [{"name": "w", "repeat": 3, "steps": steps}],
        }
    )


BODY: list[dict[str, Any]] = [{"sleep": "10ms"}, {"io": "5ms", "label": "read"}]


def _events(scenario: Scenario, injections: tuple[Injection, ...]) -> list[str]:
    sim = Simulation(scenario, injections=injections)
    sim.run()
    return [json.dumps(event.to_dict(), default=str) for event in sim.events]


@pytest.mark.parametrize("model", ["asyncio", "threads"])
@pytest.mark.parametrize(
    "injections",
    [
        (),
        (Injection(0.032, "cancel", "w-2"),),
        (Injection(0.02, "hang", "w-1"),),
        (Injection(0.047, "interrupt", "main"),),
    ],
    ids=["none", "cancel", "hang", "interrupt"],
)
def test_batched_repeat_gives_the_events_of_the_unrolled_steps(
    model: str, injections: tuple[Injection, ...]
) -> None:
    batched = _scenario(model, [{"repeat": 4, "steps": BODY}])
    unrolled = _scenario(model, BODY * 4)
    events = _events(batched, injections)
    assert len(events) > 40
    assert events == _events(unrolled, injections)
