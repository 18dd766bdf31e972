"""A process pool's manager thread (Lib/concurrent/futures/process.py, CPython 3.11:
``_ExecutorManagerThread``) and its call queue's feeder thread; the same facts measured on
CPython by benchmarks/cpython_facts/process_manager.py."""

from __future__ import annotations

import pytest
from faultkit import Run, run

from concsim.events import (
    CallbackInvoked,
    FutureChanged,
    FutureState,
    LaneCreated,
    LaneStateChanged,
    OutputWritten,
    PicklingFailed,
    TaskStarted,
    TaskSubmitted,
)

BOUND = """version: 2
name: bound
machine: {cores: 4, process_start: 10ms, pickle_overhead: 0}
program:
  model: processes
  max_workers: 1
  main:
    - submit
    - sleep: 50ms
    - {future: spin-1, calls: [cancel]}
    - {future: spin-2, calls: [cancel]}
    - {future: spin-3, calls: [cancel]}
    - {future: spin-4, calls: [cancel]}
    - {future: spin-5, calls: [cancel]}
tasks:
  - {name: spin, repeat: 5, steps: [{cpu: 300ms}]}
"""


def _printed(r: Run) -> list[str]:
    """What the program printed, line by line."""
    return "".join(e.text for e in r.of(OutputWritten)).splitlines()


def test_only_max_workers_plus_one_calls_are_running_until_the_manager_wakes() -> None:
    """CPython: ``add_call_item_to_queue`` fills the call queue up to max_workers +
    EXTRA_QUEUED_CALLS (1) when the manager wakes; the worker taking spin-1 at 10 ms does
    not wake it, so at 50 ms spin-1 and spin-2 are RUNNING and cannot be cancelled, and
    the other three are still PENDING and can."""
    r = run(BOUND)
    assert _printed(r) == [
        "spin-1.cancel() -> False",
        "spin-2.cancel() -> False",
        "spin-3.cancel() -> True",
        "spin-4.cancel() -> True",
        "spin-5.cancel() -> True",
    ]
    running = [(e.task, e.t) for e in r.of(FutureChanged) if e.state is FutureState.RUNNING]
    assert running == [("spin-1", 0.0), ("spin-2", 0.0)]
    assert r.outcomes() == {
        "spin-1": "ok",
        "spin-2": "ok",
        "spin-3": "cancelled",
        "spin-4": "cancelled",
        "spin-5": "cancelled",
    }


REFILL = """version: 2
name: refill
machine: {cores: 4, process_start: 10ms, pickle_overhead: 0}
program: {model: processes, max_workers: 1, collect: as_completed}
tasks:
  - {name: spin, repeat: 4, steps: [{cpu: 100ms}]}
"""


def test_the_manager_moves_the_next_call_in_when_a_result_wakes_it() -> None:
    """CPython: the manager wakes on each result (``wait_result_broken_or_wakeup``) and
    only then moves queued calls in. When spin-1's result arrives, the worker has
    already taken spin-2 (it was in the call queue), so two places are free: spin-3 and
    spin-4 become RUNNING then, not when the worker took spin-2."""
    r = run(REFILL)
    running = {e.task: e.t for e in r.of(FutureChanged) if e.state is FutureState.RUNNING}
    assert running == pytest.approx({"spin-1": 0.0, "spin-2": 0.0, "spin-3": 0.11, "spin-4": 0.11})
    started = {e.task: e.t for e in r.of(TaskStarted)}
    expected = {"spin-1": 0.01, "spin-2": 0.11, "spin-3": 0.21, "spin-4": 0.31}
    assert started == pytest.approx(expected)


CALLBACKS = """version: 2
name: cb
machine: {cores: 4, process_start: 10ms, pickle_overhead: 0}
program:
  model: processes
  max_workers: 2
  main:
    - submit
    - add_done_callback: work
      steps:
        - print: "{name} done in {thread}"
    - collect
tasks:
  - {name: work, repeat: 2, steps: [{cpu: 50ms}]}
"""


def test_done_callbacks_of_a_process_pool_run_in_the_manager_thread() -> None:
    """CPython: ``process_result_item`` sets the result in the manager thread, so the
    future's done-callbacks run there: ``threading.current_thread().name`` is Thread-1;
    the output is the parent's (main's), as a real program's is."""
    r = run(CALLBACKS.replace("{name} done", "work done"))
    created = [(e.lane, e.name) for e in r.of(LaneCreated)]
    assert created == [
        ("main", "main thread"),
        ("process-1", "process-1"),
        ("process-2", "process-2"),
        ("thread-1", "Thread-1"),
    ]
    invoked = [(e.lane, e.task, e.thread) for e in r.of(CallbackInvoked)]
    assert invoked == [("thread-1", "work-1", "Thread-1"), ("thread-1", "work-2", "Thread-1")]
    printed = {(e.lane, e.task) for e in r.of(OutputWritten)}
    assert printed == {("thread-1", None)}
    assert _printed(r) == ["work done in Thread-1", "work done in Thread-1"]
    last = [e for e in r.of(LaneStateChanged) if e.lane == "thread-1"][-1]
    assert (last.state.value, last.step) == ("done", "exited")
    worker_exits = [e.t for e in r.of(LaneStateChanged) if e.step == "exited"]
    assert last.t == max(worker_exits)  # it joins the processes, then returns


UNPICKLABLE = """version: 2
name: up
machine: {cores: 4, process_start: 10ms, pickle_overhead: 0}
program:
  model: processes
  max_workers: 2
  main:
    - submit
    - add_done_callback: save
      steps:
        - print: "save failed in {thread}"
    - collect
tasks:
  - {name: save, unpicklable_arg: lock, steps: [{cpu: 100ms}]}
  - {name: square, repeat: 3, steps: [{cpu: 100ms}]}
"""


def test_the_feeder_thread_fails_an_unpicklable_call_after_the_submits() -> None:
    """CPython: the manager puts save's call in the call queue during the first submit
    (its future is RUNNING when submit returns), but the queue's feeder thread pickles it
    only once main lets go of the GIL: after every submit. ``_on_queue_feeder_error`` sets
    the TypeError on save's future there, in QueueFeederThread, and the pool goes on."""
    r = run(UNPICKLABLE)
    kinds = [
        (type(e).__name__, getattr(e, "task", None))
        for e in r.events
        if isinstance(e, TaskSubmitted | PicklingFailed)
    ]
    assert kinds == [
        ("TaskSubmitted", "save"),
        ("TaskSubmitted", "square-1"),
        ("TaskSubmitted", "square-2"),
        ("TaskSubmitted", "square-3"),
        ("PicklingFailed", "save"),
    ]
    failed = r.one(PicklingFailed)
    assert (failed.t, failed.error, failed.message) == (
        0.0,
        "TypeError",
        "cannot pickle '_thread.lock' object",
    )
    save_running = r.one(FutureChanged, task="save", state=FutureState.RUNNING)
    square_1 = r.one(TaskSubmitted, task="square-1")
    assert save_running.seq < square_1.seq
    assert _printed(r)[0] == "save failed in QueueFeederThread"
    assert r.outcomes() == {
        "save": "never_started",
        "square-1": "ok",
        "square-2": "ok",
        "square-3": "ok",
    }
