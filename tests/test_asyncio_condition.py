"""``asyncio.Condition`` (version 2): wait, wait_for, notify(n), notify_all, the lock rule,
and a cancelled wait that takes its lock back before it raises, as Lib/asyncio/locks.py
(3.11) has them; and the program, run on CPython, agrees."""

from __future__ import annotations

import textwrap

import pytest

from concsim.codegen import program
from concsim.engine import Simulation
from concsim.events import (
    ConditionNotified,
    ExceptionRaised,
    LockAcquired,
    LockReleased,
    TaskEnded,
    TimeoutExpired,
)
from concsim.export.outcome import outcome
from concsim.live.check import check_one
from concsim.scenario.errors import ScenarioError
from concsim.scenario.loader import load_scenario_text
from concsim.scenario.model import Scenario
from concsim.scenario.schema import json_schema


def _load(text: str) -> Scenario:
    return load_scenario_text(textwrap.dedent(text), "s.yaml")


def _run(text: str) -> Simulation:
    sim = Simulation(_load(text))
    sim.run()
    return sim


def _tasks(sim: Simulation) -> dict[str, tuple[str, str | None, float]]:
    return {t["name"]: (t["outcome"], t["error"], t["ended"]) for t in outcome(sim.events)["tasks"]}


def _said(sim: Simulation) -> list[str]:
    return [line for line in outcome(sim.events)["output"] if line]


PRODUCER = """\
    version: 2
    name: s
    shared: {items: 0}
    conditions: {ready: {}}
    program: {model: asyncio}
    tasks:
      - name: consumer
        repeat: 2
        steps:
          - {acquire: ready}
          - WAIT
          - {release: ready}
      - name: producer
        steps:
          - {io: 200ms}
          - {acquire: ready}
          - {read: items}
          - {write: items}
          - NOTIFY
          - {release: ready}
    """

WAIT_FOR = (
    "{wait_for: ready, until: {shared: items, at_least: 1}, timeout: 1s, "
    "else: [{print: 'gave up {i}'}]}"
)


def _producer(wait: str, notify: str) -> str:
    return PRODUCER.replace("WAIT", wait).replace("NOTIFY", notify)


def test_notify_wakes_the_first_waiter_and_the_other_times_out() -> None:
    """asyncio.Condition.notify(): the first coroutine to wait is woken; the other's
    ``asyncio.wait_for(cv.wait(), 1)`` raises TimeoutError at its deadline (its else)."""
    sim = _run(
        _producer("{wait: ready, timeout: 1s, else: [{print: 'timed out {i}'}]}", "{notify: ready}")
    )
    woke = [(e.t, e.woke) for e in sim.events if isinstance(e, ConditionNotified)]
    assert woke == [(0.2, ("consumer-1",))]
    assert {name: t[:2] for name, t in _tasks(sim).items()} == {
        "consumer-1": ("ok", None),
        "consumer-2": ("ok", None),
        "producer": ("ok", None),
    }
    assert _tasks(sim)["consumer-2"][2] == pytest.approx(1.0001)  # then a print of 100 us
    assert [(e.waiter, e.on) for e in sim.events if isinstance(e, TimeoutExpired)] == [
        ("consumer-2", "condition ready")
    ]
    assert _said(sim) == ["timed out 2"]


def test_notify_n_and_notify_all_wake_that_many() -> None:
    """notify(2) wakes two waiting coroutines; notify_all() every one."""
    for notify in ("{notify: ready, n: 2}", "{notify_all: ready}"):
        sim = _run(_producer("{wait: ready}", notify))
        assert [e.woke for e in sim.events if isinstance(e, ConditionNotified)] == [
            ("consumer-1", "consumer-2")
        ]
        assert {name: t[2] for name, t in _tasks(sim).items()} == {
            "consumer-1": 0.2,
            "consumer-2": 0.2,
            "producer": 0.2,
        }


def test_wait_for_under_wait_for_times_out_without_checking_the_predicate_again() -> None:
    """asyncio.Condition.wait_for takes no timeout: ``asyncio.wait_for(cv.wait_for(p), 1)``
    cancels it at the deadline and raises TimeoutError, even though ``items >= 1`` holds by
    then (threading's ``wait_for(p, 1)`` would return True: tests/test_condition_primitive)."""
    sim = _run(_producer(WAIT_FOR, "{notify: ready}"))
    assert _said(sim) == ["gave up 2"]
    assert _tasks(sim)["consumer-1"] == ("ok", None, 0.2)
    assert outcome(sim.events)["shared"] == {"items": 1}


def test_a_timed_wait_still_waiting_for_the_lock_at_its_deadline_times_out() -> None:
    """wait_for's deadline covers the whole ``cv.wait()``: notified at 100ms, the waiter
    waits for the lock the notifier holds until 300ms; at 200ms wait_for cancels it,
    ``wait`` takes the lock back (at 300ms) and wait_for raises TimeoutError."""
    sim = _run(
        """\
        version: 2
        name: s
        conditions: {cv: {}}
        program: {model: asyncio}
        tasks:
          - name: waiter
            steps:
              - with: cv
                steps: [{wait: cv, timeout: 200ms, else: [{print: timed out}]}]
          - name: notifier
            steps:
              - {io: 100ms}
              - with: cv
                steps: [{notify: cv}, {io: 200ms}]
        """
    )
    assert [(e.t, e.waiter) for e in sim.events if isinstance(e, TimeoutExpired)] == [
        (0.2, "waiter")
    ]
    assert _said(sim) == ["timed out"]
    assert _tasks(sim)["waiter"] == ("ok", None, pytest.approx(0.3001))  # then the print


CANCELLED = """\
    version: 2
    name: s
    conditions: {cv: {}}
    program: {model: asyncio, collect: {pattern: gather, return_exceptions: true}}
    faults:
      - {fault: cancel, target: first, at: 100ms}
    tasks:
      - name: first
        steps:
          - with: cv
            steps: [{wait: cv}]
      - name: second
        steps:
          - with: cv
            steps: [{wait: cv}]
      - name: holder
        steps:
          - {io: 50ms}
          - with: cv
            steps: [{io: 250ms}, {notify: cv}]
    """


def test_a_cancelled_wait_takes_the_lock_back_before_it_raises() -> None:
    """asyncio.Condition.wait: ``finally: ... await self.acquire()`` -- cancelled at 100ms
    while ``holder`` holds the lock, ``first`` raises CancelledError only at 300ms, holding
    the lock (its ``async with`` then releases it). ``notify()`` skips its cancelled
    future (``if not fut.done()``) and wakes ``second``."""
    sim = _run(CANCELLED)
    assert [e.woke for e in sim.events if isinstance(e, ConditionNotified)] == [("second",)]
    assert _tasks(sim) == {
        "first": ("cancelled", "CancelledError", 0.3),
        "second": ("ok", None, 0.3),
        "holder": ("ok", None, 0.3),
    }
    locks = [
        (type(e).__name__, e.lane)
        for e in sim.events
        if isinstance(e, LockAcquired | LockReleased) and 0.3 <= e.t < 0.4
    ]
    assert locks == [
        ("LockReleased", "holder"),
        ("LockAcquired", "first"),  # the lock's queue: first (since 100ms), then second
        ("LockReleased", "first"),
        ("LockAcquired", "second"),
        ("LockReleased", "second"),
    ]


def test_wait_and_notify_need_the_lock_locked_by_anyone() -> None:
    """asyncio.Condition: ``if not self.locked(): raise RuntimeError(...)`` -- its lock has
    no owner, so a coroutine may notify while another holds the lock."""
    sim = _run(
        """\
        version: 2
        name: s
        conditions: {ready: {lock: guard}}
        program: {model: asyncio, collect: {pattern: gather, return_exceptions: true}}
        tasks:
          - name: waiter
            steps: [{wait: ready}]
          - name: notifier
            steps: [{notify_all: ready}]
          - name: holder
            steps: [{acquire: guard}, {io: 100ms}, {notify: ready}, {release: guard}]
          - name: bystander
            steps: [{io: 50ms}, {notify: ready}]
        """
    )
    raised = [(e.task, e.error, e.message) for e in sim.events if isinstance(e, ExceptionRaised)]
    assert raised == [
        ("waiter", "RuntimeError", "cannot wait on un-acquired lock"),
        ("notifier", "RuntimeError", "cannot notify on un-acquired lock"),
    ]
    assert {name: t[0] for name, t in _tasks(sim).items()} == {
        "waiter": "failed",
        "notifier": "failed",
        "holder": "ok",
        "bystander": "ok",
    }


def test_a_lock_handed_to_a_coroutine_cancelled_before_it_runs_goes_to_the_next() -> None:
    """asyncio.Lock.acquire: ``except CancelledError: if not self._locked:
    self._wake_up_first()`` -- ``b`` was woken by the release but is cancelled before it
    runs, so the lock goes on to ``c``."""
    sim = _run(
        """\
        version: 2
        name: s
        locks: {guard: {}}
        program: {model: asyncio, collect: {pattern: gather, return_exceptions: true}}
        faults:
          - {fault: cancel, target: b, when: {task: a, step: 3}}
        tasks:
          - name: a
            steps: [{acquire: guard}, {io: 100ms}, {release: guard}, {print: released}]
          - name: b
            steps: [{with: guard, steps: [{print: b}]}]
          - name: c
            steps: [{with: guard, steps: [{print: c}]}]
        """
    )
    assert _said(sim) == ["released", "c"]
    assert {name: t[0] for name, t in _tasks(sim).items()} == {
        "a": "ok",
        "b": "cancelled",
        "c": "ok",
    }
    assert [
        (type(e).__name__, e.lane)
        for e in sim.events
        if isinstance(e, LockAcquired | LockReleased) and 0.1 <= e.t < 0.2
    ] == [
        ("LockReleased", "a"),
        ("LockAcquired", "b"),
        ("LockReleased", "b"),
        ("LockAcquired", "c"),
        ("LockReleased", "c"),
    ]
    ended = [e.task for e in sim.events if isinstance(e, TaskEnded)]
    assert ended == ["a", "b", "c"]


def test_the_generated_program_uses_asyncio_condition() -> None:
    source = program(_load(_producer(WAIT_FOR, "{notify: ready}"))).source
    assert "ready = asyncio.Condition()\n" in source
    assert (
        "        await asyncio.wait_for(ready.wait_for(lambda: items >= 1), 1.0)\n"
        "    except TimeoutError:\n"
        '        print(f"gave up {i}")\n'
    ) in source


@pytest.mark.parametrize("text", [_producer(WAIT_FOR, "{notify: ready}"), CANCELLED])
def test_the_program_agrees_with_the_simulator_on_cpython(text: str) -> None:
    """The producer/consumer and the cancelled wait above, run for real."""
    result = check_one(_load(text), None, loose=3.0)
    assert result.error is None
    assert [str(d) for d in result.disagreements] == []


def test_conditions_are_for_threads_and_asyncio() -> None:
    """One positioned line for a model conditions are not simulated for."""
    text = _producer("{wait: ready}", "{notify: ready}")
    text = text.replace("model: asyncio", "model: processes")
    with pytest.raises(ScenarioError) as caught:
        _load(text)
    assert str(caught.value) == (
        "s.yaml:4:1: conditions: `conditions` are simulated for model threads and asyncio, "
        "not processes; expected model: threads"
    )


def test_the_schema_says_a_condition_is_asyncio_s_in_asyncio() -> None:
    spec = json_schema()["$defs"]["ConditionSpec"]
    assert "asyncio.Condition(lock)" in spec["description"]
