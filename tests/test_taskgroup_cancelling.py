"""The ``cancelling()`` count a TaskGroup leaves behind on CPython 3.11 and 3.12 when a
child fails after the ``async with`` body has ended (Lib/asyncio/taskgroups.py:
``_on_task_done`` calls ``self._parent_task.cancel()``, but ``__aexit__`` called
``uncancel()`` only before its wait). Measured with a real program on 3.11.7 and 3.12.1:
``cancelling()`` is 1 after the group, and an enclosing ``asyncio.timeout()`` that expires
later lets the CancelledError through instead of raising TimeoutError; on 3.13.0 it is 0
and the timeout raises TimeoutError (gh-116720)."""

from __future__ import annotations

import textwrap

from concsim.engine import Simulation
from concsim.events import CancelRequested
from concsim.export.outcome import outcome
from concsim.live.check import check_one
from concsim.scenario.loader import load_scenario_text
from concsim.scenario.model import Scenario


def _load(text: str) -> Scenario:
    return load_scenario_text(textwrap.dedent(text), "s.yaml")


def _run(text: str) -> Simulation:
    sim = Simulation(_load(text))
    sim.run()
    return sim


LATE = """\
    version: 2
    name: s
    program: {model: asyncio, collect: {pattern: gather, return_exceptions: true}}
    tasks:
      - name: late
        steps:
          - try:
              - within: 500ms
                steps:
                  - try:
                      - taskgroup: [child]
                        steps: [{io: BODY}]
                    except:
                      - {type: ExceptionGroup, steps: [{print: caught the group}]}
                  - {io: 1s}
            except:
              - {type: TimeoutError, steps: [{print: TimeoutError}]}
          - {print: after}
      - name: child
        steps: [{io: 100ms}, {raise: ValueError, message: x}]
    """


def _said(sim: Simulation) -> list[str]:
    return [line for line in outcome(sim.events)["output"] if line]


def _late(sim: Simulation) -> tuple[str, str | None]:
    task = next(t for t in outcome(sim.events)["tasks"] if t["name"] == "late")
    return task["outcome"], task["error"]


def test_a_late_child_failure_leaves_the_timeout_around_the_group_unable_to_fire() -> None:
    """The body ends at 10 ms, the child fails at 100 ms: the group cancels ``late`` for
    good. At 500 ms the ``asyncio.timeout`` cancels it again, and its ``__aexit__``
    (``uncancel() <= cancelling() at entry``, 1 <= 0) lets CancelledError out."""
    sim = _run(LATE.replace("BODY", "10ms"))
    assert _said(sim) == ["caught the group"]
    assert _late(sim) == ("cancelled", "CancelledError")
    assert [(e.t, e.task, e.reason) for e in sim.events if isinstance(e, CancelRequested)] == [
        (
            0.1,
            "late",
            "TaskGroup cancels late, whose async with body has ended, because child raised "
            "ValueError; __aexit__ drops the CancelledError but never uncancels it",
        ),
        (0.5, "late", "asyncio.timeout() expired: Timeout._on_timeout cancels the task"),
    ]


def test_a_failure_while_the_body_runs_is_uncancelled() -> None:
    """The body still awaits at 100 ms: ``__aexit__`` uncancels the group's cancel, and
    the timeout raises TimeoutError at 500 ms."""
    sim = _run(LATE.replace("BODY", "300ms"))
    assert _said(sim) == ["caught the group", "TimeoutError", "after"]
    assert _late(sim) == ("ok", None)


def test_python_3_13_uncancels_after_the_wait() -> None:
    """3.13's ``__aexit__`` calls ``uncancel()`` after waiting for the children."""
    sim = _run(
        LATE.replace("BODY", "10ms").replace("program:", 'machine: {python: "3.13"}\n    program:')
    )
    assert _said(sim) == ["caught the group", "TimeoutError", "after"]
    assert _late(sim) == ("ok", None)
    assert [e.t for e in sim.events if isinstance(e, CancelRequested)] == [0.5]  # the timeout


def test_the_program_agrees_with_the_simulator_on_cpython() -> None:
    """Run on CPython 3.11: the task ends cancelled, as simulated."""
    result = check_one(_load(LATE.replace("BODY", "10ms")), None, loose=3.0)
    assert result.error is None
    assert [str(d) for d in result.disagreements] == []
