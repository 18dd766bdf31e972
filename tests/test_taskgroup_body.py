"""A TaskGroup whose ``async with`` body runs steps while its children run (format version 2,
``taskgroup`` with ``steps``), against Lib/asyncio/taskgroups.py of CPython 3.11."""

from __future__ import annotations

import textwrap

import pytest
from faultkit import Run, scenario

from concsim.codegen import program
from concsim.engine import Simulation
from concsim.events import CancelRequested, TaskEnded
from concsim.export.outcome import outcome
from concsim.live.check import check_one
from concsim.scenario.errors import ScenarioError
from concsim.scenario.loader import load_scenario_text

BODY = """
    version: 2
    name: s
    program:
      model: asyncio
      collect: none
      main:
        - create_task: parent
        - create_task: raiser
        - create_task: outside
        - sleep: 100ms
        - cancel: outside
        - await: parent
        - try: [{await: raiser}]
          except: [{type: ExceptionGroup}]
        - try: [{await: outside}]
          except: [{type: CancelledError}]
    tasks:
      - name: parent
        steps:
          - try:
              - taskgroup: [fails, slow-1]
                steps:
                  - {sleep: 1s, label: await body()}
                  - {sleep: 1s}
            except: [{type: ExceptionGroup}]
          - sleep: 100ms
        returns: went on
      - name: raiser
        steps:
          - taskgroup: [slow-2]
            steps: [{sleep: 100ms}, {raise: KeyError, message: k}]
      - name: outside
        steps:
          - taskgroup: [slow-3]
            steps: [{sleep: 1s}]
      - name: fails
        steps: [{sleep: 300ms}, {raise: ValueError, message: bad}]
      - name: slow
        repeat: 3
        steps: [{sleep: 2s}]
        cleanup: [{sleep: 50ms}]
    """


def run(text: str) -> Run:
    sim = Simulation(scenario(text))
    sim.run()
    return Run(sim, outcome(sim.events))


def ended(result: Run) -> list[tuple[str, str, str | None, float]]:
    return [(e.task, e.outcome.value, e.error, e.t) for e in result.of(TaskEnded)]


def test_a_child_failing_while_the_body_runs_cancels_the_parent_at_its_await() -> None:
    """TaskGroup._on_task_done of a failed child, the body still running: _abort() cancels
    the other children and _parent_task.cancel() cancels the body's await (0.3 s, not
    1 s); __aexit__ uncancel()s, drops the CancelledError and, once slow-1's finally is
    done (0.35 s), raises ExceptionGroup([ValueError]); the parent catches it and goes on
    (cancelling() is back to 0)."""
    result = run(BODY)
    assert ended(result) == [
        ("slow-2", "cancelled", "CancelledError", pytest.approx(0.15)),
        ("slow-3", "cancelled", "CancelledError", pytest.approx(0.15)),
        ("raiser", "failed", "ExceptionGroup", pytest.approx(0.15)),
        ("outside", "cancelled", "CancelledError", pytest.approx(0.15)),
        ("fails", "failed", "ValueError", pytest.approx(0.3)),
        ("slow-1", "cancelled", "CancelledError", pytest.approx(0.35)),
        ("parent", "ok", None, pytest.approx(0.45)),
    ]
    parent_cancels = [(e.t, e.task, e.reason) for e in result.of(CancelRequested) if e.t > 0.2]
    assert parent_cancels == [
        (
            pytest.approx(0.3),
            "slow-1",
            "TaskGroup cancels the other tasks because fails raised ValueError",
        ),
        (
            pytest.approx(0.3),
            "parent",
            "TaskGroup cancels parent, whose async with body runs, because fails raised ValueError",
        ),
    ]
    assert result.sim.runtime.by_name["parent"].lane.cancel_requests == 0


def test_an_exception_in_the_body_aborts_the_group_and_joins_the_exception_group() -> None:
    """__aexit__ with an exception other than CancelledError: _abort() cancels the
    children, and the body's exception is one of the ExceptionGroup's (raiser: KeyError
    at 0.1 s, the group raises once slow-2's finally is done at 0.15 s)."""
    result = run(BODY)
    assert result.task("raiser")["error"] == "ExceptionGroup"
    reasons = [e.reason for e in result.of(CancelRequested) if e.task == "slow-2"]
    assert reasons == ["the async with body of the TaskGroup in raiser raised KeyError"]


def test_a_cancel_from_outside_during_the_body_is_re_raised_after_the_children() -> None:
    """A cancel of the parent that no child's failure sent: __aexit__ aborts the group,
    waits for the children (slow-3's finally, 0.15 s) and re-raises the CancelledError."""
    result = run(BODY)
    assert (result.task("outside")["outcome"], result.task("outside")["ended"]) == (
        "cancelled",
        pytest.approx(0.15),
    )
    assert result.main["outcome"] == "ok"


def test_the_body_is_written_after_the_create_task_lines() -> None:
    source = program(scenario(BODY)).source
    start = source.index("async def parent")
    assert source[start : source.index("async def raiser")].strip().splitlines() == [
        "async def parent():",
        "    try:",
        "        async with asyncio.TaskGroup() as tg:",
        '            tg.create_task(fails(), name="fails")',
        '            tg.create_task(slow(1), name="slow-1")',
        "            await asyncio.sleep(1.0)  # await body()",
        "            await asyncio.sleep(1.0)",
        "    except ExceptionGroup:",
        "        pass",
        "    await asyncio.sleep(0.1)",
        '    return "went on"',
    ]


def test_cpython_agrees_on_a_taskgroup_body() -> None:
    check = check_one(scenario(BODY), None, loose=3.0)
    assert check.error is None
    assert [str(d) for d in check.disagreements] == []


def test_a_break_in_a_taskgroup_body_outside_a_loop_is_one_positioned_line() -> None:
    with pytest.raises(ScenarioError) as caught:
        load_scenario_text(
            textwrap.dedent(
                """\
                version: 2
                name: s
                program: {model: asyncio}
                tasks:
                  - {name: a, steps: [{taskgroup: [b], steps: [break]}]}
                  - {name: b, steps: [{io: 1s}]}
                """
            ),
            "s.yaml",
        )
    assert str(caught.value).splitlines() == [
        "s.yaml:5:48: tasks[0].steps[0].steps[0]: `break` outside a loop; expected it inside "
        "`loop`, `repeat` or `consume`",
    ]
