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
    GilRetake,
    GilWait,
    Hung,
    IoWait,
    LockWait,
    NativeRun,
    Overhead,
    PrimitiveWait,
    QueueWait,
    StartWait,
    WorkWait,
)
from concsim.scenario.loader import load_scenario, load_scenario_text

SCENARIOS = sorted((Path(__file__).resolve().parent.parent / "scenarios").glob("*.yaml"))

THREAD_WAITS = (
    IoWait, Overhead, NativeRun, CpuRun, GilWait, GilRetake, CoreWait, LockWait, QueueWait,
    FutureWait, StartWait, WorkWait, Hung, PrimitiveWait,
)  # fmt: skip
COROUTINE_WAITS = (
    IoWait, Awaiting, FutureWait, LockWait, QueueWait, BlockingCall, CpuRun, NativeRun,
    GilWait, CoreWait, Hung, PrimitiveWait,
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
    if isinstance(wait, GilRetake):
        gil = lane.proc.gil
        if gil is None or (lane not in gil.waiters and gil.holder is not lane):
            return f"{lane.id} waits to take back a GIL it neither waits for nor was given"
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


def test_a_lane_the_os_descheduled_waits_for_a_core_and_keeps_its_gil() -> None:
    """The OS takes a core from a thread after a 3 ms slice when another waits for one
    (cores.py, ``_slice_expired``): its ``CpuRun`` or ``NativeRun`` becomes ``CoreWait``,
    and a thread running Python code keeps its GIL while off its core."""
    # GIVEN one core, a thread computing in Python and one in C code (no GIL)
    text = """
name: sliced
machine: {cores: 1}
program: {model: threads, executor: false, collect: join}
tasks:
  - {name: py, steps: [{cpu: 20ms}]}
  - {name: c, steps: [{native: 20ms}]}
"""
    sim = Simulation(load_scenario_text(text))
    gil = sim.world.main_proc.gil
    assert gil is not None
    last: dict[str, str] = {}
    descheduled: list[tuple[int, str, str | None]] = []
    # WHEN it runs, one piece of work at a time
    while not sim.finished:
        sim.advance(1e9, work=1)
        for lane in sim.world.lanes.values():
            was, now = last.get(lane.id), type(lane.wait).__name__
            if was in ("CpuRun", "NativeRun") and now == "CoreWait":
                holder = gil.holder.id if gil.holder is not None else None
                descheduled.append((sim.world.clock.now, f"{lane.id} off {was}", holder))
            last[lane.id] = now
    # THEN the two take the core in turns, 3 ms each, and thread-1 keeps the GIL
    assert descheduled == [
        (13_000, "thread-2 off NativeRun", "thread-1"),
        (18_000, "thread-2 off NativeRun", "thread-1"),
        (21_000, "thread-1 off CpuRun", "thread-1"),
        (24_000, "thread-2 off NativeRun", "thread-1"),
        (27_000, "thread-1 off CpuRun", "thread-1"),
        (30_000, "thread-2 off NativeRun", "thread-1"),
    ]
    ended = {r.name: r.lane.id for r in sim.runtime.tasks if r.lane is not None}
    assert ended == {"py": "thread-1", "c": "thread-2"}
    assert sim.now == pytest.approx(0.04)
