"""The invariants written in concsim/engine/waits.py hold at every step of every bundled
scenario: which waits a thread and a coroutine may hold, and who may hold ``CpuRun``."""

from __future__ import annotations

from pathlib import Path

import pytest

from concsim.engine import Injection, Simulation
from concsim.engine.runtime import Lane
from concsim.engine.waits import (
    Awaiting,
    BlockingCall,
    CoreWait,
    CpuRun,
    FutureWait,
    GilWait,
    Hung,
    IoWait,
    LockWait,
    NativeRun,
    Overhead,
    QueueWait,
    WorkWait,
)
from concsim.scenario.loader import load_scenario

SCENARIOS = sorted((Path(__file__).resolve().parent.parent / "scenarios").glob("*.yaml"))

THREAD_WAITS = (
    IoWait, Overhead, NativeRun, CpuRun, GilWait, CoreWait, LockWait, QueueWait, FutureWait,
    WorkWait, Hung,
)  # fmt: skip
COROUTINE_WAITS = (
    IoWait, Awaiting, FutureWait, LockWait, QueueWait, BlockingCall, CpuRun, NativeRun,
    GilWait, CoreWait, Hung,
)  # fmt: skip


def _check(sim: Simulation, lane: Lane) -> str | None:
    wait = lane.wait
    if lane.gen is None:
        return None if wait is None else f"{lane.id} ended holding {wait}"
    if wait is None:
        return None  # created, not yet run
    loop = sim.world.loop_lane
    coroutine = loop is not None and lane.thread is loop
    allowed = COROUTINE_WAITS if coroutine else THREAD_WAITS
    if not isinstance(wait, allowed):
        return f"{lane.id} ({'coroutine' if coroutine else 'thread'}) holds {wait}"
    if isinstance(wait, CpuRun):
        gil = lane.os_thread.proc.gil
        if gil is not None and gil.holder is not lane.os_thread:
            return f"{lane.id} runs Python code without its GIL"
    return None


@pytest.mark.parametrize("path", SCENARIOS, ids=[p.stem for p in SCENARIOS])
def test_every_lane_holds_a_wait_its_kind_may_hold(path: Path) -> None:
    scenario = load_scenario(path)
    seen: set[type] = set()
    for variant in [None, *scenario.variant_names]:
        names = [
            t.name if t.repeat == 1 else f"{t.name}-1" for t in scenario.variant(variant).tasks
        ]
        faults = [Injection(0.05, "hang", names[0]), Injection(0.2, "interrupt", "main")]
        sim = Simulation(scenario, variant=variant, injections=faults)
        problems: list[str] = []
        while not sim.finished and len(problems) < 5:
            if sim.stalled:
                sim.run()  # nothing left that could happen: the run ends as hung
            else:
                sim.advance(1e9, work=1)
            for lane in sim.world.lanes.values():
                seen.add(type(lane.wait))
                if (problem := _check(sim, lane)) is not None:
                    problems.append(f"t={sim.now:g}: {problem}")
        assert problems == []
    assert seen - {type(None)}  # the lanes did wait for something
