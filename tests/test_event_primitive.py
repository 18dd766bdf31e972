"""``threading.Event`` and ``asyncio.Event`` (version 2): set, clear, wait with a timeout,
each behaviour as CPython's Lib/threading.py and Lib/asyncio/locks.py have it."""

from __future__ import annotations

import textwrap

from concsim.engine import Simulation
from concsim.events import (
    EventCleared,
    EventSet,
    LaneStateChanged,
    OutputWritten,
    TaskEnded,
    TimeoutExpired,
)
from concsim.export.outcome import outcome
from concsim.live.check import check_one
from concsim.scenario.loader import load_scenario_text
from concsim.scenario.model import Scenario


def _run(text: str) -> Simulation:
    sim = Simulation(load_scenario_text(textwrap.dedent(text), "s.yaml"))
    sim.run()
    return sim


def _said(sim: Simulation) -> list[tuple[float, str]]:
    """Each line a task printed, with the time its text was written."""
    return [(e.t, e.text) for e in sim.events if isinstance(e, OutputWritten) and e.text != "\n"]


def _ended(sim: Simulation) -> dict[str, float]:
    return {e.task: e.t for e in sim.events if isinstance(e, TaskEnded)}


WAITERS = """\
    version: 2
    name: s
    events: {go: {}}
    program:
      model: {model}
      main: [submit, {sleep: 200ms}, {set: go}, {clear_step}collect]
    tasks:
      - name: waiter
        repeat: 3
        steps:
          - {wait: go, timeout: {timeout}, else: [{print: timed out}]}
          - {print: woke}
    """


def _waiters(model: str = "threads", timeout: str = "1s", clear: bool = False) -> str:
    return (
        WAITERS.replace("{model}", model)
        .replace("{timeout}", timeout)
        .replace("{clear_step}", "{clear: go}, " if clear else "")
    )


def test_set_wakes_every_waiter_and_each_wait_returns_true() -> None:
    """threading.Event.set: ``self._cond.notify_all()`` -- every thread blocked in wait()
    wakes, and wait() returns True (no else branch runs)."""
    sim = _run(_waiters())
    assert [(e.t, e.lane, e.event, e.woke) for e in sim.events if isinstance(e, EventSet)] == [
        (0.2, "main", "go", ("thread-1", "thread-2", "thread-3"))
    ]
    assert [text for _, text in _said(sim)] == ["woke"] * 3
    assert not [e for e in sim.events if isinstance(e, TimeoutExpired)]
    assert all(0.2 <= t < 0.21 for t, _ in _said(sim))  # woken by the set at 0.2 s


def test_a_waiter_notified_returns_true_even_if_cleared_before_it_runs() -> None:
    """Event.wait returns what ``self._cond.wait(timeout)`` returned (True once notified),
    not the flag as it is when the waiter runs again: a clear() right after set() does
    not turn the wake-up into a timeout."""
    sim = _run(_waiters(clear=True))
    assert [type(e).__name__ for e in sim.events if isinstance(e, EventSet | EventCleared)] == [
        "EventSet",
        "EventCleared",
    ]
    assert [text for _, text in _said(sim)] == ["woke"] * 3


def test_wait_with_a_timeout_returns_false_and_runs_else_at_the_timeout() -> None:
    """Event.wait(timeout) on an event nobody sets in time returns False after ``timeout``
    seconds: ``if not ev.wait(0.1): ...`` runs its body then, and the steps after it go on."""
    sim = _run(_waiters(timeout="100ms"))
    expired = [(e.t, e.waiter, e.on) for e in sim.events if isinstance(e, TimeoutExpired)]
    assert expired == [(0.1, f"thread-{n}", "event go") for n in (1, 2, 3)]
    said = _said(sim)
    assert sorted(text for _, text in said) == ["timed out"] * 3 + ["woke"] * 3
    assert all(0.1 <= t < 0.11 for t, _ in said)  # long before the set at 0.2 s
    assert all(e.woke == () for e in sim.events if isinstance(e, EventSet))


def test_wait_on_a_set_event_returns_at_once() -> None:
    """Event.wait: ``signaled = self._flag`` -- already set, it returns True without
    blocking; after clear() a wait blocks again (here until its timeout)."""
    sim = _run(
        """\
        version: 2
        name: s
        events: {go: {}}
        program:
          model: threads
          main:
            - {set: go}
            - {wait: go, timeout: 1s, else: [{print: first timed out}]}
            - {clear: go}
            - {wait: go, timeout: 300ms, else: [{print: second timed out}]}
        """
    )
    said = _said(sim)
    assert [text for _, text in said] == ["second timed out"]
    assert 0.3 <= said[0][0] < 0.31
    assert outcome(sim.events)["main"]["outcome"] == "ok"


def test_a_blocked_wait_names_the_event_on_its_lane() -> None:
    """The lane of a thread in Event.wait says what it waits for."""
    sim = _run(_waiters())
    shown = {(e.lane, e.step) for e in sim.events if isinstance(e, LaneStateChanged)}
    assert ("thread-1", "wait go (not set)") in shown


def test_asyncio_event_wait_under_wait_for_times_out_and_set_wakes_all() -> None:
    """asyncio.Event.wait under ``asyncio.wait_for(ev.wait(), 0.1)`` raises TimeoutError
    at 0.1 s (the else branch); without a timeout, set() wakes every waiting coroutine
    (Lib/asyncio/locks.py, Event.set: ``fut.set_result(True)`` for each waiter)."""
    timed = _run(_waiters("asyncio", "100ms"))
    said = _said(timed)
    assert sorted(text for _, text in said) == ["timed out"] * 3 + ["woke"] * 3
    assert all(0.1 <= t < 0.11 for t, _ in said)
    woken = _run(_waiters("asyncio", "1s"))
    assert [text for _, text in _said(woken)] == ["woke"] * 3
    assert [e.woke for e in woken.events if isinstance(e, EventSet)] == [
        ("waiter-1", "waiter-2", "waiter-3")
    ]


def test_check_stop_reads_a_declared_stop_event() -> None:
    """``check_stop`` is ``if stop.is_set(): return`` on the declared event ``stop``, so a
    ``set: stop`` ends the task at its next check, as ``set_stop`` does."""
    sim = _run(
        """\
        version: 2
        name: s
        events: {stop: {}}
        program:
          model: threads
          executor: false
          collect: join
          main: [submit, {sleep: 150ms}, {set: stop}, collect]
        tasks:
          - name: w
            steps: [{io: 100ms}, check_stop, {io: 100ms}, check_stop, {io: 100ms}]
        """
    )
    (task,) = outcome(sim.events)["tasks"]
    assert (task["outcome"], task["ended"]) == ("cancelled", 0.2)


def test_the_asyncio_program_agrees_with_the_simulator_on_cpython() -> None:
    """asyncio.Event under asyncio.wait_for, run for real: one task times out at 0.1 s and
    takes its else path, the other is woken by set() at 0.3 s (their end times agree)."""
    scenario = load_scenario_text(
        textwrap.dedent(
            """\
            version: 2
            name: s
            events: {go: {}}
            program:
              model: asyncio
              main: [submit, {sleep: 300ms}, {set: go}, collect]
            tasks:
              - name: early
                steps:
                  - {wait: go, timeout: 100ms, else: [{io: 50ms, label: late path}]}
                  - {io: 20ms}
              - name: patient
                steps:
                  - {wait: go, timeout: 1s, else: [{io: 500ms, label: late path}]}
                  - {io: 20ms}
            """
        ),
        "s.yaml",
    )
    ended = {t["name"]: t["ended"] for t in outcome(_run_scenario(scenario).events)["tasks"]}
    assert ended == {"early": 0.17, "patient": 0.32}
    result = check_one(scenario, None, loose=3.0)
    assert result.error is None
    assert [str(d) for d in result.disagreements] == []


def _run_scenario(scenario: Scenario) -> Simulation:
    sim = Simulation(scenario)
    sim.run()
    return sim
