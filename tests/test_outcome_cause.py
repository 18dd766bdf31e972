"""``cause`` in the ``--json`` outcome (docs/outcome.md): the ``repr`` of ``__cause__`` of
the exception that ended main or a task, where ``raise ... from e`` set one."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from faultkit import scenario

from concsim.cli import main as cli
from concsim.engine import Simulation
from concsim.events import ExceptionChained
from concsim.export.outcome import outcome
from concsim.live.compare import compare
from concsim.live.interpreters import interpreter_for
from concsim.live.session import LiveSession
from concsim.replay import open_scenario

CHAINED = """
    version: 2
    name: s
    program:
      model: threads
      main:
        - submit
        - try: [{collect: results}]
          except: [{type: RuntimeError, steps: []}]
    tasks:
      - name: wrapped
        steps:
          - try: [{raise: ValueError, message: bad id}]
            except:
              - type: ValueError
                as: e
                steps: [{raise: RuntimeError, message: lookup failed, from: e}]
      - name: hidden
        steps:
          - try: [{raise: ValueError, message: bad id}]
            except:
              - {type: ValueError, steps: [{raise: ValueError, message: no id, from: none}]}
      - name: plain
        steps: [{raise: ValueError, message: bad}]
    """


def test_a_task_ended_by_raise_from_has_its_cause_in_the_outcome() -> None:
    """``raise RuntimeError(...) from e`` sets ``__cause__``: the task's entry has ``cause``,
    the repr CPython prints; ``from None`` and a plain raise have no ``cause`` key."""
    sim = Simulation(scenario(CHAINED))
    sim.run()
    tasks = {task["name"]: task for task in outcome(sim.events)["tasks"]}
    assert tasks["wrapped"]["cause"] == "ValueError('bad id')"
    assert "cause" not in tasks["hidden"]
    assert "cause" not in tasks["plain"]


def test_the_json_outcome_of_retry_gives_up_names_the_cause() -> None:
    """retry-gives-up: main raises ``RuntimeError('gave up after 3 attempts') from e``."""
    ran = CliRunner().invoke(
        cli, ["run", "retry-gives-up", "--variant", "default", "--json"], catch_exceptions=False
    )
    assert json.loads(ran.output)["main"] == {
        "outcome": "raised",
        "error": "RuntimeError",
        "cause": "ConnectionRefusedError('connection refused')",
    }


def test_main_re_raising_a_tasks_chained_exception_has_its_cause() -> None:
    """``future.result()`` re-raises the task's own exception object, ``__cause__`` and all:
    main ends with it, cause included."""
    text = CHAINED.replace(
        """        - try: [{collect: results}]
          except: [{type: RuntimeError, steps: []}]""",
        "        - collect",
    )
    sim = Simulation(scenario(text))
    sim.run()
    assert outcome(sim.events)["main"] == {
        "outcome": "raised",
        "error": "RuntimeError",
        "cause": "ValueError('bad id')",
    }


@pytest.mark.skipif(
    interpreter_for(open_scenario("retry-gives-up").machine.python) is None,
    reason="no CPython for it",
)
def test_cpython_reports_the_same_cause() -> None:
    """The real program's main() ends with the same ``__cause__`` (its repr)."""
    lesson = open_scenario("retry-gives-up")
    real = LiveSession(lesson).run_to_end(limit=20.0)
    assert outcome(real)["main"]["cause"] == "ConnectionRefusedError('connection refused')"


def test_check_reports_a_cause_the_real_program_does_not_have() -> None:
    """compare(): the simulator's cause against the real one; a real run whose main() ends
    with no cause disagrees on it. A cause only CPython has (set by its library) is not
    compared: the simulator does not model it."""
    lesson = open_scenario("retry-gives-up")
    sim = Simulation(lesson)
    simulated = sim.run()
    without = [e for e in simulated if not isinstance(e, ExceptionChained)]
    assert [str(d) for d in compare(lesson, simulated, without) if "cause" in str(d)] == [
        "main cause: simulator says ConnectionRefusedError('connection refused'), CPython did None"
    ]
    assert [str(d) for d in compare(lesson, without, simulated) if "cause" in str(d)] == []
