"""Small asyncio facts, each measured on CPython 3.11.7, 3.12.1 and 3.13.0 (the programs
below and ``concsim check``), and the simulator following them.

- ``asyncio.Condition.wait`` cancelled while it takes the lock back (after a notify): 3.11
  and 3.12 note the cancel and ``raise exceptions.CancelledError`` -- a new one, so the
  ``cancel(msg)`` message is lost; 3.13 re-raises the instance it caught (``raise err``,
  gh-112202), message kept.
- ``gather`` of tasks already done: 3.11 adds ``_done_callback`` to each, which
  ``add_done_callback`` schedules with ``call_soon``, so ``await gather(...)`` suspends and
  the tasks ready before it run first; 3.12 calls it at once for a done child
  (``done_futs``, written for the eager task factory), so the gather is done when it
  returns and the await does not suspend.
- ``collect`` gathers the tasks main's ``submit`` made (``tasks``): not those a
  ``create_task`` or ``taskgroup`` step made, which the program holds apart.
- Under ``asyncio.eager_task_factory`` a task runs its eager step named ``Task-N``:
  ``BaseEventLoop.create_task`` sets ``name=`` only after the factory returns (3.12.1 and
  3.13.0). concsim writes a task's name as a literal (``print("fetch")`` for ``{name}``),
  so the name ``Task-N`` shows nowhere a scenario can print.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from faultkit import scenario

from concsim.codegen import program
from concsim.engine import Simulation
from concsim.events import OutputWritten
from concsim.export.outcome import outcome
from concsim.live.check import check_one
from concsim.live.interpreters import interpreter_for
from concsim.scenario.model import Python, Scenario


def printed(scn: Scenario, variant: str | None = None) -> list[str]:
    sim = Simulation(scn, variant=variant)
    sim.run()
    return [e.text for e in sim.events if isinstance(e, OutputWritten) and e.text != "\n"]


def agrees(scn: Scenario, variant: str | None) -> None:
    result = check_one(scn, variant, loose=3.0)
    if result.skipped:
        pytest.skip(result.skipped)
    assert result.error is None, result.error
    assert [str(d) for d in result.disagreements if not d.timing] == []


COND = """
    version: 2
    name: cw
    conditions: {ready: {}}
    program:
      model: asyncio
      collect: none
      main:
        - create_task: waiter
        - sleep: 10ms
        - with: ready
          steps:
            - notify: ready
            - sleep: 0s              # the waiter wakes and waits for the lock
            - {cancel: waiter, msg: for lock}
            - sleep: 10ms
        - try:
            - await: waiter
          except:
            - {type: CancelledError, as: e, steps: [{print: "waiter cancelled: [{e}]"}]}
    tasks:
      - name: waiter
        steps:
          - with: ready
            steps: [{wait: ready}]
    variants:
      - {name: py312, machine: {python: "3.12"}}
      - {name: py313, machine: {python: "3.13"}}
"""


@pytest.mark.parametrize(
    ("variant", "shown"),
    [(None, "[]"), ("py312", "[]"), ("py313", "[for lock]")],
)
def test_a_condition_wait_cancelled_for_the_lock_keeps_its_message_from_3_13(
    variant: str | None, shown: str
) -> None:
    assert printed(scenario(COND), variant) == [f"waiter cancelled: {shown}"]


@pytest.mark.parametrize("variant", [None, "py312", "py313"])
def test_cpython_agrees_on_the_cancel_message(variant: str | None) -> None:
    agrees(scenario(COND), variant)


GATHER_DONE = """
    version: 2
    name: gd
    program:
      model: asyncio
      collect: gather
      main:
        - submit
        - sleep: 10ms                # both quick tasks are done
        - create_task: bg            # ready to run
        - collect
        - print: main after gather
        - await: bg
    tasks:
      - name: bg
        steps: [{print: bg runs}]
      - name: quick
        repeat: 2
        steps: [{print: "quick {i}"}]
        returns: "q{i}"
    variants:
      - {name: py312, machine: {python: "3.12"}}
"""


def test_gather_of_done_tasks_suspends_on_3_11_and_not_from_3_12() -> None:
    scn = scenario(GATHER_DONE)
    assert printed(scn) == ["quick 1", "quick 2", "bg runs", "main after gather"]
    assert printed(scn, "py312") == ["quick 1", "quick 2", "main after gather", "bg runs"]


def test_collect_gathers_only_what_submit_made() -> None:
    """bg, made by main's create_task, is not among gather's tasks: two results."""
    sim = Simulation(scenario(GATHER_DONE))
    sim.run()
    assert outcome(sim.events)["results"] == ["q1", "q2"]


@pytest.mark.parametrize("variant", [None, "py312"])
def test_cpython_agrees_on_gather_of_done_tasks(variant: str | None) -> None:
    agrees(scenario(GATHER_DONE), variant)


GROUP_THEN_GATHER = """
    version: 2
    name: tg
    program:
      model: asyncio
      collect: gather
      main:
        - taskgroup: [fetch]
        - print: group done
        - submit
        - collect
    tasks:
      - name: fetch
        repeat: 2
        steps: [{io: 10ms}]
        returns: "page {i}"
      - name: store
        steps: [{io: 5ms}]
        returns: stored
"""


def test_a_collect_after_a_taskgroup_gathers_only_the_submitted_task() -> None:
    """``results = await asyncio.gather(*tasks)`` after the group: ``tasks`` is store's
    alone; the group's fetch tasks are not gathered again."""
    sim = Simulation(scenario(GROUP_THEN_GATHER))
    sim.run()
    out = outcome(sim.events)
    assert out["results"] == ["stored"]
    assert [(t["name"], t["started"]) for t in out["tasks"]] == [
        ("fetch-1", 0.0),
        ("fetch-2", 0.0),
        ("store", pytest.approx(0.0101, abs=1e-4)),
    ]


def test_cpython_agrees_on_a_collect_after_a_taskgroup() -> None:
    agrees(scenario(GROUP_THEN_GATHER), None)


EAGER_NAMES = """
import asyncio


async def fetch():
    print("eager:", asyncio.current_task().get_name().startswith("Task-"))
    await asyncio.sleep(0)
    print("later:", asyncio.current_task().get_name())


async def main():
    asyncio.get_running_loop().set_task_factory(asyncio.eager_task_factory)
    task = asyncio.create_task(fetch(), name="fetch")
    print("created:", task.get_name())
    await task


asyncio.run(main())
"""


@pytest.mark.parametrize("version", [Python.PY312, Python.PY313])
def test_cpython_names_an_eager_task_only_after_its_eager_step(
    version: Python, tmp_path: Path
) -> None:
    python = interpreter_for(version)
    if python is None:
        pytest.skip(f"this machine has no CPython {version.value}")
    path = tmp_path / "eager_names.py"
    path.write_text(EAGER_NAMES)
    done = subprocess.run([python, str(path)], capture_output=True, text=True, timeout=60)
    assert done.stdout.splitlines() == ["eager: True", "created: fetch", "later: fetch"]


NAMED = """
    version: 2
    name: en
    machine: {python: "3.12"}
    program:
      model: asyncio
      task_factory: eager
      collect: none
      main:
        - create_task: fetch
        - print: main created fetch
        - await: fetch
    tasks:
      - name: fetch
        steps:
          - print: "{name} starts"
          - io: 10ms
          - print: "{name} ends"
"""


def test_a_task_s_name_is_written_as_a_literal_so_the_eager_step_prints_it_too() -> None:
    scn = scenario(NAMED)
    assert 'print("fetch starts")' in program(scn).source
    assert printed(scn) == ["fetch starts", "main created fetch", "fetch ends"]
    agrees(scn, None)
