"""``machine.start_method`` (format version 2): ``multiprocessing.set_start_method`` with
what it costs and what it changes for a plain ``multiprocessing.Process``, against CPython
(Lib/multiprocessing/context.py, popen_fork.py, popen_spawn_posix.py; measured with
benchmarks/start_method.py on CPython 3.11.7)."""

from __future__ import annotations

import textwrap

import pytest

from concsim.codegen import program
from concsim.engine import Simulation
from concsim.events import TaskStarted
from concsim.export.outcome import outcome
from concsim.scenario.errors import ScenarioError
from concsim.scenario.loader import load_scenario_text
from concsim.scenario.model import StartMethod
from concsim.scenario.schema import json_schema

SCENARIO = """
version: 2
name: start
machine: MACHINE
program:
  model: processes
  executor: false
  collect: join
tasks:
  - name: square
    steps: [{cpu: 50ms}]
  - name: helper
    picklable: PICKLABLE
    steps: [{cpu: 50ms}]
"""

VARIANT = "variants:\n  - name: served\n    machine: {start_method: forkserver}\n"


def text(machine: str = "{}", picklable: str = "false") -> str:
    return SCENARIO.replace("MACHINE", machine).replace("PICKLABLE", picklable)


def run(machine: str = "{}", picklable: str = "false") -> tuple[Simulation, dict]:
    sim = Simulation(load_scenario_text(text(machine, picklable), "test.yaml"))
    sim.run()
    return sim, outcome(sim.events)


def started(sim: Simulation) -> dict[str, float]:
    return {e.task: round(e.t, 4) for e in sim.events if isinstance(e, TaskStarted)}


def test_the_default_is_fork_up_to_3_13_and_forkserver_from_3_14() -> None:
    """Linux's default start method: fork until 3.13; 3.14 made it forkserver (gh-84559)."""
    methods = {
        python: load_scenario_text(
            text(f'{{python: "{python}"}}'), "t.yaml"
        ).machine.resolved_start_method
        for python in ("3.11", "3.12", "3.13", "3.13t", "3.14", "3.14t")
    }
    assert methods == {
        "3.11": StartMethod.FORK,
        "3.12": StartMethod.FORK,
        "3.13": StartMethod.FORK,
        "3.13t": StartMethod.FORK,
        "3.14": StartMethod.FORKSERVER,
        "3.14t": StartMethod.FORKSERVER,
    }


def test_each_start_method_brings_its_measured_start_cost() -> None:
    """Process.start() to the child's first line, measured (minimum of 15 on a busy
    machine): fork 1.6 ms (10 ms kept, the pool's first task), forkserver 40 ms, spawn
    127 ms: a new interpreter that imports the main module again."""
    costs = {
        method: load_scenario_text(
            text(f"{{start_method: {method}}}"), "t.yaml"
        ).machine.process_start
        for method in ("fork", "forkserver", "spawn")
    }
    assert costs == {"fork": 10_000, "forkserver": 40_000, "spawn": 130_000}
    own = load_scenario_text(text("{start_method: spawn, process_start: 5ms}"), "t.yaml")
    assert own.machine.process_start == 5_000  # the file's own figure wins
    sim, _ = run("{start_method: spawn}", picklable="true")
    assert started(sim) == {"square": 0.13, "helper": 0.13}


def test_a_variant_with_another_start_method_brings_its_cost() -> None:
    scenario = load_scenario_text(
        text(picklable="true")
        + "variants:\n  - name: spawned\n    machine: {start_method: spawn}\n",
        "t.yaml",
    )
    assert scenario.machine.process_start == 10_000
    assert scenario.variant("spawned").machine.process_start == 130_000


def test_under_fork_a_function_defined_in_main_is_a_process_target_that_works() -> None:
    """fork copies the parent: the child calls the local function it inherited, nothing is
    pickled (measured: exitcode 0)."""
    _, result = run("{start_method: fork}")
    assert result["main"] == {"outcome": "ok", "error": None}
    assert {t["name"]: t["exitcode"] for t in result["tasks"]} == {"square": 0, "helper": 0}


@pytest.mark.parametrize("method", ["spawn", "forkserver"])
def test_under_spawn_start_pickles_the_target_and_a_local_function_fails(method: str) -> None:
    """spawn and forkserver pickle the Process object, its target with it, in start(),
    before any child exists (popen_spawn_posix.Popen._launch): a function defined inside
    main() raises in the parent (measured on 3.11: AttributeError: Can't pickle local
    object 'main.<locals>.local'). The process started before it runs on; at exit the
    parent joins it."""
    _, result = run(f"{{start_method: {method}}}")
    assert result["main"] == {"outcome": "raised", "error": "AttributeError"}
    assert (
        result["output"][-1] == "AttributeError: Can't pickle local object 'main.<locals>.helper'"
    )
    outcomes = {t["name"]: t["outcome"] for t in result["tasks"]}
    assert outcomes == {"square": "ok", "helper": "never_started"}


def test_the_pickling_message_follows_the_python_version_and_the_lambda() -> None:
    """3.13 reports the failed lookup ("Can't get local object"); a lambda in main() is
    ``<lambda>``."""
    _, result = run('{start_method: spawn, python: "3.13"}')
    assert result["output"][-1] == "AttributeError: Can't get local object 'main.<locals>.helper'"
    _, result = run("{start_method: spawn}", picklable="lambda")
    assert result["output"][-1] == (
        "AttributeError: Can't pickle local object 'main.<locals>.<lambda>'"
    )


def _error(source: str) -> str:
    with pytest.raises(ScenarioError) as info:
        load_scenario_text(textwrap.dedent(source), "t.yaml")
    return str(info.value)


def test_an_unknown_start_method_is_one_line_with_did_you_mean() -> None:
    assert _error(text("{start_method: spwan}")) == (
        "t.yaml:4:25: machine.start_method: expected one of fork, spawn, forkserver, got "
        "'spwan'; did you mean `spawn`?"
    )


def test_start_method_is_version_2() -> None:
    source = text("{start_method: spawn}", picklable="true").replace("version: 2", "version: 1")
    assert _error(source) == (
        "t.yaml:4:11: machine.start_method: `start_method` is a version-2 key; expected "
        "`version: 2` at the top of the file"
    )


def test_spawn_with_a_stop_event_used_by_an_atexit_handler_is_refused() -> None:
    """An atexit handler is a module-level function: main's local event is not in its
    scope, and a module-level one would be another event in each child."""
    source = text("{start_method: spawn}", picklable="true").replace(
        "  collect: join\n", "  collect: join\n  atexit: [set_stop]\n", 1
    )
    assert _error(source) == (
        "t.yaml:4:25: machine.start_method: under `spawn` each child imports the program "
        "again and makes its own stop event, so the processes would not share it; expected fork"
    )


def test_the_schema_marks_start_method_version_2() -> None:
    machine = json_schema()["$defs"]["Machine"]["properties"]["start_method"]
    assert machine["since"] == 2


def test_the_program_sets_the_start_method_in_its_main_block() -> None:
    source = program(load_scenario_text(text("{start_method: spawn}"), "t.yaml")).source
    spawned = load_scenario_text(text() + VARIANT, "t.yaml")
    assert 'set_start_method("forkserver")' in program(spawned, "served").source
    lines = source.splitlines()
    at = lines.index('if __name__ == "__main__":')
    assert lines[at + 1 : at + 3] == [
        '    multiprocessing.set_start_method("spawn")',
        "    main()",
    ]
    default = program(load_scenario_text(text(), "t.yaml")).source
    assert "set_start_method" not in default  # the platform's default, as written
