"""``asyncio.Condition.wait`` by version (``machine.python``). From 3.13 (gh-112202) a
``wait()`` that leaves with an exception -- a cancel, a ``wait_for`` timeout -- calls
``self._notify(1)`` once it holds the lock again (``except BaseException: self._notify(1);
raise`` in Lib/asyncio/locks.py), so a notification that a cancelled waiter had taken goes
to the next waiter; one that had not been notified wakes the next waiter spuriously. 3.11
and 3.12 have no such clause: the notification is lost. Measured by running the programs
on 3.11.7, 3.12.1 and 3.13.0 (the ``concsim check`` tests below)."""

from __future__ import annotations

import pytest

from concsim.engine import Simulation
from concsim.events import ConditionNotified
from concsim.export.outcome import outcome
from concsim.live.check import check_one
from concsim.live.interpreters import interpreter_for
from concsim.scenario.library import bundled_scenarios
from concsim.scenario.loader import load_scenario, load_scenario_text
from concsim.scenario.model import Python, Scenario

LESSON = next(path for path in bundled_scenarios() if path.stem == "asyncio-condition")


def lesson(variant: str | None, python: str | None = None) -> Scenario:
    applied = load_scenario(LESSON).variant(variant)
    if python is None:
        return applied
    machine = applied.machine.model_copy(update={"python": Python(python)})
    return applied.model_copy(update={"machine": machine})


def run(scenario: Scenario) -> Simulation:
    sim = Simulation(scenario)
    sim.run()
    return sim


def notified(sim: Simulation) -> list[tuple[float, str, tuple[str, ...]]]:
    return [(round(e.t, 4), e.lane, e.woke) for e in sim.events if isinstance(e, ConditionNotified)]


def ended(sim: Simulation) -> dict[str, float]:
    return {task["name"]: task["ended"] for task in outcome(sim.events)["tasks"]}


@pytest.mark.parametrize("python", ["3.11", "3.12"])
def test_before_3_13_a_cancelled_waiter_loses_the_notification_it_took(python: str) -> None:
    """notify(3) at 0.2 s wakes packer-1..3; packer-3 is cancelled at 0.25 s while it
    waits for the lock and raises at 0.3 s. Nobody wakes packer-4 until the shop's next
    notify() at 0.5 s."""
    sim = run(lesson("cancel-after-notify", python))
    assert notified(sim) == [
        (0.2, "shop", ("packer-1", "packer-2", "packer-3")),
        (0.5, "shop", ("packer-4",)),
    ]
    assert ended(sim)["packer-3"] == pytest.approx(0.3)
    assert ended(sim)["packer-4"] == pytest.approx(0.6)


def test_on_3_13_a_cancelled_waiter_passes_its_notification_on() -> None:
    """3.13: packer-3, once it holds the lock again at 0.3 s, notifies packer-4, which
    packs the third order at once; the shop's notify() at 0.5 s finds nobody waiting."""
    sim = run(lesson("cancel-after-notify-3.13"))
    assert notified(sim) == [
        (0.2, "shop", ("packer-1", "packer-2", "packer-3")),
        (0.3, "packer-3", ("packer-4",)),
        (0.5, "shop", ()),
    ]
    assert ended(sim)["packer-4"] == pytest.approx(0.4)
    assert outcome(sim.events)["shared"] == {"orders": 1}


def test_on_3_13_a_waiter_cancelled_before_any_notify_wakes_another_spuriously() -> None:
    """The lesson as written, on 3.13: packer-3 was never notified, but its wait() still
    calls _notify(1) as it raises at 0.3 s: packer-2 wakes, finds no order (packer-1 took
    it) and waits again; the shop's second notify() at 0.5 s wakes it for good. On 3.11
    packer-3 notifies nobody. The outcome is the same."""
    old, new = run(lesson(None)), run(lesson(None, "3.13"))
    assert notified(old) == [(0.2, "shop", ("packer-1",)), (0.5, "shop", ("packer-2",))]
    assert notified(new) == [
        (0.2, "shop", ("packer-1",)),
        (0.3, "packer-3", ("packer-2",)),
        (0.5, "shop", ("packer-2",)),
    ]
    assert ended(old) == ended(new)


TIMED = """
version: 2
name: timed
machine: {python: "PYTHON"}
shared: {orders: 0}
conditions: {ready: {}}
program: {model: asyncio, collect: {pattern: gather, return_exceptions: true}}
tasks:
  - name: quick
    steps:
      - with: ready
        steps:
          - wait_for: ready
            until: {shared: orders, at_least: 1}
            timeout: 100ms
  - name: patient
    steps:
      - with: ready
        steps:
          - wait_for: ready
            until: {shared: orders, at_least: 1}
  - name: shop
    steps:
      - io: 300ms
      - with: ready
        steps: [{write: orders}, {notify: ready}]
"""


@pytest.mark.parametrize(("python", "spurious"), [("3.12", False), ("3.13", True)])
def test_on_3_13_a_wait_that_times_out_notifies_the_next_waiter(
    python: str, spurious: bool
) -> None:
    """``asyncio.wait_for(cv.wait_for(pred), 0.1)``: the timeout cancels the wait; on 3.13
    it notifies ``patient`` as it leaves (a spurious wake-up: patient checks and waits
    again), on 3.12 it notifies nobody."""
    sim = Simulation(load_scenario_text(TIMED.replace("PYTHON", python), "t.yaml"))
    sim.run()
    early = [(0.1, "quick", ("patient",))] if spurious else []
    assert notified(sim) == [*early, (0.3, "shop", ("patient",))]
    assert ended(sim)["patient"] == pytest.approx(0.3)


@pytest.mark.parametrize("variant", [None, "cancel-after-notify", "cancel-after-notify-3.13"])
def test_cpython_agrees_on_a_cancelled_condition_waiter(variant: str | None) -> None:
    scenario = load_scenario(LESSON)
    python = scenario.variant(variant).machine.python
    if interpreter_for(python) is None:
        pytest.skip(f"this machine has no CPython {python.value}")
    check = check_one(scenario, variant, loose=3.0)
    assert check.error is None
    assert not check.skipped
    assert [str(d) for d in check.disagreements] == []
