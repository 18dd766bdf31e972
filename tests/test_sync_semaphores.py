"""Semaphores in format version 2 (Lib/threading.py Semaphore and BoundedSemaphore,
Lib/asyncio/locks.py): at most ``value`` holders, who gets a freed place, and the
ValueError of a bounded one released too often."""

from __future__ import annotations

from typing import Any

import pytest
from faultkit import scenario

from concsim.engine import Simulation
from concsim.events import (
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


def _run(sc: Scenario, variant: str | None = None) -> tuple[list[Event], dict[str, Any]]:
    events = list(Simulation(sc.variant(variant), seed=0).run())
    return events, outcome(events)


def _holding(events: list[Event], name: str) -> list[tuple[float, int]]:
    """(ms, how many hold ``name``) after each acquire or release of it."""
    held, rows = 0, []
    for e in events:
        if isinstance(e, LockAcquired | LockReleased) and e.lock == name:
            held += 1 if isinstance(e, LockAcquired) else -1
            rows.append((round(e.t * 1000, 1), held))
    return rows


POOL = """
version: 2
name: pool
program: {executor: false, collect: join}
semaphores: {pool: {value: 2}}
tasks:
  - name: worker
    repeat: 4
    steps:
      - with: pool
        steps: [{sleep: 100ms}]
variants:
  - name: aio
    program: {model: asyncio, collect: gather}
"""


@pytest.mark.parametrize("variant", [None, "aio"])
def test_a_semaphore_lets_at_most_value_holders_in_and_the_rest_in_turn(
    variant: str | None,
) -> None:
    """Semaphore(2): two workers hold it at once, the others wait; each release lets the
    first waiter in (threading: ``notify()`` wakes the Condition's first waiter; asyncio:
    ``_wake_up_next`` hands it the place)."""
    events, out = _run(scenario(POOL), variant)
    assert max(count for _, count in _holding(events, "pool")) == 2
    acquired = [e.lane for e in events if isinstance(e, LockAcquired)]
    lanes = ["worker-1", "worker-2", "worker-3", "worker-4"]
    assert acquired == (lanes if variant else ["thread-1", "thread-2", "thread-3", "thread-4"])
    assert [round(t["ended"], 1) for t in out["tasks"]] == [0.1, 0.1, 0.2, 0.2]


def test_a_blocked_lane_counts_the_places_taken() -> None:
    """The lane of a worker that waits reads ``with pool (2 of 2 taken)``, and its
    LockWaited names the holders."""
    sim = Simulation(scenario(POOL), seed=0)
    sim.advance(0.05)
    third = sim.world.lanes["thread-3"]
    assert (third.state.value, third.step) == ("blocked", "with pool (2 of 2 taken)")
    waited = next(e for e in sim.events if isinstance(e, LockWaited))
    assert (waited.lane, waited.holder) == ("thread-3", "thread-1, thread-2")


def test_the_events_of_a_semaphore_call_it_a_semaphore_and_count_its_places() -> None:
    """A semaphore is no lock: its events say ``semaphore``, and a waiter's says how many
    of its places are taken and by whom (a lock has one holder, a semaphore several)."""
    events, _ = _run(scenario(POOL))
    said = [
        (round(e.t, 3), type(e).__name__, e.kind.value, e.why)
        for e in events
        if isinstance(e, LockAcquired | LockWaited | LockReleased)
    ]
    assert said[:6] == [
        (0.0, "LockAcquired", "semaphore", "thread-1 acquired semaphore pool."),
        (0.0, "LockAcquired", "semaphore", "thread-2 acquired semaphore pool."),
        (
            0.0,
            "LockWaited",
            "semaphore",
            "thread-3 waits for semaphore pool: 2 of 2 taken by thread-1, thread-2.",
        ),
        (
            0.0,
            "LockWaited",
            "semaphore",
            "thread-4 waits for semaphore pool: 2 of 2 taken by thread-1, thread-2.",
        ),
        (0.1, "LockReleased", "semaphore", "thread-1 released semaphore pool."),
        (0.1, "LockReleased", "semaphore", "thread-2 released semaphore pool."),
    ]
    waited = next(e for e in events if isinstance(e, LockWaited))
    assert waited.taken == "2 of 2 taken"


def test_a_timed_wait_and_giving_up_on_a_semaphore_say_semaphore() -> None:
    """``acquire(timeout=...)`` on a semaphore: the wait and the give-up name it so."""
    events, _ = _run(scenario(TIMED))
    timed = next(e for e in events if isinstance(e, LockTimedWait))
    gave_up = next(e for e in events if isinstance(e, LockGaveUp))
    assert timed.why == "thread-2 waits up to 50ms for semaphore pool: 1 of 1 taken by thread-1."
    assert gave_up.why == (
        "thread-2 gave up on semaphore pool after 50ms: acquire(timeout=...) returned False."
    )


BARGE = """
version: 2
name: barge
program: {executor: false, collect: join}
semaphores: {s: {value: 1}}
tasks:
  - name: looper
    steps:
      - repeat: 2
        steps:
          - with: s
            steps: [{print: looper}, {sleep: 1ms}, {cpu: 1ms}]
  - name: waiter
    steps:
      - {sleep: 500us}
      - with: s
        steps: [{print: waiter}]
"""


def test_a_thread_that_releases_and_acquires_again_at_once_keeps_the_place() -> None:
    """threading.Semaphore is not a FIFO: ``release`` adds one and ``notify()`` wakes the
    first waiter, which must take the GIL back before it can decrement the value. The
    releasing thread still holds the GIL and acquires again first; the woken waiter finds
    the value at 0 and waits again. Measured on CPython 3.11: a loop of
    ``with sem: spin(10ms)`` keeps a second thread out until the loop ends."""
    events, out = _run(scenario(BARGE))
    assert out["output"] == ["looper", "looper", "waiter"]
    waits = [e.lane for e in events if isinstance(e, LockWaited)]
    assert waits == ["thread-2", "thread-2"]  # woken once, beaten to it, waits again


def test_asyncio_semaphore_serves_waiters_first_come_first_served() -> None:
    """asyncio.Semaphore: ``release`` hands the place to the first waiter and ``acquire``
    queues behind any waiter (``locked()``), so the looper's second acquire waits its turn."""
    _, out = _run(
        scenario(
            BARGE.replace("{executor: false, collect: join}", "{model: asyncio}").replace(
                "{cpu: 1ms}", "{io: 1ms}"
            )
        )
    )
    assert out["output"] == ["looper", "waiter", "looper"]


def test_a_bounded_semaphore_released_too_often_raises_value_error() -> None:
    """BoundedSemaphore.release: ValueError('Semaphore released too many times') in
    threading, ValueError('BoundedSemaphore released too many times') in asyncio."""
    text = """
        version: 2
        name: s
        program: {executor: false, collect: join}
        semaphores: {pool: {value: 1, bounded: true}}
        tasks:
          - {name: t, steps: [{acquire: pool}, {release: pool}, {release: pool}]}
        variants:
          - {name: aio, program: {model: asyncio, collect: gather}}
        """
    for variant, message in [
        (None, "Semaphore released too many times"),
        ("aio", "BoundedSemaphore released too many times"),
    ]:
        events, _ = _run(scenario(text), variant)
        raised = next(e for e in events if isinstance(e, ExceptionRaised))
        assert (raised.error, raised.message) == ("ValueError", message)


def test_a_plain_semaphore_released_more_than_acquired_just_counts_up() -> None:
    """Semaphore (unbounded) release adds one with no check: a third thread gets in."""
    events, out = _run(
        scenario("""
        version: 2
        name: s
        program: {executor: false, collect: join}
        semaphores: {gate: {value: 0}}
        tasks:
          - {name: opener, steps: [{sleep: 10ms}, {release: gate}, {release: gate}]}
          - {name: a, steps: [{acquire: gate}, {print: a in}]}
          - {name: b, steps: [{acquire: gate}, {print: b in}]}
        """)
    )
    assert sorted(out["output"]) == ["a in", "b in"]
    assert not any(isinstance(e, ExceptionRaised) for e in events)


TIMED = """
version: 2
name: s
program: {executor: false, collect: join}
semaphores: {pool: {value: 1}}
tasks:
  - {name: holder, steps: [{acquire: pool}, {sleep: 200ms}, {release: pool}]}
  - name: impatient
    steps:
      - {sleep: 1ms}
      - {acquire: pool, timeout: 50ms, else: [{print: no place}]}
"""


def test_a_semaphore_acquire_with_a_timeout_gives_up_and_runs_else() -> None:
    """Semaphore.acquire(timeout=0.05) returns False at the deadline (``endtime``) while
    both places stay taken."""
    events, out = _run(scenario(TIMED))
    timed = next(e for e in events if isinstance(e, LockTimedWait))
    gave_up = next(e for e in events if isinstance(e, LockGaveUp))
    assert (timed.lane, timed.holder, timed.timeout) == ("thread-2", "thread-1", 0.05)
    assert (round(gave_up.t, 4), gave_up.lock) == (0.051, "pool")
    assert out["output"] == ["no place"]


def test_names_are_unique_across_families() -> None:
    with pytest.raises(ScenarioError) as caught:
        scenario("""
        version: 2
        name: s
        queues: {pool: {}}
        semaphores: {pool: {value: 2}}
        """)
    assert str(caught.value) == (
        "test.yaml:5:14: semaphores.pool: `pool` is already a queue (under `queues:`); "
        "expected one name per primitive"
    )


def test_a_misspelt_semaphore_name_gets_a_did_you_mean() -> None:
    with pytest.raises(ScenarioError) as caught:
        scenario("""
        version: 2
        name: s
        semaphores: {pool: {value: 2}}
        tasks:
          - {name: t, steps: [{with: pol, steps: []}]}
        """)
    assert str(caught.value) == (
        "test.yaml:6:30: tasks[0].steps[0].with: no lock or semaphore `pol`; did you mean `pool`?"
    )


HANDED = """
version: 2
name: handed
program: {model: asyncio, collect: {pattern: gather, return_exceptions: true}}
semaphores: {pool: {value: 1}}
faults:
  - {fault: cancel, target: b, when: {task: a, step: 1}}
tasks:
  - name: a
    steps:
      - with: pool
        steps: [{sleep: 100ms}]
      - {print: released}
  - name: b
    steps: [{with: pool, steps: [{print: b}]}]
  - name: c
    steps: [{with: pool, steps: [{print: c}]}]
"""


def test_an_asyncio_place_handed_to_a_task_cancelled_before_it_runs_goes_to_the_next() -> None:
    """CPython 3.11 asyncio.Semaphore: ``release`` -> ``_wake_up_next`` gives ``b`` the
    place (``self._value -= 1; fut.set_result(True)``); ``b`` is cancelled before it runs,
    and its ``acquire`` (``except CancelledError: if not fut.cancelled(): self._value += 1;
    self._wake_up_next()``) passes the place to ``c`` instead of losing it."""
    events, out = _run(scenario(HANDED))
    assert {t["name"]: t["outcome"] for t in out["tasks"]} == {
        "a": "ok",
        "b": "cancelled",
        "c": "ok",
    }
    assert [line for line in out["output"] if line] == ["released", "c"]
    # a's release hands the place to b at 100ms; b gives it on as it raises (100.1)
    assert _holding(events, "pool") == [
        (0.0, 1),
        (100.0, 0),
        (100.0, 1),
        (100.1, 0),
        (100.1, 1),
        (100.2, 0),
    ]
    moves = [
        (type(e).__name__, e.lane) for e in events if isinstance(e, LockAcquired | LockReleased)
    ]
    assert moves[1:5] == [
        ("LockReleased", "a"),
        ("LockAcquired", "b"),
        ("LockReleased", "b"),
        ("LockAcquired", "c"),
    ]
