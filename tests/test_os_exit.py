"""``os_exit: N`` in main (format version 2): ``os._exit(n)`` ends the process at once, with
nothing of the interpreter's shutdown (Modules/posixmodule.c, os__exit_impl)."""

from __future__ import annotations

import textwrap

import pytest

from concsim.codegen import program
from concsim.engine import Simulation
from concsim.events import MainEnded
from concsim.export.outcome import outcome
from concsim.scenario.errors import ScenarioError
from concsim.scenario.loader import load_scenario_text

POOL = """
version: 2
name: exits
program:
  model: threads
  max_workers: 2
  main:
    - submit
    - sleep: 150ms
    - os_exit: 4
  on_error: [{print: on_error ran}]
  shutdown: {wait: true}
  atexit: [{print: atexit ran}]
tasks:
  - name: job
    repeat: 3
    steps: [{sleep: 100ms}]
    cleanup: [{print: cleanup ran}]
"""


def test_os_exit_skips_finally_atexit_and_the_join_of_threads() -> None:
    """os._exit(4) at 0.15 s: main's except/finally (on_error, shutdown(wait=True)) and the
    atexit handler never run; the pool thread running job-3 dies mid-sleep (its finally
    skipped); the exit status is 4 (measured on 3.11: only the two cleanups done before,
    status 4, at 0.15 s)."""
    sim = Simulation(load_scenario_text(POOL, "test.yaml"))
    sim.run()
    result = outcome(sim.events)
    assert result["main"] == {"outcome": "exited", "error": None}
    assert result["exit_code"] == 4
    assert result["elapsed"] == pytest.approx(0.15)
    assert result["output"] == ["cleanup ran", "cleanup ran"]
    outcomes = [(t["name"], t["outcome"], t["cleanup"]) for t in result["tasks"]]
    assert outcomes == [
        ("job-1", "ok", "ran"),
        ("job-2", "ok", "ran"),
        ("job-3", "killed", "skipped"),
    ]
    ended = [e for e in sim.events if isinstance(e, MainEnded)]
    assert [(e.outcome, e.message) for e in ended] == [("exited", "4")]
    assert ended[0].why == (
        "The main program called os._exit(4): the process ended at once, with no finally "
        "block, no atexit handler and no thread joined."
    )


def test_the_program_calls_os_exit() -> None:
    lines = [
        line.strip() for line in program(load_scenario_text(POOL, "t.yaml")).source.splitlines()
    ]
    assert "os._exit(4)" in lines
    assert "import os" in lines


def _error(text: str) -> str:
    with pytest.raises(ScenarioError) as info:
        load_scenario_text(textwrap.dedent(text), "t.yaml")
    return str(info.value)


def test_os_exit_is_refused_with_processes_in_one_line() -> None:
    text = POOL.replace("model: threads", "model: processes")
    assert _error(text) == (
        "t.yaml:5:3: program: `os_exit` is modelled for sequential and threads: child "
        "processes outlive the parent, and asyncio.run() is not unwound"
    )


def test_os_exit_is_a_main_step_of_version_2() -> None:
    text = POOL.replace("steps: [{sleep: 100ms}]", "steps: [{os_exit: 1}]")
    assert _error(text) == (
        "t.yaml:17:13: tasks[0].steps[0]: `os_exit` is a step of the main program; expected "
        "it under program.main, not in a task"
    )
    assert _error(POOL.replace("version: 2", "version: 1")).splitlines()[0] == (
        "t.yaml:10:7: program.main[2].os_exit: `os_exit` is a version-2 step; expected "
        "`version: 2` at the top of the file"
    )
