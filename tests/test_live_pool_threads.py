"""Live runs observe a pool's own threads as the simulator draws them: the process pool's
manager thread (Lib/concurrent/futures/process.py, ``_ExecutorManagerThread``: a thread of
the parent, ``Thread-N``), the done-callbacks it runs (``Future._invoke_callbacks`` in the
thread that completes the future), and which thread called ``Future.cancel()``."""

from __future__ import annotations

import textwrap
from typing import Any

from concsim.engine import Simulation
from concsim.events import (
    CallbackInvoked,
    CancelRequested,
    LaneCreated,
    LaneKind,
    LaneState,
    LaneStateChanged,
)
from concsim.live.compare import compare
from concsim.live.session import LiveSession
from concsim.scenario.library import find_scenario
from concsim.scenario.loader import load_scenario, load_scenario_text

LOOSE = 3.0


def both(scenario: Any, variant: str | None = None) -> tuple[list[Any], list[Any]]:
    simulation = Simulation(scenario, variant=variant)
    simulation.run()
    live = LiveSession(scenario, variant=variant).run_to_end(limit=20)
    return list(simulation.events), live


def test_the_manager_thread_has_its_lane_and_runs_the_callbacks_live() -> None:
    """done-callbacks on a process pool: the manager's lane thread-1 is named Thread-1 as
    soon as it starts, quick_done and slow_done run on it, the late callback on main."""
    scenario = load_scenario(find_scenario("done-callbacks"))
    simulated, live = both(scenario, "process-pool")
    threads = [
        (e.lane, e.name)
        for e in live
        if isinstance(e, LaneCreated) and e.lane_kind is LaneKind.THREAD
    ]
    assert threads == [("thread-1", "Thread-1")]
    calls = sorted(
        (e.lane, e.task, e.callback, e.thread) for e in live if isinstance(e, CallbackInvoked)
    )
    assert calls == [
        ("main", "quick", "quick_done_2", "MainThread"),
        ("thread-1", "quick", "quick_done", "Thread-1"),
        ("thread-1", "slow", "slow_done", "Thread-1"),
    ]
    ended = [e for e in live if isinstance(e, LaneStateChanged) and e.lane == "thread-1"]
    assert [(e.state, e.step) for e in ended][-1:] == [(LaneState.DONE, "exited")]
    disagreements = compare(scenario.variant("process-pool"), simulated, live, loose=LOOSE)
    assert [d for d in disagreements if not d.timing] == []


def test_a_cancel_called_by_main_is_drawn_on_mains_row_live() -> None:
    """done-callbacks: main's slow.cancel() returns False (slow runs): CancelRequested
    by main, live as simulated."""
    scenario = load_scenario(find_scenario("done-callbacks"))
    simulated, live = both(scenario)
    cancels = [(e.task, e.accepted, e.by) for e in live if isinstance(e, CancelRequested)]
    assert cancels == [("slow", False, "main")]
    assert cancels == [
        (e.task, e.accepted, e.by) for e in simulated if isinstance(e, CancelRequested)
    ]


SHUTDOWN = load_scenario_text(
    textwrap.dedent(
        """
        version: 2
        name: manager-cancels
        program:
          model: processes
          max_workers: 1
          context_manager: false
          collect: {pattern: wait, timeout: 1s}
          main:
            - submit
            - {sleep: 50ms}
            - {shutdown: {wait: false, cancel_futures: true}}
            - collect
        tasks:
          - {name: jobs, repeat: 5, steps: [{io: 200ms}], returns: "{i}"}
        """
    )
)


def test_the_managers_cancels_at_shutdown_are_its_own_live() -> None:
    """shutdown(cancel_futures=True): the manager thread (thread-1) calls cancel() on the
    pending futures, live as simulated (2 or 3 calls are RUNNING by then, run to run)."""
    simulated, live = both(SHUTDOWN)
    cancels = [(e.task, e.accepted, e.by) for e in live if isinstance(e, CancelRequested)]
    running = 5 - len(cancels)
    assert running in (2, 3)
    assert cancels == [(f"jobs-{k}", True, "thread-1") for k in range(running + 1, 6)]
    simulated_cancels = [(e.task, e.by) for e in simulated if isinstance(e, CancelRequested)]
    assert simulated_cancels == [(f"jobs-{k}", "thread-1") for k in (3, 4, 5)]


def test_check_names_a_manager_thread_the_simulator_misnamed() -> None:
    """The manager's name is a compared fact."""
    scenario = load_scenario(find_scenario("done-callbacks")).variant("process-pool")
    simulation = Simulation(scenario)
    simulation.run()
    simulated = list(simulation.events)
    renamed = [
        LaneCreated(
            t=e.t, seq=e.seq, lane=e.lane, lane_kind=e.lane_kind, name="Thread-2", process="main"
        )
        if isinstance(e, LaneCreated) and e.name == "Thread-1"
        else e
        for e in simulated
    ]
    found = [str(d) for d in compare(scenario, simulated, renamed)]
    assert found == [
        "the process pool's manager thread: simulator says ['Thread-1'], CPython did ['Thread-2']"
    ]


def test_a_cancel_from_the_probes_own_thread_adds_no_thread_to_the_program() -> None:
    """The control thread is a bare ``_thread``: asking ``threading.current_thread()`` there
    would register a ``_DummyThread`` the program sees, numbered from its own Thread-N
    counter. The recorded ``cancel`` and callbacks never ask it."""
    import _thread
    import threading
    from concurrent.futures import Future

    from concsim.live import pool_threads

    emitted: list[tuple[str, dict[str, Any]]] = []

    class Out:
        def emit(self, kind: str, **fields: Any) -> None:
            emitted.append((kind, fields))

    class Patched(Future):  # type: ignore[type-arg]
        pass

    future = Patched()
    names = {id(future): ["job-1"]}
    pool_threads.patch_future(Patched, __file__, names, Out())  # type: ignore[arg-type]

    def on_done(f: Any) -> None:
        pass

    future.add_done_callback(on_done)
    before = set(threading._active)  # type: ignore[attr-defined]
    done = threading.Event()
    results: list[bool] = []

    def control() -> None:
        results.append(future.cancel())
        done.set()

    _thread.start_new_thread(control, ())
    assert done.wait(10)
    assert results == [True]
    assert set(threading._active) == before  # type: ignore[attr-defined]
    assert emitted == [
        ("callback", {"task": "job-1", "callback": "on_done", "thread": "concsim-probe"})
    ]
