"""Plain ``multiprocessing.Process`` tasks: exitcode, terminate(), kill(), sys.exit(n) (format
version 2), each against the CPython behaviour it mirrors (Lib/multiprocessing/process.py,
BaseProcess._bootstrap; Lib/multiprocessing/popen_fork.py, Popen._send_signal)."""

from __future__ import annotations

import textwrap

import pytest

from concsim.codegen import SiteKind, program
from concsim.engine import Injection, Simulation
from concsim.events import CleanupSkipped, OutputWritten, ProcessExited, TaskEnded
from concsim.export.outcome import outcome
from concsim.export.verdicts import judge
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
  - name: quitter
    steps: [{sleep: 100ms}, {exit: 3}]
  - name: bad
    steps: [{raise: ValueError, message: boom}]
  - name: fine
    steps: [{sleep: 50ms}]
"""


def run(main: str, **kwargs: object) -> tuple[Simulation, dict]:
    text = PROCESSES.replace("MAIN", main)
    sim = Simulation(load_scenario_text(text, "test.yaml"), **kwargs)  # type: ignore[arg-type]
    sim.run()
    return sim, outcome(sim.events)


def exits(sim: Simulation) -> dict[str | None, tuple[int, str | None, float]]:
    return {
        e.task: (e.exitcode, e.signal, round(e.t, 3))
        for e in sim.events
        if isinstance(e, ProcessExited)
    }


def test_exitcode_is_0_on_return_1_on_an_exception_and_n_for_sys_exit() -> None:
    """BaseProcess._bootstrap: ``run()`` returning gives exitcode 0; an uncaught exception
    prints "Process NAME:" and the traceback, exitcode 1; ``sys.exit(3)`` gives 3 (measured
    on CPython 3.11: 3, 1 with the traceback, 0)."""
    sim, result = run("[submit, collect]")
    assert exits(sim) == {
        "bad": (1, None, 0.01),
        "fine": (0, None, 0.06),
        "quitter": (3, None, 0.11),
        "worker": (0, None, 2.01),
    }
    codes = {task["name"]: task["exitcode"] for task in result["tasks"]}
    assert codes == {"worker": 0, "quitter": 3, "bad": 1, "fine": 0}
    assert result["output"] == [
        "Process bad:",
        "Traceback (most recent call last):",
        "  ...",
        "ValueError: boom",
        "cleanup ran",
    ]


def test_terminate_sends_sigterm_the_finally_never_runs_and_exitcode_is_minus_15() -> None:
    """Process.terminate() is SIGTERM, whose default action ends the child where it stands:
    its finally block never runs, exitcode -15 (measured: the cleanup file is never
    written, exitcode -15 after join())."""
    sim, result = run("[submit, {sleep: 300ms}, {terminate: worker}, collect]")
    assert exits(sim)["worker"] == (-15, "SIGTERM", 0.3)
    worker = next(task for task in result["tasks"] if task["name"] == "worker")
    assert worker == {
        "name": "worker",
        "outcome": "killed",
        "error": None,
        "started": 0.01,
        "ended": 0.3,
        "cleanup": "skipped",
        "exitcode": -15,
    }
    assert "cleanup ran" not in result["output"]
    skipped = [e for e in sim.events if isinstance(e, CleanupSkipped)]
    assert [e.reason for e in skipped] == [
        "Process.terminate() sends SIGTERM: the child dies without its finally"
    ]
    assert result["elapsed"] == 0.3  # join() returns at once: the process is gone


def test_kill_sends_sigkill_exitcode_minus_9() -> None:
    """Process.kill() is SIGKILL: exitcode -9, no finally (measured: -9)."""
    sim, result = run("[submit, {sleep: 300ms}, {kill: worker}, collect]")
    assert exits(sim)["worker"] == (-9, "SIGKILL", 0.3)
    assert "cleanup ran" not in result["output"]


def test_terminating_a_process_that_has_ended_changes_nothing() -> None:
    """Popen._send_signal does nothing once the returncode is known: ``fine`` keeps 0."""
    sim, _ = run("[submit, {sleep: 300ms}, {terminate: fine}, collect]")
    assert exits(sim)["fine"] == (0, None, 0.06)
    assert [e.task for e in sim.events if isinstance(e, ProcessExited)].count("fine") == 1


def test_terminating_a_process_never_started_raises_attribute_error() -> None:
    """Before start() a Process has no _popen: ``p.terminate()`` raises AttributeError
    ('NoneType' object has no attribute 'terminate'), as measured on 3.11."""
    _, result = run("[{terminate: worker}]")
    assert result["main"] == {"outcome": "raised", "error": "AttributeError"}
    assert result["output"][-1] == "AttributeError: 'NoneType' object has no attribute 'terminate'"


def test_a_kill_fault_on_a_plain_process_gives_exitcode_minus_9() -> None:
    """A ``kill`` fault is SIGKILL from outside: the parent reads exitcode -9."""
    sim, _ = run("[submit, collect]", injections=[Injection(0.5, "kill", "worker")])
    assert exits(sim)["worker"] == (-9, "SIGKILL", 0.5)


def test_sys_exit_keeps_the_low_8_bits_and_text_is_printed_with_exitcode_1() -> None:
    """_bootstrap passes an int code to os._exit, which keeps its low 8 bits; a code that
    is not an int is written to stderr and the exitcode is 1."""
    text = PROCESSES.replace("MAIN", "[submit, collect]").replace(
        "{exit: 3}", "{raise: SystemExit, message: stopping}"
    )
    sim = Simulation(load_scenario_text(text, "test.yaml"))
    sim.run()
    assert exits(sim)["quitter"] == (1, None, 0.11)
    printed = [e.text for e in sim.events if isinstance(e, OutputWritten) and e.task == "quitter"]
    assert printed == ["stopping\n"]
    ended = [e for e in sim.events if isinstance(e, TaskEnded) and e.task == "quitter"]
    assert [(e.outcome, e.error) for e in ended] == [("failed", "SystemExit")]


def test_expect_asserts_exitcode() -> None:
    text = PROCESSES.replace("MAIN", "[submit, {sleep: 300ms}, {terminate: worker}, collect]")
    text += textwrap.dedent(
        """
        expect:
          - grade: acceptable
            when: {tasks: {worker: {exitcode: -15}, quitter: {exitcode: 3}}}
          - grade: forbidden
            when: {tasks: {worker: {exitcode: 0}}}
        """
    )
    scenario = load_scenario_text(text, "test.yaml")
    sim = Simulation(scenario)
    sim.run()
    verdicts = judge(scenario.expect, outcome(sim.events))
    assert [v.matched for v in verdicts] == [True, False]
    assert verdicts[1].unmet == "tasks.worker.exitcode is -15, expected 0"


def _error(text: str) -> str:
    with pytest.raises(ScenarioError) as info:
        load_scenario_text(textwrap.dedent(text), "t.yaml")
    return str(info.value)


def test_terminate_names_a_task_with_did_you_mean() -> None:
    text = PROCESSES.replace("MAIN", "[submit, {terminate: wrker}]")
    assert _error(text) == (
        "t.yaml:7:30: program.main[1].terminate: no task named `wrker`; did you mean `worker`?"
    )


def test_terminate_is_a_main_step_only() -> None:
    text = PROCESSES.replace("MAIN", "[submit]").replace("{exit: 3}", "{kill: worker}")
    assert _error(text) == (
        "t.yaml:13:29: tasks[1].steps[1]: `kill` is a step of the main program; expected it "
        "under program.main, not in a task"
    )


def test_terminate_needs_plain_processes() -> None:
    text = PROCESSES.replace("MAIN", "[submit, {terminate: worker}]").replace(
        "executor: false", "executor: true"
    )
    assert _error(text) == (
        "t.yaml:5:3: program: a `terminate` step needs plain processes: model processes with "
        "executor: false"
    )


def test_terminate_and_exit_are_version_2() -> None:
    text = PROCESSES.replace("MAIN", "[submit, {terminate: worker}]").replace(
        "version: 2", "version: 1"
    )
    assert _error(text).splitlines() == [
        "t.yaml:7:19: program.main[1].terminate: `terminate` is a version-2 step; expected "
        "`version: 2` at the top of the file",
        "t.yaml:13:30: tasks[1].steps[1].exit: `exit` is a version-2 step; expected "
        "`version: 2` at the top of the file",
    ]


def test_exit_code_out_of_range_is_one_line() -> None:
    text = PROCESSES.replace("MAIN", "[submit]").replace("{exit: 3}", "{exit: 300}")
    assert (
        _error(text)
        == "t.yaml:13:36: tasks[1].steps[1].exit: expected a number 255 or less, got 300"
    )


def test_the_schema_marks_the_steps_and_the_condition_version_2() -> None:
    defs = json_schema()["$defs"]
    assert defs["TerminateStep"]["since"] == 2
    assert defs["KillStep"]["since"] == 2
    assert defs["ExitStep"]["since"] == 2
    assert defs["TaskCondition"]["properties"]["exitcode"]["since"] == 2


def test_the_program_terminates_and_kills_by_position_and_exits_with_sys_exit() -> None:
    text = PROCESSES.replace(
        "MAIN", "[submit, {sleep: 300ms}, {terminate: worker}, {kill: fine}, collect]"
    )
    prog = program(load_scenario_text(text, "test.yaml"))
    lines = [line.strip() for line in prog.source.splitlines()]
    at = lines.index("time.sleep(0.3)")
    assert lines[at + 1 : at + 5] == [
        "processes[0].terminate()",
        "processes[3].kill()",
        "for process in processes:",
        "process.join()",
    ]
    assert "sys.exit(3)" in lines
    assert lines[lines.index("sys.exit(3)") + 1] == ""  # no dead ``return`` after it
    kinds = {site.kind for site in prog.sites.values()}
    assert {SiteKind.TERMINATE, SiteKind.KILL, SiteKind.EXIT} <= kinds
