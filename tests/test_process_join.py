"""``join_process: NAME`` with ``timeout`` (format version 2): ``Process.join(timeout)`` as
CPython has it (Lib/multiprocessing/process.py, ``BaseProcess.join``; popen_fork.py,
``Popen.wait``)."""

from __future__ import annotations

import textwrap

import pytest

from concsim.codegen import SiteKind, program
from concsim.engine import Simulation
from concsim.events import ProcessExited, TimeoutExpired
from concsim.export.outcome import outcome
from concsim.scenario.errors import ScenarioError
from concsim.scenario.loader import load_scenario_text
from concsim.scenario.schema import json_schema

PROCESSES = """
version: 2
name: procs
program:
  model: processes
  executor: false
  main: MAIN
tasks:
  - name: worker
    steps: [{sleep: 2s}]
    cleanup: [{print: cleanup ran}]
  - name: fine
    steps: [{sleep: 50ms}]
  - name: copy
    repeat: 2
    steps: [{sleep: 1s}]
"""


def run(main: str) -> tuple[Simulation, dict]:
    sim = Simulation(load_scenario_text(PROCESSES.replace("MAIN", main), "test.yaml"))
    sim.run()
    return sim, outcome(sim.events)


def exits(sim: Simulation) -> dict[str | None, tuple[int, str | None, float]]:
    return {
        e.task: (e.exitcode, e.signal, round(e.t, 3))
        for e in sim.events
        if isinstance(e, ProcessExited)
    }


def test_join_with_a_timeout_returns_with_the_process_still_alive() -> None:
    """``p.join(0.3)`` on a child that sleeps 2 s returns None after 0.3 s with the child
    alive (``is_alive()`` True, ``exitcode`` None); ``terminate()`` then ends it: -15
    (measured on CPython 3.11: join(0.3) -> None after 0.30 s, alive True, exitcode None,
    then -15)."""
    sim, result = run("[submit, {join_process: worker, timeout: 300ms}, {terminate: worker}]")
    timeouts = [
        (e.waiter, e.on, round(e.t, 3)) for e in sim.events if isinstance(e, TimeoutExpired)
    ]
    assert timeouts == [("main", "worker.join(0.3)", 0.3)]
    assert exits(sim)["worker"] == (-15, "SIGTERM", 0.3)
    assert result["main"] == {"outcome": "ok", "error": None}
    assert "cleanup ran" not in result["output"]


def test_join_of_an_ended_process_returns_before_its_timeout() -> None:
    """``Popen.wait`` returns as soon as the child has exited: ``fine`` ends at 60 ms, so
    ``join(1.0)`` returns then, and nothing timed out."""
    main = "[submit, {join_process: fine, timeout: 1s}, {terminate: worker}, {terminate: copy}]"
    sim, result = run(main)
    assert not [e for e in sim.events if isinstance(e, TimeoutExpired)]
    assert exits(sim)["worker"] == (-15, "SIGTERM", 0.06)
    assert result["elapsed"] == 0.06


def test_join_without_a_timeout_waits_for_the_end() -> None:
    sim, result = run("[submit, {join_process: worker}]")
    assert exits(sim)["worker"] == (0, None, 2.01)
    assert not [e for e in sim.events if isinstance(e, TimeoutExpired)]
    assert result["output"] == ["cleanup ran"]


def test_each_copy_of_a_repeated_task_is_joined_in_turn_each_with_its_timeout() -> None:
    """``processes[k].join(0.3)`` for each copy: the second join starts when the first
    timed out, so the two time out at 0.3 s and 0.6 s."""
    sim, _ = run("[submit, {join_process: copy, timeout: 300ms}, {terminate: copy}]")
    timeouts = [(e.on, round(e.t, 3)) for e in sim.events if isinstance(e, TimeoutExpired)]
    assert timeouts == [("copy.join(0.3)", 0.3), ("copy.join(0.3)", 0.6)]
    assert exits(sim)["copy-1"] == (-15, "SIGTERM", 0.6)


def test_join_of_a_process_never_started_raises_assertion_error() -> None:
    """``BaseProcess.join`` asserts ``self._popen is not None``: AssertionError('can only
    join a started process') (measured on 3.11)."""
    _, result = run("[{join_process: worker, timeout: 1s}]")
    assert result["main"] == {"outcome": "raised", "error": "AssertionError"}
    assert result["output"][-1] == "AssertionError: can only join a started process"


def _error(text: str) -> str:
    with pytest.raises(ScenarioError) as info:
        load_scenario_text(textwrap.dedent(text), "t.yaml")
    return str(info.value)


def test_join_process_names_a_task_with_did_you_mean() -> None:
    text = PROCESSES.replace("MAIN", "[submit, {join_process: wrker, timeout: 1s}]")
    assert _error(text) == (
        "t.yaml:7:33: program.main[1].join_process: no task named `wrker`; did you mean `worker`?"
    )


def test_join_process_is_a_main_step_only() -> None:
    text = PROCESSES.replace("MAIN", "[submit]").replace(
        "steps: [{sleep: 50ms}]", "steps: [{join_process: worker}]"
    )
    assert _error(text) == (
        "t.yaml:13:13: tasks[1].steps[0]: `join_process` is a step of the main program; "
        "expected it under program.main, not in a task"
    )


def test_join_process_needs_plain_processes() -> None:
    text = PROCESSES.replace("MAIN", "[submit, {join_process: worker}]").replace(
        "executor: false", "executor: true"
    )
    assert _error(text) == (
        "t.yaml:5:3: program: a `join_process` step needs plain processes: model processes "
        "with executor: false"
    )


def test_join_process_timeout_is_a_duration() -> None:
    text = PROCESSES.replace("MAIN", "[submit, {join_process: worker, timeout: soon}]")
    assert _error(text) == (
        "t.yaml:7:50: program.main[1].timeout: expected a duration such as 250ms or 1.5s, "
        "got 'soon'"
    )


def test_join_process_is_version_2() -> None:
    text = PROCESSES.replace("MAIN", "[submit, {join_process: worker}]").replace(
        "version: 2", "version: 1"
    )
    assert _error(text) == (
        "t.yaml:7:19: program.main[1].join_process: `join_process` is a version-2 step; "
        "expected `version: 2` at the top of the file"
    )


def test_the_schema_marks_join_process_version_2() -> None:
    defs = json_schema()["$defs"]
    assert defs["JoinProcessStep"]["since"] == 2
    assert set(defs["JoinProcessStep"]["properties"]) >= {"join_process", "timeout"}


def test_the_program_joins_by_position_with_its_timeout() -> None:
    main = "[submit, {join_process: worker, timeout: 300ms}, {terminate: worker}, collect]"
    prog = program(load_scenario_text(PROCESSES.replace("MAIN", main), "test.yaml"))
    lines = [line.strip() for line in prog.source.splitlines()]
    at = lines.index("processes[0].join(0.3)")
    assert lines[at + 1 : at + 4] == [
        "processes[0].terminate()",
        "for process in processes:",
        "process.join()",
    ]
    assert SiteKind.JOIN_PROCESS in {site.kind for site in prog.sites.values()}
