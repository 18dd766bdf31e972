"""Properties of every run: time moves forward, tasks end once, one GIL holder, no rewritten past.

Hypothesis builds small programs (a few tasks of cpu / io / native / sleep steps under any
model) and random injections, and checks what must hold for all of them.
"""

from __future__ import annotations

from collections import defaultdict
from itertools import pairwise
from typing import Any

from faultkit import Run, assert_same_run, run, run_live
from hypothesis import given, settings
from hypothesis import strategies as st

from concsim.durations import format_time
from concsim.engine import FAULTS, Injection, Simulation
from concsim.events import (
    FaultInjected,
    FaultRefused,
    GilChanged,
    LaneCreated,
    LaneKind,
    LaneState,
    LaneStateChanged,
    MainEnded,
    RunEnded,
    RunStarted,
    TaskEnded,
    TaskStarted,
)
from concsim.scenario.model import Fault, Scenario

FAST = settings(max_examples=60, deadline=None, derandomize=True)
MAX_STEPS = 100_000  # far more than any generated run needs; a run that needs more is stuck

PATTERNS = {
    "sequential": ["map", "none"],
    "threads": ["as_completed", "map", "result", "wait", "none"],
    "processes": ["as_completed", "map", "result", "wait", "none"],
    "asyncio": ["as_completed", "gather", "taskgroup", "wait", "result", "none"],
}
TARGETS = ["main", "thread-1", "thread-2", "process-1", "process-2", "loop", "nobody"]


def _ms(low: int, high: int) -> st.SearchStrategy[str]:
    return st.integers(low, high).map(lambda n: f"{n}ms")


STEP = st.one_of(
    st.builds(lambda d: {"cpu": d}, _ms(1, 20)),
    st.builds(lambda d: {"io": d}, _ms(0, 40)),
    st.builds(lambda d: {"native": d}, _ms(1, 20)),
    st.builds(lambda d: {"sleep": d}, _ms(0, 40)),
)
RARE_STEP = st.sampled_from(
    [{"raise": "ValueError", "message": "boom"}, "check_stop", {"blocking": "10ms"}]
)


@st.composite
def scenarios(draw: st.DrawFn) -> Scenario:
    """A small valid program under any model, with a collect pattern that model allows."""
    model = draw(st.sampled_from(sorted(PATTERNS)))
    program: dict[str, Any] = {"model": model, "max_workers": draw(st.integers(1, 3))}
    plain = model in ("threads", "processes") and draw(st.booleans())
    if plain:  # one Thread / Process per task, joined or not
        program["executor"] = False
        program["collect"] = draw(st.sampled_from(["join", "none"]))
    else:
        collect: dict[str, Any] = {"pattern": draw(st.sampled_from(PATTERNS[model]))}
        if model != "sequential" and draw(st.booleans()):
            collect["timeout"] = draw(_ms(1, 80))
        if collect["pattern"] == "wait":
            collect["return_when"] = draw(
                st.sampled_from(["FIRST_COMPLETED", "FIRST_EXCEPTION", "ALL_COMPLETED"])
            )
        if collect["pattern"] == "gather":
            collect["return_exceptions"] = draw(st.booleans())
        program["collect"] = collect
        if model in ("threads", "processes"):
            program["context_manager"] = draw(st.booleans())
            if draw(st.booleans()):
                program["shutdown"] = {
                    "wait": draw(st.booleans()),
                    "cancel_futures": draw(st.booleans()),
                }
    if model != "sequential" and draw(st.integers(0, 3)) == 0:
        program["on_error"] = [{"sleep": draw(_ms(1, 30))}]
    tasks = []
    for i in range(draw(st.integers(1, 4))):
        steps = draw(st.lists(st.one_of(STEP, STEP, STEP, RARE_STEP), min_size=1, max_size=3))
        task: dict[str, Any] = {"name": f"t{i}", "steps": steps}
        if draw(st.booleans()):
            task["cleanup"] = [{"io": draw(_ms(1, 5))}]
        if plain and model == "threads":
            task["daemon"] = draw(st.booleans())
        if model == "asyncio" and draw(st.integers(0, 4)) == 0:
            task["timeout"] = draw(_ms(1, 60))
        tasks.append(task)
    machine = {
        "cores": draw(st.integers(1, 4)),
        "gil": draw(st.sampled_from([True, True, True, False])),
        "process_start": draw(_ms(0, 20)),
        "switch_interval": draw(st.sampled_from(["1ms", "5ms"])),
        "jitter": draw(st.sampled_from([0, 0, 0.3])),
    }
    return Scenario.model_validate(
        {
            "name": "generated",
            "seed": draw(st.integers(0, 3)),
            "machine": machine,
            "program": program,
            "tasks": tasks,
        }
    )


def injections(scenario: Scenario, count: int = 3) -> st.SearchStrategy[list[Injection]]:
    names = [task.name for task in scenario.tasks]
    one = st.builds(
        Injection,
        st.integers(0, 150).map(lambda ms: ms / 1000),
        st.sampled_from(FAULTS),
        st.sampled_from(names + TARGETS),
    )
    return st.lists(one, max_size=count).map(lambda found: sorted(found, key=lambda i: i.at))


def _stepped(scenario: Scenario, faults: list[Injection]) -> Run:
    """Run with ``step()``, counting: every run must finish in a bounded number of steps."""
    from concsim.export.outcome import outcome

    sim = Simulation(scenario, injections=faults)
    for _ in range(MAX_STEPS):
        if sim.finished:
            break
        sim.step()
    assert sim.finished, "the run did not finish"
    return Run(sim, outcome(sim.events))


# --- the stream ---------------------------------------------------------------------------


def _check_stream(r: Run) -> None:
    events = r.events
    assert [e.seq for e in events] == list(range(len(events)))
    assert all(a.t <= b.t for a, b in pairwise(events)), "time went backwards"
    assert type(events[0]) is RunStarted and type(events[-1]) is RunEnded
    assert sum(type(e) is RunEnded for e in events) == 1
    assert sum(type(e) is MainEnded for e in events) == 1
    assert events[-1].elapsed == events[-1].t  # type: ignore[attr-defined]
    started = events[0]
    assert isinstance(started, RunStarted)
    ended = [e.task for e in events if isinstance(e, TaskEnded)]
    assert sorted(ended) == sorted(started.tasks), "every task ends exactly once"
    starts = [e.task for e in events if isinstance(e, TaskStarted)]
    assert len(starts) == len(set(starts)), "a task started twice"
    end_index = {e.task: i for i, e in enumerate(events) if isinstance(e, TaskEnded)}
    for i, e in enumerate(events):
        if isinstance(e, TaskStarted):
            assert i < end_index[e.task]


def _check_gil_and_cores(r: Run, scenario: Scenario) -> None:
    """At the end of every instant: per process at most one OS thread runs Python code and
    it is the GIL's holder; no more threads run code than there are cores."""
    events = r.events
    asyncio = scenario.program.model.value == "asyncio"
    thread_of: dict[str, str] = {}
    process_of: dict[str, str] = {}
    state: dict[str, LaneState] = {}
    holder: dict[str, str | None] = {}
    for i, e in enumerate(events):
        if isinstance(e, LaneCreated):
            on_loop = e.lane_kind is LaneKind.COROUTINE or (asyncio and e.lane == "main")
            thread_of[e.lane] = "loop" if on_loop else e.lane
            process_of[e.lane] = e.process
        elif isinstance(e, LaneStateChanged):
            state[e.lane] = e.state
        elif isinstance(e, GilChanged):
            assert e.holder is None or process_of[e.holder] == e.process, "a foreign GIL"
            holder[e.process] = e.holder
        if i + 1 < len(events) and events[i + 1].t == e.t:
            continue  # the instant is not over yet
        running: dict[str, set[str]] = defaultdict(set)
        on_core: set[str] = set()
        for lane, now in state.items():
            if now in (LaneState.RUNNING, LaneState.NATIVE):
                on_core.add(thread_of[lane])
            if now is LaneState.RUNNING:
                running[process_of[lane]].add(thread_of[lane])
        assert len(on_core) <= scenario.machine.cores, f"more than the cores at t={e.t}"
        if not scenario.machine.gil:
            continue
        for process, threads in running.items():
            assert len(threads) <= 1, f"two GIL holders in {process} at t={e.t}: {threads}"
            if process in holder:
                assert holder[process] in threads, (
                    f"{threads} runs Python code in {process} at t={e.t} without the GIL "
                    f"(holder {holder[process]})"
                )


@FAST
@given(data=st.data(), scenario=scenarios())
def test_every_run_is_well_formed_and_finishes(data: st.DataObject, scenario: Scenario) -> None:
    """Time never goes back, seq is 0..n-1, each task ends exactly once, one GIL holder per
    process, and the run always finishes."""
    faults = data.draw(injections(scenario))
    r = _stepped(scenario, faults)
    _check_stream(r)
    _check_gil_and_cores(r, scenario)


# --- the past is closed -----------------------------------------------------------------


@FAST
@given(data=st.data(), scenario=scenarios())
def test_a_fault_at_t_never_changes_an_event_before_it(
    data: st.DataObject, scenario: Scenario
) -> None:
    """Injecting a fault at t leaves every event the run emitted up to t unchanged: all of
    them come before its FaultInjected, in the same order; the one exception is the summary
    of a run that had already run out of work (hung) by t, which it now cannot be."""
    earlier = data.draw(injections(scenario, count=2))
    at = data.draw(st.integers(0, 200)) / 1000
    at = max([at, *(i.at + 0.001 for i in earlier)])
    fault = Injection(
        round(at, 3),
        data.draw(st.sampled_from(FAULTS)),
        data.draw(st.sampled_from([t.name for t in scenario.tasks] + TARGETS)),
    )
    base = run(scenario, earlier)
    faulted = run(scenario, [*earlier, fault])
    marks = [
        i for i, e in enumerate(faulted.events) if isinstance(e, FaultInjected) and e.t >= fault.at
    ]
    if not marks:  # the program exited before t: the end says so, and nothing else changes
        late = [
            i
            for i, e in enumerate(faulted.events)
            if isinstance(e, FaultRefused) and f"aimed at {format_time(fault.at)} could" in e.reason
        ]
        assert len(late) == 1 and faulted.events[late[0]].target == fault.target
        unseq = [{**d, "seq": None} for i, d in enumerate(faulted.dicts()) if i != late[0]]
        assert unseq == [{**d, "seq": None} for d in base.dicts()]
        assert faulted.out == base.out
        return
    k = marks[0]
    assert faulted.events[k].t == fault.at
    assert faulted.dicts()[:k] == base.dicts()[:k]
    # A run that hangs ends when its work runs out; with a fault still due it cannot.
    ran_out = base.main["outcome"] == "hung" or any(
        task["outcome"] == "hung" for task in base.out["tasks"]
    )
    if not ran_out or base.out["elapsed"] > fault.at:
        assert all(e.t > fault.at for e in base.events[k:])


@FAST
@given(data=st.data(), scenario=scenarios())
def test_file_faults_live_injections_and_replays_are_the_same_run(
    data: st.DataObject, scenario: Scenario
) -> None:
    """Faults written in ``faults:``, the same injected with ``inject`` after ``advance``,
    and a re-simulation of the recorded injections give the same events, byte for byte,
    provided the program has not finished before the last of them."""
    faults = data.draw(injections(scenario))
    live = run_live(scenario, [(f.at, f.fault, f.target, f.error) for f in faults])
    # An injection after the live run has finished is not made (the program is over);
    # test_faults covers a program that hung before it.
    applied = live.sim.injections
    written = scenario.model_copy(
        update={
            "faults": tuple(
                Fault(
                    fault=f.fault, target=f.target, at=f"{round(f.at * 1_000_000)}us", error=f.error
                )
                for f in applied
            )
        }
    )
    from_file = run(written)
    replay = run(scenario, applied)
    assert_same_run(from_file, live)
    assert_same_run(live, replay)


def test_a_zero_length_sleep_step_runs() -> None:
    """``sleep: 0`` is a valid duration (``await asyncio.sleep(0)`` yields once)."""
    r = run(
        Scenario.model_validate(
            {"name": "zero", "tasks": [{"name": "t0", "steps": [{"sleep": 0}, {"io": "1ms"}]}]}
        )
    )
    assert r.task("t0")["outcome"] == "ok"


def test_a_zero_length_io_step_runs() -> None:
    """``io: 0`` is a valid duration, like ``sleep: 0``."""
    r = run(
        Scenario.model_validate(
            {"name": "zero", "tasks": [{"name": "t0", "steps": [{"io": 0}, {"io": "1ms"}]}]}
        )
    )
    assert r.task("t0")["outcome"] == "ok"
