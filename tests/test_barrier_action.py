"""``threading.Barrier(parties, action=fn)`` (version 2): the party that trips the barrier
runs ``fn`` before any party is released; an exception in it breaks the barrier, as
Lib/threading.py's ``Barrier._release`` has it; and the program, run on CPython, agrees."""

from __future__ import annotations

import textwrap

import pytest

from concsim.codegen import program
from concsim.engine import Simulation
from concsim.events import BarrierBroken, BarrierPassed, OutputWritten
from concsim.export.outcome import outcome
from concsim.live.check import check_one
from concsim.scenario.errors import ScenarioError
from concsim.scenario.loader import load_scenario_text
from concsim.scenario.model import Scenario

MERGE = """\
    version: 2
    name: s
    shared: {merged: 0}
    barriers:
      gate:
        parties: 3
        TIMEOUT
        action:
          - {io: 100ms, label: merge the parts}
          - {write: merged}
          - ACTION
    program: {model: threads, executor: false, collect: join}
    tasks:
      - {name: a, steps: [{io: 10ms}, {wait: gate}, {print: a passed}]}
      - {name: b, steps: [{io: 30ms}, {wait: gate}, {print: b passed}]}
      - {name: c, steps: [{io: 50ms}, {wait: gate}, {print: c passed}]}
    """


def _load(action: str = "{print: merged}", timeout: str = "") -> Scenario:
    text = textwrap.dedent(MERGE).replace("ACTION", action)
    text = text.replace("TIMEOUT", timeout) if timeout else text.replace("    TIMEOUT\n", "")
    return load_scenario_text(text, "s.yaml")


def _run(scenario: Scenario) -> Simulation:
    sim = Simulation(scenario)
    sim.run()
    return sim


def _tasks(sim: Simulation) -> dict[str, tuple[str, str | None, float]]:
    return {t["name"]: (t["outcome"], t["error"], t["ended"]) for t in outcome(sim.events)["tasks"]}


def test_the_last_party_runs_the_action_before_any_is_released() -> None:
    """Barrier._release: ``if self._action: self._action()`` runs in the thread that trips
    the barrier (``c``, the last to arrive, at 50ms), and only then ``notify_all`` lets
    the others go: every party passes at 150ms, after ``merged`` is written."""
    sim = _run(_load())
    said = [(e.lane, e.text) for e in sim.events if isinstance(e, OutputWritten) and e.text != "\n"]
    assert said[0] == ("thread-3", "merged")
    passed = {e.lane: (e.t, e.index) for e in sim.events if isinstance(e, BarrierPassed)}
    assert passed == {
        "thread-1": (pytest.approx(0.15, abs=0.001), 0),
        "thread-2": (pytest.approx(0.15, abs=0.001), 1),
        "thread-3": (pytest.approx(0.15, abs=0.001), 2),  # after its print of 100 us
    }
    assert outcome(sim.events)["shared"] == {"merged": 1}


def test_an_exception_in_the_action_breaks_the_barrier() -> None:
    """Barrier._release: ``except: self._break(); raise`` -- the party that ran the action
    raises its exception, every other party BrokenBarrierError."""
    sim = _run(_load("{raise: ValueError, message: merge failed}"))
    assert _tasks(sim) == {
        "a": ("failed", "BrokenBarrierError", 0.15),
        "b": ("failed", "BrokenBarrierError", 0.15),
        "c": ("failed", "ValueError", 0.15),
    }
    broken = [(e.t, e.lane, e.how, e.woke) for e in sim.events if isinstance(e, BarrierBroken)]
    assert broken == [(0.15, "thread-3", "its action raised ValueError", ("thread-1", "thread-2"))]


def test_a_timeout_that_expires_during_the_action_does_not_break_the_barrier() -> None:
    """The action runs under the barrier's lock: a wait whose timeout (80ms) expires while
    it runs returns from ``Condition.wait`` only with the lock back, and by then the
    barrier has tripped, so ``wait_for``'s predicate holds and it passes."""
    sim = _run(_load(timeout="timeout: 80ms"))
    assert not [e for e in sim.events if isinstance(e, BarrierBroken)]
    assert {name: t[:2] for name, t in _tasks(sim).items()} == {
        name: ("ok", None) for name in "abc"
    }


def test_the_program_defines_the_action_then_the_barrier() -> None:
    source = program(_load(timeout="timeout: 1s")).source
    assert (
        "def gate_action():\n"
        "    global merged\n"
        "    time.sleep(0.1)  # merge the parts\n"
        "    merged += 1\n"
        '    print("merged")\n'
        "\n\n"
        "gate = threading.Barrier(3, timeout=1.0, action=gate_action)\n"
    ) in source


def test_the_action_s_steps_are_checked_like_a_task_s() -> None:
    with pytest.raises(ScenarioError) as caught:
        _load("{write: mreged}")
    assert str(caught.value) == (
        "s.yaml:10:17: barriers.gate.action[2].write: no shared variable `mreged`; "
        "did you mean `merged`?"
    )


@pytest.mark.parametrize("action", ["{print: merged}", "{raise: ValueError, message: bad}"])
def test_the_program_agrees_with_the_simulator_on_cpython(action: str) -> None:
    """The merge above and the failing action, run for real."""
    result = check_one(_load(action), None, loose=3.0)
    assert result.error is None
    assert [str(d) for d in result.disagreements] == []
