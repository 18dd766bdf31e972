"""A process pool's manager thread as CPython 3.11 runs it (Lib/concurrent/futures/process.py,
``_ExecutorManagerThread``, ``shutdown`` and ``flag_executor_shutting_down``;
Lib/concurrent/futures/_base.py, ``Future.cancel``; Lib/threading.py, ``_newname``), measured
by benchmarks/cpython_facts/process_shutdown_cancel.py: the manager is named by the counter
every unnamed thread shares; ``shutdown(cancel_futures=True)`` only sets flags and wakes it;
it cancels the pending futures when it runs, their done-callbacks run there, and no
``wait()`` or ``as_completed()`` waiter hears of them."""

from __future__ import annotations

from typing import Any

from concsim.engine import Simulation
from concsim.events import (
    CallbackInvoked,
    CancelRequested,
    ExecutorShutdown,
    FutureChanged,
    FutureState,
    LaneCreated,
    MainEnded,
    ResultReceived,
    TimeoutExpired,
)
from concsim.scenario.loader import load_scenario_text

SCENARIO = """\
version: 2
name: pool-cancel
program:
  model: processes
  max_workers: 1
  context_manager: false
  collect: {{pattern: {pattern}, timeout: 1s}}
  main:
    - submit
    - {{add_done_callback: jobs, steps: [{{print: "{{thread}}"}}]}}
    - {{sleep: 50ms}}
    - {{shutdown: {{wait: false, cancel_futures: true}}}}
    - collect
tasks:
  - {{name: jobs, repeat: 5, steps: [{{io: 200ms}}], returns: "{{i}}"}}
"""


def simulate(pattern: str, threads_before: int = 0) -> list[Any]:
    sim = Simulation(load_scenario_text(SCENARIO.format(pattern=pattern), "s.yaml"))
    for _ in range(threads_before):  # unnamed threads the program started before the pool
        sim.world.unnamed_thread()
    sim.run()
    return list(sim.events)


def test_the_manager_takes_the_next_number_unnamed_threads_share() -> None:
    """_ExecutorManagerThread is created without a name: Thread-N, N the next number of
    threading._counter; Thread-1 in a program with no other unnamed thread, Thread-3 after
    two (the format cannot yet start one beside a pool: the counter is advanced here)."""
    for before, name in ((0, "Thread-1"), (2, "Thread-3")):
        events = simulate("wait", threads_before=before)
        threads = [(e.lane, e.name) for e in events if isinstance(e, LaneCreated)]
        assert threads == [("main", "main thread"), ("process-1", "process-1"), ("thread-1", name)]
        assert {e.thread for e in events if isinstance(e, CallbackInvoked)} == {name}


def test_the_manager_thread_cancels_the_pending_futures_when_it_wakes() -> None:
    """shutdown() cancels nothing itself: the manager, woken by it, calls future.cancel()
    on jobs-3..5 (jobs-1 runs, jobs-2 sits in the call queue, RUNNING) and runs each
    one's done-callback in its own thread, Thread-1."""
    events = simulate("wait")
    shutdown = next(e for e in events if isinstance(e, ExecutorShutdown))
    assert (shutdown.t, shutdown.cancelled) == (0.05, ())
    cancels = [e for e in events if isinstance(e, CancelRequested)]
    assert [(e.task, e.accepted, e.by) for e in cancels] == [
        ("jobs-3", True, "thread-1"),
        ("jobs-4", True, "thread-1"),
        ("jobs-5", True, "thread-1"),
    ]
    assert all(e.seq > shutdown.seq for e in cancels)
    cancelled = [
        e.task
        for e in events
        if isinstance(e, FutureChanged)
        and e.state is FutureState.CANCELLED
        and e.seq > shutdown.seq
    ]
    assert cancelled == ["jobs-3", "jobs-4", "jobs-5"]
    assert [
        (e.task, e.lane, e.thread)
        for e in events
        if isinstance(e, CallbackInvoked) and e.task in cancelled
    ] == [
        ("jobs-3", "thread-1", "Thread-1"),
        ("jobs-4", "thread-1", "Thread-1"),
        ("jobs-5", "thread-1", "Thread-1"),
    ]


def test_wait_never_hears_of_the_futures_the_manager_cancelled() -> None:
    """Future.cancel() notifies no wait() waiter: wait(timeout=1) returns at its timeout,
    1.05 s, with the two that ran done."""
    events = simulate("wait")
    assert [(e.t, e.on) for e in events if isinstance(e, TimeoutExpired)] == [
        (1.05, "wait(ALL_COMPLETED)")
    ]
    assert [e.task for e in events if isinstance(e, ResultReceived)] == ["jobs-1", "jobs-2"]
    assert [(e.t, e.outcome.value) for e in events if isinstance(e, MainEnded)] == [(1.05, "ok")]


def test_as_completed_times_out_on_the_futures_the_manager_cancelled() -> None:
    """as_completed(timeout=1) yields the two that ran, then raises TimeoutError naming
    the three cancelled futures it was never told of."""
    events = simulate("as_completed")
    ended = next(e for e in events if isinstance(e, MainEnded))
    assert (ended.t, ended.error, ended.message) == (
        1.05,
        "TimeoutError",
        "3 (of 5) futures unfinished",
    )


def test_plain_threads_take_their_numbers_from_the_same_counter() -> None:
    """threading.Thread(target=f) is Thread-N (f), N from the same counter: after three
    plain threads, the next unnamed thread would be Thread-4."""
    text = (
        "name: plain\nprogram: {model: threads, executor: false}\n"
        "tasks:\n  - {name: job, repeat: 3, steps: [{io: 10ms}]}\n"
    )
    sim = Simulation(load_scenario_text(text, "s.yaml"))
    sim.run()
    assert sim.world.unnamed_threads == 3
    assert sim.world.unnamed_thread() == "Thread-4"
