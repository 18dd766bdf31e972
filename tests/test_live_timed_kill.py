"""A kill at a moment of time, live: it lands on the task the simulator has the worker
running then, however late the real worker started it (concsim.live.anchors)."""

from __future__ import annotations

import textwrap

from concsim.engine import Injection, Simulation
from concsim.events import Event, FaultRefused, ProcessKilled
from concsim.export.outcome import outcome
from concsim.live.anchors import KillAnchor, kill_anchors, take_anchor
from concsim.live.compare import compare
from concsim.live.session import LiveSession
from concsim.replay import open_scenario
from concsim.scenario.loader import load_scenario_text

EARLY = textwrap.dedent(
    """\
    version: 1
    name: early-kill
    summary: A worker process dies 2 ms after the pool's workers began their first tasks.
    program: {model: processes, max_workers: 2, collect: as_completed}
    tasks:
      - {name: chunk, repeat: 4, steps: [{cpu: 300ms}], returns: "chunk-{i} done"}
    faults:
      - {fault: kill, target: process-2, at: 12ms}
    """
)


LATE = textwrap.dedent(
    """\
    version: 1
    name: late-kill
    summary: A worker process dies in its second task, after its first one returned.
    program: {model: processes, max_workers: 2, collect: as_completed}
    tasks:
      - {name: chunk, repeat: 3, steps: [{cpu: 100ms}], returns: "chunk-{i} done"}
      - {name: tail, steps: [{cpu: 600ms}], returns: "tail done"}
    faults:
      - {fault: kill, target: process-1, at: 150ms}
    """
)


def _outcomes(events: list[Event]) -> dict[str, tuple[str, str | None]]:
    return {task["name"]: (task["outcome"], task["error"]) for task in outcome(events)["tasks"]}


def test_the_simulator_says_what_a_timed_kill_lands_on() -> None:
    """broken-process-pool: at 0.3 s process-2 runs chunk-2, and the four workers have
    started chunk-1 to chunk-4."""
    scenario = open_scenario("broken-process-pool")
    anchors = kill_anchors(scenario, scenario.seed, [])
    chunks = frozenset({"chunk-1", "chunk-2", "chunk-3", "chunk-4"})
    assert anchors == [KillAnchor(0.3, "process-2", "chunk-2", chunks)]
    assert take_anchor(anchors, 0.3, "process-1") is None
    assert take_anchor(anchors, 0.3, "process-2") == KillAnchor(0.3, "process-2", "chunk-2", chunks)
    assert anchors == []


def test_a_kill_of_an_idle_worker_lands_on_no_task() -> None:
    """At 5 ms the simulator's workers are still starting: the kill lands on no task, and
    none has started."""
    scenario = load_scenario_text(EARLY, "s.yaml")
    (anchor,) = kill_anchors(scenario, scenario.seed, [Injection(0.005, "kill", "process-1")])[:1]
    assert anchor == KillAnchor(0.005, "process-1", None, frozenset())


def test_a_timed_kill_waits_for_the_worker_to_run_the_simulators_task() -> None:
    """CPython (Lib/concurrent/futures/process.py, 3.11-3.13): a worker killed while it runs
    a task breaks the pool — the manager thread sees the dead worker's sentinel and fails
    every running and pending future with BrokenProcessPool. At 12 ms the simulator's
    process-2 runs chunk-2 (forked at 10 ms); a real fork and worker start take longer, so a
    SIGKILL sent at 12 ms would find no worker running anything. Live, the kill waits until
    the program has started chunk-1 and chunk-2, then kills the process running chunk-2:
    the same facts as the simulator's."""
    scenario = load_scenario_text(EARLY, "s.yaml")
    simulated = Simulation(scenario).run()
    live = LiveSession(scenario).run_to_end(limit=30)
    assert [e for e in live if isinstance(e, FaultRefused)] == []
    (killed,) = [e for e in live if isinstance(e, ProcessKilled)]
    (expected,) = [e for e in simulated if isinstance(e, ProcessKilled)]
    assert killed.task == expected.task == "chunk-2"
    assert (
        _outcomes(live)
        == _outcomes(simulated)
        == {
            "chunk-1": ("killed", "BrokenProcessPool"),
            "chunk-2": ("killed", "BrokenProcessPool"),
            "chunk-3": ("never_started", "BrokenProcessPool"),
            "chunk-4": ("never_started", "BrokenProcessPool"),
        }
    )
    assert [str(d) for d in compare(scenario, simulated, live) if not d.timing] == []


def test_a_timed_kill_waits_for_the_tasks_the_simulator_has_finished_by_then() -> None:
    """CPython: a worker's results already sent before it dies are delivered (the manager
    thread reads the result pipe before it looks at the workers' sentinels,
    ``wait_result_broken_or_wakeup``). At 150 ms the simulator has chunk-1 and chunk-2
    done and received, and process-1 in chunk-3; on a busy machine the real chunks end
    later, so the kill waits for their ends as well, then kills the process running
    chunk-3. ``tail`` (600 ms, on process-2) is still running then, in both: the kill may
    wait up to 450 ms of its CPU time and still land as simulated."""
    scenario = load_scenario_text(LATE, "s.yaml")
    (anchor,) = kill_anchors(scenario, scenario.seed, [])
    assert (anchor.task, anchor.ended) == ("chunk-3", frozenset({"chunk-1", "chunk-2"}))
    simulated = Simulation(scenario).run()
    live = LiveSession(scenario).run_to_end(limit=30)
    (killed,) = [e for e in live if isinstance(e, ProcessKilled)]
    assert killed.task == "chunk-3"
    assert (
        _outcomes(live)
        == _outcomes(simulated)
        == {
            "chunk-1": ("ok", None),
            "chunk-2": ("ok", None),
            "chunk-3": ("killed", "BrokenProcessPool"),
            "tail": ("killed", "BrokenProcessPool"),
        }
    )
    assert [str(d) for d in compare(scenario, simulated, live) if not d.timing] == []
