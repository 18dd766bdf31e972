"""The simulator's models, each against the CPython behaviour it mirrors."""

from __future__ import annotations

import pytest

from concsim.engine import Simulation
from concsim.events import (
    GilChanged,
    LaneState,
    LaneStateChanged,
    LoopBlocked,
    PicklingFailed,
    TaskStarted,
)
from concsim.export.outcome import outcome
from concsim.scenario.loader import load_scenario_text


def run(text: str, **kwargs: object) -> tuple[Simulation, dict]:
    sim = Simulation(load_scenario_text(text, "test.yaml"), **kwargs)  # type: ignore[arg-type]
    sim.run()
    return sim, outcome(sim.events)


def gil_holders(sim: Simulation, process: str = "main") -> list[str | None]:
    return [e.holder for e in sim.events if isinstance(e, GilChanged) and e.process == process]


CPU_THREADS = """
name: cpu
program: {model: threads, max_workers: 2, collect: map}
tasks:
  - {name: a, steps: [{cpu: 20ms}]}
  - {name: b, steps: [{cpu: 20ms}]}
"""


def test_gil_switches_every_interval_in_strict_turns() -> None:
    """CPython 3.2+ GIL: a waiting thread asks the holder to drop after sys.getswitchinterval()
    (5 ms); with forced switching the two CPU-bound threads alternate strictly (measured:
    ~5.1 ms slices, order 0,1,0,1)."""
    sim, result = run(CPU_THREADS)
    switches = [e for e in sim.events if isinstance(e, GilChanged) and e.holder]
    workers = [e for e in switches if e.holder != "main"]
    # thread-1 starts and computes; main gets the GIL back after an interval to start
    # thread-2 (Thread.start() waits for it), then the two alternate.
    assert [e.holder for e in workers[:7]] == ["thread-1"] + ["thread-1", "thread-2"] * 3
    assert [round(e.t * 1000) for e in workers[:5]] == [0, 5, 10, 15, 20]
    # Two 20 ms CPU tasks under one GIL take 40 ms: no parallelism.
    assert result["elapsed"] == pytest.approx(0.04)


def test_thread_start_waits_for_the_new_thread_then_for_the_gil() -> None:
    """Thread.start() returns once the new thread runs (``_started.wait()``); the new
    thread keeps the GIL while it computes, so the starting thread waits an interval or
    more for it: four CPU-bound threads start 0, 10, 30 and 60 ms apart (measured on
    3.11: about 0, 6-11, 16-41, 44-71 ms; benchmarks/cpython_facts/thread_start.py)."""
    text = """
name: starts
program: {model: threads, executor: false, collect: join}
tasks:
  - {name: a, repeat: 4, steps: [{cpu: 30ms}]}
"""
    sim, result = run(text)
    assert [t["started"] for t in result["tasks"]] == [0.0, 0.01, 0.03, 0.06]
    blocked = [
        e
        for e in sim.events
        if isinstance(e, LaneStateChanged)
        and e.lane == "main"
        and e.step == "Thread.start()"
        and e.state is LaneState.BLOCKED
    ]
    assert [round(e.t * 1000) for e in blocked] == [0, 5, 20, 45]
    assert result["elapsed"] == pytest.approx(0.12)


def test_switch_interval_is_configurable() -> None:
    """sys.setswitchinterval(0.001) makes hand-offs five times as frequent."""
    sim, _ = run(CPU_THREADS.replace("name: cpu", "name: cpu\nmachine: {switch_interval: 1ms}"))
    assert sum(1 for h in gil_holders(sim) if h and h.startswith("thread")) >= 35


def test_a_zero_switch_interval_still_lets_each_holder_run_a_microsecond() -> None:
    """take_gil (Python/ceval_gil.c) waits ``gil->interval >= 1 ? gil->interval : 1``
    microseconds: an interval below 1 us, which CPython stores as 0, still lets the holder
    run 1 us before a waiter asks for the GIL, so the run moves on in time instead of
    handing the GIL round at one instant for ever."""
    sim, result = run(
        CPU_THREADS.replace("name: cpu", "name: cpu\nmachine: {switch_interval: 0s}"),
        max_events=5_000,
    )
    handoffs = [e for e in sim.events if isinstance(e, GilChanged) and e.holder]
    thread_times = [round(e.t * 1e6) for e in handoffs if e.holder.startswith("thread")]
    # The two threads alternate every microsecond once both are started.
    assert thread_times[-3:] == [thread_times[-1] - 2, thread_times[-1] - 1, thread_times[-1]]
    assert result["elapsed"] > 0


def test_cpython_stores_a_switch_interval_below_a_microsecond_as_zero() -> None:
    """The CPython fact behind the 1 us floor: ``sys.setswitchinterval`` keeps whole
    microseconds (``(unsigned long)(1e6 * interval)``), so 1 ns reads back as 0.0, and
    take_gil's timed wait then uses its floor of 1 us."""
    import sys

    saved = sys.getswitchinterval()
    try:
        sys.setswitchinterval(1e-9)
        assert sys.getswitchinterval() == 0.0
    finally:
        sys.setswitchinterval(saved)


def test_without_gil_cpu_threads_run_in_parallel_up_to_the_cores() -> None:
    """A free-threaded build (PEP 703) runs Python code on several cores at once."""
    _, free = run(CPU_THREADS.replace("name: cpu", "name: cpu\nmachine: {gil: false}"))
    assert free["elapsed"] == pytest.approx(0.02)
    _, one_core = run(
        CPU_THREADS.replace("name: cpu", "name: cpu\nmachine: {gil: false, cores: 1}")
    )
    assert one_core["elapsed"] == pytest.approx(0.04)


def test_io_and_native_release_the_gil() -> None:
    """Blocking I/O and C code that calls Py_BEGIN_ALLOW_THREADS let other threads run."""
    _, io = run(CPU_THREADS.replace("cpu: 20ms", "io: 20ms"))
    assert io["elapsed"] == pytest.approx(0.02)
    sim, native = run(CPU_THREADS.replace("cpu: 20ms", "native: 20ms"))
    assert native["elapsed"] == pytest.approx(0.02)
    assert all(
        e.state is not LaneState.GIL_WAIT for e in sim.events if isinstance(e, LaneStateChanged)
    )


def test_processes_have_their_own_gil_and_pay_start_cost() -> None:
    """Each worker process has its own interpreter and GIL; with fork (3.11 on Linux) all
    max_workers processes start at the first submit, each taking process_start."""
    text = """
name: procs
machine: {cores: 4, process_start: 50ms}
program: {model: processes, max_workers: 2, collect: map}
tasks:
  - {name: a, steps: [{cpu: 100ms}], returns: 1}
  - {name: b, steps: [{cpu: 100ms}], returns: 2}
"""
    sim, result = run(text)
    assert result["results"] == [1, 2]
    started = {e.task: e.t for e in sim.events if isinstance(e, TaskStarted)}
    assert started == {"a": pytest.approx(0.05, abs=0.001), "b": pytest.approx(0.05, abs=0.001)}
    assert result["elapsed"] == pytest.approx(0.15, abs=0.002)
    # Each process's GIL only ever passes to that process's own thread: no contention.
    for event in sim.events:
        if isinstance(event, GilChanged) and event.holder and event.process != "main":
            assert event.holder == event.process


def test_processes_beyond_the_cores_wait_for_one() -> None:
    """At most `cores` processes run Python code at the same instant."""
    text = """
name: procs
machine: {cores: 2, process_start: 0, pickle_overhead: 0}
program: {model: processes, max_workers: 4, collect: map}
tasks:
  - {name: w, repeat: 4, steps: [{cpu: 100ms}]}
"""
    sim, result = run(text)
    assert result["elapsed"] == pytest.approx(0.2)
    assert any(
        e.state is LaneState.CORE_WAIT for e in sim.events if isinstance(e, LaneStateChanged)
    )


def test_the_os_shares_the_cores_in_time_slices() -> None:
    """Linux shares two cores among four CPU-bound processes in slices of a few ms: all
    four progress at half speed and end together at 0.2 s, not two at 0.1 s and two at
    0.2 s (benchmarks/cpython_facts/cores_shared.py). A native step is shared alike."""
    text = """
name: procs
machine: {cores: 2, process_start: 0, pickle_overhead: 0}
program: {model: processes, max_workers: 4, collect: map}
tasks:
  - {name: w, repeat: 4, steps: [{cpu: 100ms}]}
"""
    sim, result = run(text)
    assert [t["ended"] for t in result["tasks"]] == pytest.approx([0.2] * 4, abs=0.006)
    running = [
        e.lane
        for e in sim.events
        if isinstance(e, LaneStateChanged) and e.state is LaneState.RUNNING and e.t < 0.1
    ]
    assert len(set(running)) == 4
    assert all(running.count(lane) > 5 for lane in running)  # slice by slice, in turns
    _, native = run(text.replace("cpu: 100ms", "native: 100ms").replace("processes", "threads"))
    assert [t["ended"] for t in native["tasks"]] == pytest.approx([0.2] * 4, abs=0.01)
    _, alone = run(text.replace("repeat: 4", "repeat: 2"))
    assert [t["ended"] for t in alone["tasks"]] == pytest.approx([0.1, 0.1])


def test_unpicklable_task_fails_at_result_with_cpythons_error() -> None:
    """ProcessPoolExecutor: submit() of a nested function succeeds; result() raises
    AttributeError("Can't pickle local object 'main.<locals>.work'") (measured on 3.11)."""
    text = """
name: pickle
program: {model: processes, max_workers: 1, collect: result}
tasks:
  - {name: work, picklable: false, steps: [{cpu: 10ms}]}
"""
    sim, result = run(text)
    failed = [e for e in sim.events if isinstance(e, PicklingFailed)]
    assert failed[0].message == "Can't pickle local object 'main.<locals>.work'"
    assert result["main"] == {"outcome": "raised", "error": "AttributeError"}
    assert result["tasks"][0]["outcome"] == "never_started"


def test_asyncio_gather_waits_cooperatively_and_keeps_input_order() -> None:
    """asyncio.gather returns results in the order of its arguments; the waits overlap."""
    text = """
name: g
program: {model: asyncio, collect: gather}
tasks:
  - {name: long, steps: [{sleep: 300ms}], returns: L}
  - {name: short, steps: [{sleep: 100ms}], returns: S}
"""
    _, result = run(text)
    assert result["results"] == ["L", "S"]
    assert result["elapsed"] == pytest.approx(0.3)


def test_a_blocking_call_in_a_coroutine_stalls_the_loop() -> None:
    """time.sleep() inside async def blocks the event loop: total = sum, not max."""
    text = """
name: b
program: {model: asyncio, collect: gather}
tasks:
  - {name: a, steps: [{blocking: 100ms}]}
  - {name: b, steps: [{blocking: 100ms}]}
"""
    sim, result = run(text)
    assert result["elapsed"] == pytest.approx(0.2)
    assert len([e for e in sim.events if isinstance(e, LoopBlocked)]) == 2
    _, fixed = run(text.replace("blocking", "to_thread"))
    assert fixed["elapsed"] == pytest.approx(0.1)


def test_cpu_in_a_coroutine_runs_to_its_next_await() -> None:
    """A coroutine runs until it awaits: while one computes, the other (ready) waits."""
    text = """
name: c
program: {model: asyncio, collect: gather}
tasks:
  - {name: b, steps: [{sleep: 10ms}]}
  - {name: a, steps: [{cpu: 50ms}, {sleep: 10ms}]}
"""
    sim, result = run(text)
    b_end = next(t for t in result["tasks"] if t["name"] == "b")["ended"]
    assert b_end == pytest.approx(0.05)  # its 10 ms sleep ended at 0.01; it waited for a
    assert any(
        e.lane == "b" and e.state is LaneState.READY
        for e in sim.events
        if isinstance(e, LaneStateChanged)
    )


def test_sequential_io_takes_the_sum() -> None:
    """Plain calls one after another: five 0.5 s waits take 2.5 s."""
    text = """
name: s
program: {model: sequential, collect: map}
tasks: [{name: r, repeat: 5, steps: [{io: 500ms}]}]
"""
    _, result = run(text)
    assert result["elapsed"] == pytest.approx(2.5)
    assert result["results"] == [f"r-{i} done" for i in range(1, 6)]


def test_jitter_comes_from_the_seed() -> None:
    """One seeded RNG: a seed fixes the run; another seed may change completion order."""
    text = """
name: j
machine: {jitter: 0.3}
program: {model: threads, max_workers: 5, collect: as_completed}
tasks: [{name: r, repeat: 5, steps: [{io: 500ms}], returns: "{i}"}]
"""
    orders = {tuple(run(text, seed=seed)[1]["results"]) for seed in range(6)}
    assert len(orders) > 1
    assert run(text, seed=3)[1] == run(text, seed=3)[1]


def test_lost_updates_without_a_lock_and_none_with_it() -> None:
    """x = counter; ...; counter = x + 1 is not atomic: a GIL switch between the read and
    the write loses updates. Holding a lock across both makes it exact."""
    text = """
name: race
shared: {counter: 0}
program: {model: threads, max_workers: 4, collect: none}
tasks:
  - name: add
    repeat: 4
    steps: [{repeat: 50, steps: [{read: counter}, {cpu: 300us}, {write: counter}]}]
"""
    _, racy = run(text)
    assert racy["shared"]["counter"] < 200
    locked = text.replace(
        "[{read: counter}, {cpu: 300us}, {write: counter}]",
        "[{acquire: l}, {read: counter}, {cpu: 300us}, {write: counter}, {release: l}]",
    )
    _, exact = run(locked)
    assert exact["shared"]["counter"] == 200


@pytest.mark.parametrize(
    ("text", "error", "message"),
    [
        (
            """
name: tg
program: {model: asyncio, collect: taskgroup}
tasks:
  - {name: bad, steps: [{sleep: 10ms}, {raise: ValueError}]}
  - {name: slow, steps: [{sleep: 1s}]}
""",
            "ExceptionGroup",
            "unhandled errors in a TaskGroup (1 sub-exception)",
        ),
        (
            """
name: ac
program: {model: threads, collect: {pattern: as_completed, timeout: 100ms}}
tasks: [{name: r, repeat: 3, steps: [{io: 1s}]}]
""",
            "TimeoutError",
            "3 (of 3) futures unfinished",
        ),
    ],
)
def test_main_ends_with_cpythons_exception_text(text: str, error: str, message: str) -> None:
    """The exception main() ends with carries CPython's own message (measured on 3.11:
    str(eg) of a TaskGroup, as_completed's "N (of M) futures unfinished")."""
    sim, result = run(text)
    ended = next(e for e in sim.events if type(e).__name__ == "MainEnded")
    assert (result["main"]["error"], ended.message) == (error, message)


def test_submit_after_shutdown_raises_cpythons_runtime_error() -> None:
    """concurrent.futures: after shutdown(), submit() raises
    RuntimeError('cannot schedule new futures after shutdown'); work already submitted
    still runs, and leaving ``with`` waits for it."""
    sim, result = run("""
name: late-submit
program:
  model: threads
  main: [{submit: [a]}, {shutdown: {wait: false}}, {submit: [b]}, collect]
tasks:
  - {name: a, steps: [{io: 100ms}]}
  - {name: b, steps: [{io: 100ms}]}
""")
    ended = next(e for e in sim.events if type(e).__name__ == "MainEnded")
    assert (ended.error, ended.message) == (
        "RuntimeError",
        "cannot schedule new futures after shutdown",
    )
    outcomes = {task["name"]: task["outcome"] for task in result["tasks"]}
    assert outcomes == {"a": "ok", "b": "never_started"}
    assert result["elapsed"] == pytest.approx(0.1)


def test_a_task_that_swallows_cancelled_error_is_not_cancelled() -> None:
    """asyncio: a coroutine that catches CancelledError and returns is not cancelled --
    task.cancelled() is False and wait_for() returns its value (measured on 3.11: fact 11,
    fact 12 "swallow")."""
    _, result = run("""
name: swallow
program: {model: asyncio, collect: result}
tasks:
  - name: stubborn
    timeout: 50ms
    catches: [CancelledError]
    steps: [{sleep: 200ms}]
    cleanup: [{sleep: 10ms}]
    returns: late
""")
    task = result["tasks"][0]
    assert (task["outcome"], task["cleanup"]) == ("ok", "ran")
    assert result["results"] == ["late"]
    assert result["main"] == {"outcome": "ok", "error": None}
    assert result["elapsed"] == pytest.approx(0.06)


@pytest.mark.parametrize(
    ("model", "collect"),
    [("sequential", "map"), ("processes", "map"), ("threads", "map"), ("asyncio", "gather")],
)
def test_a_cooperative_stop_is_a_return_in_every_model(model: str, collect: str) -> None:
    """``if stop.is_set(): return`` is a return, not an exception: the future holds None,
    nothing is re-raised, and a plain thread prints nothing (threading.excepthook only
    sees exceptions)."""
    _, result = run(f"""
name: stop
program: {{model: {model}, collect: {collect}}}
tasks:
  - {{name: a, steps: [set_stop, check_stop, {{io: 1s}}], cleanup: [{{io: 10ms}}]}}
  - {{name: b}}
""")
    assert result["main"] == {"outcome": "ok", "error": None}
    assert result["results"] == [None, "b done"]
    a = result["tasks"][0]
    assert (a["outcome"], a["error"], a["cleanup"]) == ("cancelled", None, "ran")
    assert result["warnings"] == [] and result["output"] == []


def test_plain_threads_that_stop_print_no_traceback() -> None:
    """Only an exception reaches threading.excepthook; a stopped plain thread is silent."""
    _, result = run("""
name: plain-stop
program: {model: threads, executor: false, collect: join, main: [submit, set_stop, collect]}
tasks: [{name: w, repeat: 2, steps: [{io: 10ms}, check_stop, {io: 1s}]}]
""")
    assert result["output"] == []
    assert [t["outcome"] for t in result["tasks"]] == ["cancelled", "cancelled"]
