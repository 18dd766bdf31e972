"""``task_done`` and ``join`` on a queue in format version 2 (Lib/queue.py ``Queue``,
Lib/asyncio/queues.py ``Queue``): every ``put`` adds an unfinished task, ``task_done``
takes one away, and ``join`` waits until none is left."""

from __future__ import annotations

from typing import Any

import pytest
from faultkit import scenario
from programkit import disagreements, run_program, simulate, timeout_for

from concsim.codegen import program
from concsim.engine import Simulation
from concsim.events import Event, ExceptionRaised, OutputWritten
from concsim.export.outcome import outcome
from concsim.scenario.errors import ScenarioError
from concsim.scenario.model import Scenario

JOIN = """
version: 2
name: qjoin
program:
  executor: false
  collect: join
  main:
    - submit
    - {put: jobs, value: 1}
    - {put: jobs, value: 2}
    - {put: jobs, value: 3}
    - {put: jobs, value: 4}
    - {join: jobs}
    - {print: all done}
    - {put: jobs, value: null}
    - {put: jobs, value: null}
    - collect
queues: {jobs: {}}
tasks:
  - name: worker
    repeat: 2
    steps:
      - consume: jobs
        each: [{io: 50ms}, {task_done: jobs}]
variants:
  - name: aio
    program: {model: asyncio, collect: gather}
"""


def _run(sc: Scenario, variant: str | None = None) -> tuple[list[Event], dict[str, Any]]:
    events = list(Simulation(sc.variant(variant), seed=0).run())
    return events, outcome(events)


@pytest.mark.parametrize("variant", [None, "aio"])
def test_join_returns_when_every_item_put_had_its_task_done(variant: str | None) -> None:
    """Queue.join waits while ``unfinished_tasks`` > 0: two workers take 50 ms per item,
    four items, so main prints at 100 ms, after the fourth task_done."""
    events, out = _run(scenario(JOIN), variant)
    printed = next(e for e in events if isinstance(e, OutputWritten) and e.text == "all done")
    assert printed.t == pytest.approx(0.1, abs=1e-3)
    assert out["main"]["outcome"] == "ok"


def test_a_joining_lane_counts_the_unfinished_tasks() -> None:
    sim = Simulation(scenario(JOIN), seed=0)
    sim.advance(0.06)
    main = sim.world.lanes["main"]
    assert (main.state.value, main.step) == ("blocked", "join jobs (2 unfinished)")


@pytest.mark.parametrize("variant", [None, "aio"])
def test_task_done_more_often_than_put_raises_value_error(variant: str | None) -> None:
    """Queue.task_done: ValueError('task_done() called too many times') once every put
    is matched (asyncio.Queue says the same)."""
    sc = scenario("""
        version: 2
        name: s
        program: {executor: false, collect: join}
        queues: {q: {}}
        tasks:
          - {name: t, steps: [{put: q, value: 1}, {get: q}, {task_done: q}, {task_done: q}]}
        variants:
          - {name: aio, program: {model: asyncio, collect: gather}}
        """)
    events, _ = _run(sc, variant)
    raised = next(e for e in events if isinstance(e, ExceptionRaised))
    assert (raised.error, raised.message) == ("ValueError", "task_done() called too many times")


def test_join_of_a_queue_with_nothing_unfinished_returns_at_once() -> None:
    _, out = _run(
        scenario("""
        version: 2
        name: s
        program: {executor: false, collect: join}
        queues: {q: {}}
        tasks:
          - {name: t, steps: [{join: q}, {print: through}]}
        """)
    )
    assert out["output"] == ["through"]
    assert out["elapsed"] == pytest.approx(0.0001, abs=1e-3)


def test_the_program_writes_task_done_and_join() -> None:
    source = program(scenario(JOIN)).source
    assert "        jobs.task_done()\n" in source
    assert "    jobs.join()\n" in source
    assert "    await jobs.join()\n" in program(scenario(JOIN), "aio").source


@pytest.mark.parametrize("variant", [None, "aio"])
def test_the_program_agrees_with_the_simulator(variant: str | None) -> None:
    sc = scenario(JOIN)
    sim = simulate(sc, variant)
    ran = run_program(sc, variant, timeout_for(sim))
    assert disagreements(sc, variant, sim, ran) == [], ran.stderr


def _error(text: str) -> str:
    with pytest.raises(ScenarioError) as caught:
        scenario(text)
    return str(caught.value)


def test_task_done_names_a_declared_queue() -> None:
    assert (
        _error("""
        version: 2
        name: s
        queues: {jobs: {}}
        tasks:
          - {name: t, steps: [{task_done: job}]}
        """)
        == "test.yaml:6:35: tasks[0].steps[0].task_done: no queue `job`; did you mean `jobs`?"
    )


def test_a_process_queue_has_no_task_done_or_join() -> None:
    assert _error("""
        version: 2
        name: s
        program: {model: processes}
        queues: {jobs: {}}
        tasks:
          - {name: t, steps: [{join: jobs}]}
        """) == (
        "test.yaml:7:24: tasks[0].steps[0].join: multiprocessing.Queue has no join(); "
        "expected model threads or asyncio"
    )


def test_join_and_task_done_need_version_2() -> None:
    assert _error("""
        name: s
        queues: {jobs: {}}
        tasks:
          - {name: t, steps: [{join: jobs}]}
        """) == (
        "test.yaml:5:24: tasks[0].steps[0].join: `join` is a version-2 step; expected "
        "`version: 2` at the top of the file"
    )
