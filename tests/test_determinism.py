"""Determinism: one scenario, seed and set of injections give one trace, byte for byte."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from faultkit import scenario

from concsim.engine import Injection, Simulation
from concsim.scenario.loader import load_scenario
from concsim.scenario.model import Scenario

SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"
RUNS = 5


def _bundled() -> list[tuple[Path, str | None]]:
    cases: list[tuple[Path, str | None]] = []
    for path in sorted(SCENARIOS.glob("*.yaml")):
        loaded = load_scenario(path)
        cases += [(path, None), *((path, name) for name in loaded.variant_names)]
    return cases


BUNDLED = _bundled()


def _trace(
    sc: Scenario,
    variant: str | None = None,
    seed: int | None = None,
    injections: tuple[Injection, ...] = (),
) -> list[dict[str, Any]]:
    """The whole event stream, as ``concsim run --events`` prints it (one dict a line)."""
    sim = Simulation(sc, variant=variant, seed=seed, injections=injections)
    sim.run()
    return [e.to_dict() for e in sim.events]


def _same(traces: list[list[dict[str, Any]]]) -> bool:
    return all(trace == traces[0] for trace in traces[1:])


def _probes(sc: Scenario, variant: str | None) -> tuple[Injection, ...]:
    """Injections that land mid-run: a failure of the first task, then Ctrl-C."""
    sim = Simulation(sc, variant=variant)
    sim.run()
    end = sim.now
    first = sim.events[0].to_dict()["tasks"][0]
    return (
        Injection(round(end / 3, 3), "fail", first, "OSError"),
        Injection(round(end / 2, 3), "interrupt", "main"),
    )


def test_every_bundled_scenario_and_variant_is_covered() -> None:
    assert len(BUNDLED) > len(list(SCENARIOS.glob("*.yaml")))  # some have variants


@pytest.mark.parametrize(
    ("path", "variant"), BUNDLED, ids=[f"{p.stem}[{v or 'default'}]" for p, v in BUNDLED]
)
def test_bundled_scenario_gives_the_same_trace_five_times(path: Path, variant: str | None) -> None:
    """The same scenario, variant and seed, alone and with injections, five times over:
    identical events (the unit of a reproducible session)."""
    sc = load_scenario(path)
    assert _same([_trace(sc, variant) for _ in range(RUNS)])
    probes = _probes(sc, variant)
    injected = [_trace(sc, variant, injections=probes) for _ in range(RUNS)]
    assert _same(injected)
    # Byte for byte, as the JSON lines of ``--events``.
    assert json.dumps(injected[0], default=str) == json.dumps(injected[-1], default=str)


JITTER = """
name: jitter
seed: 7
machine: {jitter: 0.4, cores: 2}
program: {model: threads, max_workers: 3, collect: as_completed}
tasks:
  - name: fetch
    repeat: 5
    steps: [{io: 100ms}, {cpu: 2ms}, {io: 50ms}]
"""


def test_jitter_traces_depend_on_the_seed_and_only_on_it() -> None:
    """machine.jitter draws I/O durations from the run's seeded RNG: each seed repeats
    exactly, different seeds give different traces."""
    sc = scenario(JITTER)
    traces: dict[int, str] = {}
    for seed in range(1, 6):
        again = [_trace(sc, seed=seed) for _ in range(RUNS)]
        assert _same(again)
        traces[seed] = json.dumps(again[0], default=str)
    assert len(set(traces.values())) == len(traces)
    # No seed given: the scenario's own seed.
    assert _trace(sc) == _trace(sc, seed=7)


@pytest.mark.parametrize("model", ["processes", "asyncio"])
def test_jitter_differs_by_seed_in_every_model(model: str) -> None:
    """The seeded RNG drives I/O lengths in process and asyncio programs too."""
    sc = scenario(JITTER.replace("model: threads", f"model: {model}"))
    first, second = _trace(sc, seed=1), _trace(sc, seed=2)
    assert first != second
    assert _trace(sc, seed=1) == first


def test_without_jitter_the_seed_changes_only_the_seed() -> None:
    """Without jitter nothing is random: two seeds differ only in RunStarted.seed."""
    sc = scenario(JITTER.replace("jitter: 0.4", "jitter: 0"))
    one, two = _trace(sc, seed=1), _trace(sc, seed=2)
    for trace in (one, two):
        del trace[0]["seed"], trace[0]["why"]
    assert one == two


@pytest.mark.parametrize(
    "module", ["concsim.engine", "concsim.export.outcome", "concsim.scenario.loader"]
)
def test_the_engine_never_loads_the_terminal_ui(module: str) -> None:
    """``import concsim.engine`` (and the headless outcome and loader) in a fresh
    interpreter does not import Textual."""
    code = (
        f"import sys, {module}; print(sorted(m for m in sys.modules if m.split('.')[0] == "
        "'textual'))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"


CPU_JITTER = """
name: cpu-jitter
machine: {cpu_jitter: 0.05}
program: {model: threads, executor: false, collect: join}
shared: {counter: 0}
tasks:
  - name: adder
    repeat: 4
    steps:
      - repeat: 100
        steps: [{read: counter}, {cpu: 200us}, {write: counter}, {cpu: 100us}]
"""


def test_cpu_jitter_makes_the_seed_choose_where_thread_switches_land() -> None:
    """machine.cpu_jitter varies each CPU step's length from the seeded RNG, so the GIL's
    5 ms switch lands at a different point of the read-modify-write loop per seed: the count
    of lost updates varies, as it does between two runs of the real program. Each seed still
    repeats exactly."""
    sc = scenario(CPU_JITTER)
    counters = set()
    for seed in range(12):
        again = [_trace(sc, seed=seed) for _ in range(2)]
        assert _same(again)
        counters.add(next(e for e in reversed(again[0]) if e["type"] == "SharedWritten")["value"])
    assert len(counters) >= 3 and max(counters) < 400
    steady = scenario(CPU_JITTER.replace("cpu_jitter: 0.05", "cpu_jitter: 0"))
    assert _trace(steady, seed=1)[1:] == _trace(steady, seed=2)[1:]
