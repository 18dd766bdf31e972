"""``asyncio.wait_for`` on 3.11 and 3.12 (``machine.python``). From 3.12 it is ``async with
timeouts.timeout(t): return await fut`` (gh-96764, PR gh-98518): a coroutine runs in the
caller's task instead of a Task of its own, so ``len(asyncio.all_tasks())`` inside it is 1
less and ``current_task()`` is the caller (measured on 3.11.7 and 3.12.1). Nothing concsim
shows depends on that: the wrapper Task is no lane, and the cancel, the cleanup and the
TimeoutError come at the same times. These tests hold the simulator to that and run the
programs on both interpreters where this machine has them."""

from __future__ import annotations

import pytest
from faultkit import scenario

from concsim.engine import Simulation
from concsim.events import RunStarted
from concsim.export.outcome import outcome
from concsim.live.check import check_one
from concsim.live.interpreters import interpreter_for
from concsim.scenario.model import Python

TIMED = """
    version: 2
    name: s
    machine: {{python: "{python}"}}
    events: {{ready: {{}}}}
    program: {{model: asyncio, collect: {{pattern: gather, return_exceptions: true}}}}
    tasks:
      - name: query
        timeout: 100ms
        steps: [{{io: 1s}}]
        cleanup: [{{io: 50ms}}]
      - name: waiter
        steps:
          - {{wait: ready, timeout: 200ms}}
          - io: 10ms
        returns: gave up waiting
    """


def run(python: str) -> Simulation:
    sim = Simulation(scenario(TIMED.format(python=python)))
    sim.run()
    return sim


def test_wait_for_gives_the_same_outcome_on_3_11_and_3_12() -> None:
    """query: cancelled at 0.1 s, ended at 0.15 s after its finally, and main's gather
    holds the TimeoutError (3.11: wait_for's _cancel_and_wait of the inner Task; 3.12: the
    timeout cancels the caller, whose await passes the cancel on); waiter's
    ``wait_for(ready.wait(), 0.2)`` times out at 0.2 s either way."""
    old, new = outcome(run("3.11").events), outcome(run("3.12").events)
    assert old == new
    tasks = {task["name"]: (task["error"], task["ended"]) for task in new["tasks"]}
    assert new["results"] == ["TimeoutError()", "gave up waiting"]
    assert tasks == {
        "query": ("CancelledError", pytest.approx(0.15)),
        "waiter": (None, pytest.approx(0.21)),
    }


def test_wait_for_gives_the_same_events_on_3_11_and_3_12() -> None:
    """Every event after the run's header (which names the version) is the same."""

    def body(sim: Simulation) -> list[dict[str, object]]:
        return [e.to_dict() for e in sim.events if not isinstance(e, RunStarted)]

    assert body(run("3.11")) == body(run("3.12"))


@pytest.mark.parametrize("python", ["3.11", "3.12"])
def test_cpython_agrees_on_wait_for(python: str) -> None:
    if interpreter_for(Python(python)) is None:
        pytest.skip(f"this machine has no CPython {python}")
    check = check_one(scenario(TIMED.format(python=python)), None, loose=3.0)
    assert check.error is None
    assert not check.skipped
    assert [str(d) for d in check.disagreements] == []
