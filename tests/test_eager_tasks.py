"""``program.task_factory: eager``: ``loop.set_task_factory(asyncio.eager_task_factory)``
(3.12+, gh-97696). ``Task.__init__(eager_start=True)`` calls ``Task.__eager_start`` when the
loop is running (Lib/asyncio/tasks.py): the new task's coroutine runs at once, inside
``create_task``, up to its first real suspension, and only then does the creator go on; a
task that ends without suspending is never scheduled on the loop. Measured on 3.12.1:
``create_task(a()); print("main created a")`` prints ``a starts`` first; with the default
factory (3.11 and 3.12) ``main created a`` comes first."""

from __future__ import annotations

import subprocess

import pytest
from faultkit import scenario

from concsim.codegen import program
from concsim.engine import Simulation
from concsim.engine.faults import Injection
from concsim.events import (
    Event,
    FaultRefused,
    Outcome,
    OutputWritten,
    TaskEnded,
    TaskStarted,
    TaskSubmitted,
)
from concsim.live.check import check_one
from concsim.live.interpreters import interpreter_for
from concsim.scenario.errors import ScenarioError
from concsim.scenario.loader import load_scenario_text
from concsim.scenario.model import Python

CREATED = """
    version: 2
    name: eager
    program:
      model: asyncio
      collect: none
      main:
        - create_task: fetch
        - print: main created fetch
        - create_task: cached
        - print: main created cached
        - await: fetch
        - await: cached
    tasks:
      - name: fetch
        steps:
          - print: fetch starts
          - cpu: 20ms
          - io: 10ms
          - print: fetch ends
      - name: cached
        steps:
          - print: cached starts
        returns: from the cache
    variants:
      - name: eager
        machine: {python: "3.12"}
        program: {task_factory: eager}
    """


def run(variant: str | None) -> list[Event]:
    sim = Simulation(scenario(CREATED).variant(variant))
    sim.run()
    return sim.events


def lines(events: list[Event]) -> list[tuple[str, float]]:
    return [
        (e.text, round(e.t, 4)) for e in events if isinstance(e, OutputWritten) and e.text != "\n"
    ]


def test_the_default_factory_runs_a_created_task_once_main_awaits() -> None:
    """3.11 (and 3.12 by default): ``create_task`` schedules the task with call_soon; it
    starts once main() reaches an await, after both of main's prints."""
    assert [text for text, _ in lines(run(None))] == [
        "main created fetch",
        "main created cached",
        "fetch starts",
        "cached starts",
        "fetch ends",
    ]


def test_an_eager_task_runs_inside_create_task_up_to_its_first_await() -> None:
    """3.12 eager_task_factory: fetch prints and computes 20 ms inside ``create_task``;
    main's next line waits for that, then fetch's I/O overlaps main."""
    assert lines(run("eager")) == [
        ("fetch starts", 0.0001),
        ("main created fetch", 0.0202),
        ("cached starts", 0.0203),
        ("main created cached", 0.0204),
        ("fetch ends", 0.0301),
    ]


def test_an_eager_task_that_never_suspends_ends_inside_create_task() -> None:
    """A task that finishes without suspending is never scheduled: it starts and ends
    before main's next line runs."""
    order = [
        (type(e).__name__, e.text if isinstance(e, OutputWritten) else getattr(e, "task", None))
        for e in run("eager")
        if isinstance(e, TaskStarted | TaskEnded)
        or (isinstance(e, OutputWritten) and e.text != "\n")
    ]
    cut = order.index(("TaskStarted", "cached"))
    assert order[cut : cut + 4] == [
        ("TaskStarted", "cached"),
        ("OutputWritten", "cached starts"),
        ("TaskEnded", "cached"),
        ("OutputWritten", "main created cached"),
    ]


GATHERED = """
    version: 2
    name: g
    machine: {{python: "3.12"}}
    program: {{model: asyncio, {factory}collect: {pattern}}}
    tasks:
      - name: work
        repeat: 2
        steps:
          - cpu: 10ms
          - io: 10ms
"""


@pytest.mark.parametrize("pattern", ["gather", "taskgroup", "as_completed"])
def test_gather_and_a_taskgroup_create_their_tasks_eagerly(pattern: str) -> None:
    """gather(), TaskGroup.create_task() and as_completed() make their tasks through
    loop.create_task, so through the task factory: eagerly, work-1 has run its first step
    before work-2 is created; by default both are created before either starts."""

    def order(factory: str) -> list[str]:
        text = GATHERED.format(pattern=pattern, factory=factory)
        sim = Simulation(load_scenario_text(text, "g.yaml"))
        sim.run()
        kinds = (TaskSubmitted, TaskStarted)
        return [f"{type(e).__name__} {e.task}" for e in sim.events if isinstance(e, kinds)]

    assert order("task_factory: eager, ") == [
        "TaskSubmitted work-1",
        "TaskStarted work-1",
        "TaskSubmitted work-2",
        "TaskStarted work-2",
    ]
    assert order("") == [
        "TaskSubmitted work-1",
        "TaskSubmitted work-2",
        "TaskStarted work-1",
        "TaskStarted work-2",
    ]


def test_eager_needs_python_3_12_and_asyncio() -> None:
    text = textwrap_file("3.11", "asyncio")
    with pytest.raises(ScenarioError) as old:
        load_scenario_text(text, "e.yaml")
    assert str(old.value).splitlines() == [
        "e.yaml:3:41: program.task_factory: `task_factory: eager` needs Python 3.12 or later "
        "(asyncio.eager_task_factory is new in 3.12), but machine.python is 3.11; expected "
        'python: "3.12" or later'
    ]
    with pytest.raises(ScenarioError) as threads:
        load_scenario_text(textwrap_file("3.12", "threads"), "e.yaml")
    assert str(threads.value).splitlines() == [
        "e.yaml:3:41: program.task_factory: `task_factory` sets the event loop's task "
        "factory: it applies to model asyncio, not threads"
    ]
    with pytest.raises(ScenarioError) as v1:
        load_scenario_text(
            textwrap_file("3.12", "asyncio").replace("version: 2", "version: 1"), "e.yaml"
        )
    assert "program.task_factory: `task_factory` is a version-2 key" in str(v1.value)


def textwrap_file(python: str, model: str) -> str:
    return (
        f'version: 2\nmachine: {{python: "{python}"}}\n'
        f"program: {{model: {model}, task_factory: eager}}\n"
        "name: e\ntasks:\n  - {name: a, steps: [{io: 1ms}]}\n"
    )


def test_a_variant_that_keeps_3_11_is_told_at_its_own_key() -> None:
    text = CREATED.replace('machine: {python: "3.12"}', "summary: on 3.11")
    with pytest.raises(ScenarioError) as error:
        scenario(text)
    assert str(error.value).splitlines() == [
        "test.yaml:28:29: variants[0].program.task_factory: `task_factory: eager` needs "
        "Python 3.12 or later (asyncio.eager_task_factory is new in 3.12), but machine.python "
        'is 3.11; expected python: "3.12" or later'
    ]


def test_the_program_sets_the_eager_factory_as_main_starts() -> None:
    source = program(scenario(CREATED), "eager").source
    assert (
        "async def main():\n"
        "    asyncio.get_running_loop().set_task_factory(asyncio.eager_task_factory)\n"
        '    fetch_task = asyncio.create_task(fetch(), name="fetch")\n'
    ) in source
    assert "set_task_factory" not in program(scenario(CREATED)).source


def test_cpython_3_12_runs_an_eager_task_inside_create_task() -> None:
    """The tiny real check: the generated program on CPython 3.12 prints ``fetch starts``
    before ``main created fetch``, and ``cached starts`` before ``main created cached``."""
    python = interpreter_for(Python.PY312)
    if python is None:
        pytest.skip("this machine has no CPython 3.12")
    source = program(scenario(CREATED), "eager").source
    done = subprocess.run([python, "-c", source], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        "fetch starts",
        "main created fetch",
        "cached starts",
        "main created cached",
        "fetch ends",
    ]


@pytest.mark.parametrize("variant", [None, "eager"])
def test_cpython_agrees_on_eager_tasks(variant: str | None) -> None:
    applied = scenario(CREATED).variant(variant)
    if interpreter_for(applied.machine.python) is None:
        pytest.skip(f"this machine has no CPython {applied.machine.python.value}")
    check = check_one(scenario(CREATED), variant, loose=3.0)
    assert check.error is None
    assert not check.skipped
    assert [str(d) for d in check.disagreements] == []


def test_a_cancel_fault_on_a_task_not_yet_created_is_refused() -> None:
    """Before main's ``create_task`` there is no Task to call ``cancel()`` on."""
    sim = Simulation(scenario(CREATED), injections=[Injection(0.0, "cancel", "cached")])
    sim.run()
    (refused,) = [e for e in sim.events if isinstance(e, FaultRefused)]
    assert refused.reason == "cached has not been created yet"
    ended = {e.task: e.outcome for e in sim.events if isinstance(e, TaskEnded)}
    assert ended == {"fetch": Outcome.OK, "cached": Outcome.OK}
