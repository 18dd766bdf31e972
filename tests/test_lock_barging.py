"""``threading.Lock.release()`` frees the lock and wakes one waiter; it does not hand the lock
over. CPython's lock is a semaphore (Python/thread_pthread.h, USE_SEMAPHORES): the woken
thread takes it in ``sem_wait``, without the GIL, when it runs; a releaser that acquires
again first takes it back (benchmarks/cpython_facts/lock_barging.py: acquire() right after
release() got it back in 37 of 40 trials on CPython 3.11)."""

from __future__ import annotations

import textwrap

from concsim.engine import Simulation
from concsim.events import LockAcquired, LockWaited
from concsim.scenario.loader import load_scenario_text


def _run(text: str) -> Simulation:
    sim = Simulation(load_scenario_text(textwrap.dedent(text), "s.yaml"))
    sim.run()
    return sim


def _acquired(sim: Simulation) -> list[tuple[float, str]]:
    return [(e.t, e.lane) for e in sim.events if isinstance(e, LockAcquired)]


def test_a_releaser_that_acquires_again_at_once_takes_the_lock_before_the_woken_waiter() -> None:
    sim = _run(
        """\
        version: 1
        name: s
        program: {model: threads, executor: false, collect: join}
        tasks:
          - name: a
            steps:
              - {acquire: lock}
              - {io: 10ms}
              - {release: lock}
              - {acquire: lock}
              - {io: 10ms}
              - {release: lock}
          - name: b
            steps:
              - {io: 1ms}
              - {acquire: lock}
              - {io: 10ms}
              - {release: lock}
        """
    )
    assert _acquired(sim) == [(0.0, "thread-1"), (0.01, "thread-1"), (0.02, "thread-2")]
    # b was woken at 10 ms, found the lock taken and slept again: it waited once, not twice
    assert [(e.t, e.lane, e.holder) for e in sim.events if isinstance(e, LockWaited)] == [
        (0.001, "thread-2", "thread-1")
    ]


def test_the_woken_waiter_takes_the_lock_without_the_gil() -> None:
    """a releases and computes for 2 ms, keeping the GIL (less than a switch interval): b,
    woken, has taken the lock meanwhile, so a's next acquire blocks on b."""
    sim = _run(
        """\
        version: 1
        name: s
        program: {model: threads, executor: false, collect: join}
        tasks:
          - name: a
            steps:
              - {acquire: lock}
              - {io: 2ms}
              - {release: lock}
              - {cpu: 2ms}
              - {acquire: lock}
              - {release: lock}
          - name: b
            steps:
              - {io: 1ms}
              - {acquire: lock}
              - {cpu: 1ms}
              - {release: lock}
        """
    )
    assert _acquired(sim) == [(0.0, "thread-1"), (0.002, "thread-2"), (0.005, "thread-1")]
    assert [(e.t, e.lane, e.holder) for e in sim.events if isinstance(e, LockWaited)] == [
        (0.001, "thread-2", "thread-1"),
        (0.004, "thread-1", "thread-2"),
    ]
