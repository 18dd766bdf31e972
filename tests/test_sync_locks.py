"""Locks in format version 2: ``acquire(timeout=...)`` and ``acquire(blocking=False)`` that
return False and run their ``else`` steps, RLock re-entry, and ``with lock:``. Each engine
test states the CPython fact it models (Modules/_threadmodule.c, Lib/asyncio/locks.py)."""

from __future__ import annotations

from typing import Any

import pytest
from faultkit import scenario

from concsim.engine import Simulation
from concsim.events import (
    DeadlockDetected,
    Event,
    ExceptionRaised,
    LockAcquired,
    LockGaveUp,
    LockReleased,
    LockTimedWait,
    LockWaited,
)
from concsim.export.outcome import outcome
from concsim.scenario.errors import ScenarioError
from concsim.scenario.model import Scenario
from concsim.scenario.schema import json_schema

_SYNC = (LockAcquired, LockGaveUp, LockReleased, LockTimedWait, LockWaited, DeadlockDetected)


def _run(sc: Scenario, seed: int = 0) -> tuple[list[Event], dict[str, Any]]:
    events = list(Simulation(sc, seed=seed).run())
    return events, outcome(events)


def _sync(events: list[Event]) -> list[tuple[Any, ...]]:
    """(ms, event type, lane, lock) of every lock event, in order."""
    return [
        (round(e.t * 1000, 1), type(e).__name__, getattr(e, "lane", None), getattr(e, "lock", None))
        for e in events
        if isinstance(e, _SYNC)
    ]


def _error(text: str) -> str:
    with pytest.raises(ScenarioError) as caught:
        scenario(text)
    return str(caught.value)


BACK_OFF = """
version: 2
name: back-off
program: {executor: false, collect: join}
tasks:
  - name: left
    steps:
      - {acquire: a}
      - {sleep: 50ms}
      - {acquire: b, timeout: 100ms, else: [{print: left gave up}, {release: a}]}
      - {print: left after}
  - name: right
    steps:
      - {acquire: b}
      - {sleep: 50ms}
      - {acquire: a}
      - {print: right has both}
      - {release: a}
      - {release: b}
"""


def test_acquire_with_a_timeout_returns_false_at_the_deadline_and_runs_else() -> None:
    """``lock.acquire(timeout=0.1)`` returns False after 0.1 s if the lock stays taken
    (lock_PyThread_acquire_lock); ``if not ...:`` runs the else block, and the steps after
    it run too. A timed wait is no deadlock: right, waiting without a timeout for the lock
    left holds, gets it when left gives up and releases."""
    events, out = _run(scenario(BACK_OFF))
    assert _sync(events) == [
        (0.0, "LockAcquired", "thread-1", "a"),
        (0.0, "LockAcquired", "thread-2", "b"),
        (50.0, "LockTimedWait", "thread-1", "b"),
        (50.0, "LockWaited", "thread-2", "a"),
        (150.0, "LockGaveUp", "thread-1", "b"),
        (150.1, "LockReleased", "thread-1", "a"),
        (150.1, "LockAcquired", "thread-2", "a"),
        (150.3, "LockReleased", "thread-2", "a"),
        (150.3, "LockReleased", "thread-2", "b"),
    ]
    gave_up = next(e for e in events if isinstance(e, LockGaveUp))
    assert (gave_up.timeout, gave_up.why) == (
        0.1,
        "thread-1 gave up on b after 100ms: acquire(timeout=...) returned False.",
    )
    # left still holds the GIL when it releases a: it prints before right wakes
    assert out["output"] == ["left gave up", "left after", "right has both"]
    assert [t["outcome"] for t in out["tasks"]] == ["ok", "ok"]


def test_a_timed_acquire_handed_the_lock_before_its_deadline_returns_true() -> None:
    """The holder releases at 30 ms, before the 100 ms deadline: the waiter gets the lock
    then (True), the else block does not run, and the deadline passes with no effect."""
    events, out = _run(
        scenario("""
        version: 2
        name: s
        program: {executor: false, collect: join}
        tasks:
          - name: holder
            steps: [{acquire: a}, {sleep: 30ms}, {release: a}]
          - name: waiter
            steps:
              - {sleep: 1ms}
              - {acquire: a, timeout: 100ms, else: [{print: gave up}]}
              - {print: got it}
              - {release: a}
        """)
    )
    assert [row[1:] for row in _sync(events)] == [
        ("LockAcquired", "thread-1", "a"),
        ("LockTimedWait", "thread-2", "a"),
        ("LockReleased", "thread-1", "a"),
        ("LockAcquired", "thread-2", "a"),
        ("LockReleased", "thread-2", "a"),
    ]
    assert out["output"] == ["got it"]
    assert out["elapsed"] == pytest.approx(0.0301)


def test_acquire_not_blocking_returns_false_at_once() -> None:
    """``lock.acquire(blocking=False)`` on a taken lock returns False without waiting."""
    events, out = _run(
        scenario("""
        version: 2
        name: s
        program: {executor: false, collect: join}
        tasks:
          - name: holder
            steps: [{acquire: a}, {sleep: 30ms}, {release: a}]
          - name: prober
            steps:
              - {sleep: 1ms}
              - {acquire: a, blocking: false, else: [{print: busy}]}
              - {print: moved on}
        """)
    )
    gave_up = next(e for e in events if isinstance(e, LockGaveUp))
    assert (round(gave_up.t, 4), gave_up.lane, gave_up.timeout) == (0.001, "thread-2", None)
    assert gave_up.why == "thread-2 found a taken: acquire(blocking=False) returned False."
    assert out["output"] == ["busy", "moved on"]
    assert not any(isinstance(e, LockTimedWait | LockWaited) for e in events)


def test_a_plain_lock_acquired_twice_by_its_holder_deadlocks_it() -> None:
    """threading.Lock is not reentrant: the second acquire in the same thread waits for
    itself forever (CPython hangs; the simulator names the cycle)."""
    events, out = _run(
        scenario("""
        name: s
        program: {executor: false, collect: join}
        tasks:
          - {name: t, steps: [{acquire: a}, {acquire: a}]}
        """)
    )
    cycle = next(e for e in events if isinstance(e, DeadlockDetected))
    assert cycle.cycle == ("thread-1", "a", "thread-1")
    assert out["main"]["outcome"] == "hung"


RLOCK = """
version: 2
name: s
program: {executor: false, collect: join}
locks: {r: {reentrant: true}}
tasks:
  - name: owner
    steps:
      - {acquire: r}
      - with: r
        steps: [{sleep: 10ms}]
      - {sleep: 10ms}
      - {release: r}
  - name: other
    steps: [{sleep: 1ms}, {acquire: r}, {print: other has it}, {release: r}]
"""


def test_an_rlock_is_taken_again_by_its_owner_and_freed_by_the_last_release() -> None:
    """threading.RLock (rlock_acquire): the owner's second acquire succeeds at once and
    counts; another thread gets it only when the owner released it as often (20 ms)."""
    events, out = _run(scenario(RLOCK))
    assert _sync(events) == [
        (0.0, "LockAcquired", "thread-1", "r"),
        (0.0, "LockAcquired", "thread-1", "r"),
        (1.0, "LockWaited", "thread-2", "r"),
        (10.0, "LockReleased", "thread-1", "r"),
        (20.0, "LockReleased", "thread-1", "r"),
        (20.0, "LockAcquired", "thread-2", "r"),
        (20.1, "LockReleased", "thread-2", "r"),
    ]
    assert out["output"] == ["other has it"]


def test_an_rlock_released_by_another_thread_raises_runtime_error() -> None:
    """rlock_release: only the owner may release, else RuntimeError('cannot release
    un-acquired lock'), CPython's exact message."""
    events, out = _run(
        scenario("""
        version: 2
        name: s
        program: {executor: false, collect: join}
        locks: {r: {reentrant: true}}
        tasks:
          - {name: owner, steps: [{acquire: r}, {sleep: 20ms}]}
          - {name: thief, steps: [{sleep: 5ms}, {release: r}]}
        """)
    )
    raised = next(e for e in events if isinstance(e, ExceptionRaised))
    assert (raised.lane, raised.error, raised.message) == (
        "thread-2",
        "RuntimeError",
        "cannot release un-acquired lock",
    )
    assert [(t["name"], t["outcome"], t["error"]) for t in out["tasks"]] == [
        ("owner", "ok", None),
        ("thief", "failed", "RuntimeError"),
    ]


def test_with_a_lock_releases_it_when_the_block_raises() -> None:
    """``with lock:`` calls ``__exit__`` on the way out of an exception: the lock is free
    for the next thread, and the exception goes on to fail the task."""
    events, out = _run(
        scenario("""
        version: 2
        name: s
        program: {executor: false, collect: join}
        tasks:
          - name: failing
            steps:
              - with: a
                steps: [{sleep: 10ms}, {raise: ValueError, message: bad}]
          - name: next
            steps: [{sleep: 1ms}, {with: a, steps: [{print: next has it}]}]
        """)
    )
    assert [row[1:] for row in _sync(events)] == [
        ("LockAcquired", "thread-1", "a"),
        ("LockWaited", "thread-2", "a"),
        ("LockReleased", "thread-1", "a"),
        ("LockAcquired", "thread-2", "a"),
        ("LockReleased", "thread-2", "a"),
    ]
    assert [(t["name"], t["outcome"], t["error"]) for t in out["tasks"]] == [
        ("failing", "failed", "ValueError"),
        ("next", "ok", None),
    ]
    assert out["output"][-1] == "next has it"  # after the thread's traceback


@pytest.mark.parametrize(
    ("leave", "rounds", "after"),
    [("break", 1, True), ("continue", 2, True), ("{return: done}", 1, False)],
)
def test_with_a_lock_releases_it_on_break_continue_and_return(
    leave: str, rounds: int, after: bool
) -> None:
    """``with lock:`` calls ``__exit__`` on every way out of its block (the compiler puts
    the exit in each ``break``, ``continue`` and ``return`` path): after leaving, the lock
    is free, so ``acquire(blocking=False)`` takes it."""
    events, out = _run(
        scenario(f"""
        version: 2
        name: s
        program: {{executor: false, collect: join}}
        tasks:
          - name: t
            steps:
              - loop: [{{with: a, steps: [{leave}]}}]
                times: 2
              - {{acquire: a, blocking: false, else: [{{print: still held}}]}}
        """)
    )
    taken = ["LockAcquired", "LockReleased"] * rounds + ["LockAcquired"] * after
    assert [row[1] for row in _sync(events)] == taken
    assert "still held" not in out["output"]
    assert [(t["name"], t["outcome"]) for t in out["tasks"]] == [("t", "ok")]


def test_a_blocked_lane_names_the_holder_of_the_lock() -> None:
    """The lane of a version-2 acquire that waits reads ``acquire b (held by thread-2)``."""
    sim = Simulation(scenario(BACK_OFF), seed=0)
    sim.advance(0.06)
    left = sim.world.lanes["thread-1"]
    assert (left.state.value, left.step) == ("blocked", "acquire b (held by thread-2)")


ASYNC_BACK_OFF = """
version: 2
name: s
program: {model: asyncio}
tasks:
  - name: left
    steps:
      - {acquire: a}
      - {sleep: 50ms}
      - {acquire: b, timeout: 100ms, else: [{release: a}]}
  - name: right
    steps: [{acquire: b}, {sleep: 50ms}, {acquire: a}, {release: a}, {release: b}]
"""


def test_asyncio_acquire_under_a_timeout_gives_up_at_the_deadline() -> None:
    """asyncio.Lock.acquire takes no timeout: ``async with asyncio.timeout(0.1): await
    lock.acquire()`` raises TimeoutError at the deadline, which ``except TimeoutError``
    turns into the else block; right, first in line for a, gets it on release."""
    events, out = _run(scenario(ASYNC_BACK_OFF))
    assert [row[1:] for row in _sync(events)] == [
        ("LockAcquired", "left", "a"),
        ("LockAcquired", "right", "b"),
        ("LockTimedWait", "left", "b"),
        ("LockWaited", "right", "a"),
        ("LockGaveUp", "left", "b"),
        ("LockReleased", "left", "a"),
        ("LockAcquired", "right", "a"),
        ("LockReleased", "right", "a"),
        ("LockReleased", "right", "b"),
    ]
    assert out["elapsed"] == pytest.approx(0.15)
    assert out["results"] == ["left done", "right done"]


def test_else_without_a_way_to_fail_is_one_positioned_line() -> None:
    assert _error("""
        version: 2
        name: s
        tasks:
          - name: t
            steps:
              - {acquire: a, else: [{print: x}]}
        """) == (
        "test.yaml:7:9: tasks[0].steps[0]: `else` runs when acquire returns False; "
        "expected `timeout` or `blocking: false`"
    )


def test_a_timeout_on_a_non_blocking_acquire_is_one_positioned_line() -> None:
    """CPython refuses it too: ValueError("can't specify a timeout for a non-blocking
    call")."""
    assert _error("""
        version: 2
        name: s
        tasks:
          - name: t
            steps:
              - {acquire: a, blocking: false, timeout: 1s}
        """) == (
        "test.yaml:7:9: tasks[0].steps[0]: `timeout` needs `blocking: true`: a non-blocking "
        "acquire never waits"
    )


def test_the_timeout_key_needs_version_2() -> None:
    assert _error("""
        name: s
        tasks:
          - name: t
            steps: [{acquire: a, timeout: 1s}]
        """) == (
        "test.yaml:5:26: tasks[0].steps[0].timeout: `timeout` is a version-2 key; expected "
        "`version: 2` at the top of the file"
    )


def test_blocking_next_to_acquire_is_its_option_not_a_second_step_kind() -> None:
    """``blocking`` is also a step kind (a blocking call); beside ``acquire`` it is the
    option ``acquire(blocking=False)``."""
    sc = scenario("""
        version: 2
        name: s
        tasks:
          - name: t
            steps: [{acquire: a, blocking: false}]
        """)
    assert sc.tasks[0].steps[0].blocking is False  # type: ignore[union-attr]


def test_asyncio_has_no_rlock_and_no_blocking_false() -> None:
    """asyncio.Lock is not reentrant and its ``acquire()`` takes no ``blocking``."""
    assert _error("""
        version: 2
        name: s
        program: {model: asyncio}
        locks: {r: {reentrant: true}}
        tasks:
          - name: t
            steps: [{acquire: r, blocking: false}]
        """).splitlines() == [
        "test.yaml:5:13: locks.r.reentrant: asyncio has no reentrant lock (RLock); expected "
        "`reentrant: false` or model threads",
        "test.yaml:8:26: tasks[0].steps[0].blocking: asyncio's acquire() has no `blocking`; "
        "expected a `timeout`",
    ]


def test_the_json_schema_shows_the_version_2_lock_constructs() -> None:
    """Editors see the new keys and steps, each marked ``"since": 2``."""
    schema = json_schema()
    defs = schema["$defs"]
    assert (defs["WithStep"]["since"], defs["WithStep"]["required"]) == (2, ["with"])
    acquire = defs["AcquireStep"]["properties"]
    assert [acquire[key].get("since") for key in ("acquire", "timeout", "blocking", "else")] == [
        None,
        2,
        2,
        2,
    ]
    assert schema["properties"]["locks"]["since"] == 2
    assert schema["properties"]["semaphores"]["since"] == 2
    assert set(defs["SemaphoreSpec"]["properties"]) == {"value", "bounded"}
    assert set(defs["LockSpec"]["properties"]) == {"reentrant"}
