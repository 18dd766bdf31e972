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


TIMEOUTS = """
version: 2
name: qt
program: {executor: false, collect: join}
queues: {q: {maxsize: 1}}
tasks:
  - name: getter
    catches: [queue.Empty]
    steps:
      - {get: q, timeout: 50ms}
      - {print: never}
    cleanup: [{print: getter gave up}]
  - name: putter
    catches: [queue.Full]
    steps:
      - {sleep: 100ms}
      - {put: q, value: 1}
      - {put: q, value: 2, block: false}
      - {print: never}
  - name: taker
    catches: [queue.Empty]
    steps:
      - {sleep: 150ms}
      - {get: q, block: false}
      - {print: took one}
      - {get: q, block: false}
      - {print: never}
variants:
  - name: aio
    program: {model: asyncio, collect: gather}
    tasks:
      - name: getter
        catches: [TimeoutError]
        steps:
          - {get: q, timeout: 50ms}
          - {print: never}
      - name: putter
        catches: [asyncio.QueueFull]
        steps:
          - {sleep: 100ms}
          - {put: q, value: 1}
          - {put: q, value: 2, block: false}
          - {print: never}
      - name: taker
        catches: [asyncio.QueueEmpty]
        steps:
          - {sleep: 150ms}
          - {get: q, block: false}
          - {get: q, block: false}
          - {print: never}
"""


def _raised(events: list[Event]) -> list[tuple[float, str, str]]:
    return [
        (round(e.t * 1000, 1), e.lane, e.error) for e in events if isinstance(e, ExceptionRaised)
    ]


def test_get_and_put_that_may_not_wait_raise_queue_empty_and_full() -> None:
    """Queue.get(timeout=0.05) raises queue.Empty once 50 ms pass with nothing put;
    put(block=False) on a full bounded queue raises queue.Full at once, and
    get(block=False) on an empty one queue.Empty at once (Lib/queue.py)."""
    events, out = _run(scenario(TIMEOUTS))
    assert _raised(events) == [
        (50.0, "thread-1", "queue.Empty"),
        (100.0, "thread-2", "queue.Full"),
        (150.1, "thread-3", "queue.Empty"),
    ]
    assert out["output"] == ["getter gave up", "took one"]
    assert [t["outcome"] for t in out["tasks"]] == ["ok", "ok", "ok"]


def test_asyncio_queue_nowait_forms_and_a_timed_get() -> None:
    """asyncio.Queue: put_nowait on a full queue raises asyncio.QueueFull, get_nowait on an
    empty one asyncio.QueueEmpty; its get() takes no timeout, and ``asyncio.timeout``
    around it raises TimeoutError at the deadline."""
    events, _ = _run(scenario(TIMEOUTS), "aio")
    assert _raised(events) == [
        (50.0, "getter", "TimeoutError"),
        (100.0, "putter", "asyncio.QueueFull"),
        (150.0, "taker", "asyncio.QueueEmpty"),
    ]


def test_a_timed_get_handed_an_item_before_its_deadline_returns_it() -> None:
    _, out = _run(
        scenario("""
        version: 2
        name: s
        program: {executor: false, collect: join}
        queues: {q: {}}
        tasks:
          - {name: getter, steps: [{get: q, timeout: 100ms}, {print: got}]}
          - {name: putter, steps: [{sleep: 30ms}, {put: q, value: 1}]}
        """)
    )
    assert out["output"] == ["got"]
    assert out["tasks"][0]["outcome"] == "ok"


def test_the_program_writes_timeouts_and_nowait_forms() -> None:
    threads = program(scenario(TIMEOUTS)).source
    for line in ("q.get(timeout=0.05)", "q.put(2, block=False)", "q.get(block=False)"):
        assert f"    {line}\n" in threads
    aio = program(scenario(TIMEOUTS), "aio").source
    assert "        async with asyncio.timeout(0.05):\n            await q.get()\n" in aio
    assert "        q.put_nowait(2)\n" in aio
    assert "        q.get_nowait()\n" in aio


@pytest.mark.parametrize("variant", [None, "aio"])
def test_timeouts_agree_with_cpython(variant: str | None) -> None:
    sc = scenario(TIMEOUTS)
    sim = simulate(sc, variant)
    ran = run_program(sc, variant, timeout_for(sim))
    assert disagreements(sc, variant, sim, ran) == [], ran.stderr


def test_a_timeout_with_block_false_is_one_positioned_line() -> None:
    assert _error("""
        version: 2
        name: s
        queues: {q: {}}
        tasks:
          - {name: t, steps: [{get: q, block: false, timeout: 1s}]}
        """) == (
        "test.yaml:6:23: tasks[0].steps[0]: `timeout` needs `block: true`: with "
        "`block: false` it is ignored"
    )
