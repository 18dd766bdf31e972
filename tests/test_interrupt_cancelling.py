"""Ctrl-C after a TaskGroup child failed late. ``asyncio.Runner.run`` (Lib/asyncio/runners.py,
the same in 3.11, 3.12 and 3.13): ``_on_sigint`` cancels the main task; when
``run_until_complete`` then raises CancelledError, ``if task.uncancel() == 0: raise
KeyboardInterrupt()`` -- else the CancelledError goes on. On 3.11 and 3.12 a TaskGroup child
that fails after the ``async with`` body leaves the main task's ``cancelling()`` one up
(gh-116720), so Ctrl-C ends the program with CancelledError; 3.13 uncancels after its wait
and Ctrl-C is KeyboardInterrupt. Measured by sending SIGINT to the program's main thread on
3.11.7, 3.12.1 (``asyncio.exceptions.CancelledError``, exit status 1) and 3.13.0
(``KeyboardInterrupt``)."""

from __future__ import annotations

import signal
import subprocess

import pytest
from faultkit import scenario

from concsim.codegen import program
from concsim.engine import Simulation
from concsim.engine.faults import Injection
from concsim.export.outcome import outcome
from concsim.live.check import check_one
from concsim.live.interpreters import interpreter_for
from concsim.scenario.library import bundled_scenarios
from concsim.scenario.loader import load_scenario
from concsim.scenario.model import Python

LATE = """
    version: 2
    name: ctrlc
    machine: {{python: "{python}"}}
    program:
      model: asyncio
      collect: none
      main:
        - try:
            - taskgroup: [child]
              steps: [{{io: 10ms}}]
          except:
            - {{type: ExceptionGroup, steps: [{{print: caught the group}}]}}
        - {{sleep: 1s}}
    faults:
      - {{fault: interrupt, target: main, at: 500ms}}
    tasks:
      - name: child
        steps: [{{io: 100ms}}, {{raise: ValueError, message: x}}]
    """

RAISED = {"3.11": "CancelledError", "3.12": "CancelledError", "3.13": "KeyboardInterrupt"}


@pytest.mark.parametrize("python", sorted(RAISED))
def test_ctrl_c_after_a_late_group_failure_is_cancelled_error_before_3_13(python: str) -> None:
    sim = Simulation(scenario(LATE.format(python=python)))
    sim.run()
    main = outcome(sim.events)["main"]
    assert (main["outcome"], main["error"]) == ("raised", RAISED[python])


def test_ctrl_c_without_a_leftover_cancel_is_keyboard_interrupt_on_3_11() -> None:
    """The body outlasts the child's failure: the group's cancel lands in the body and
    ``__aexit__`` takes it back, so ``uncancel()`` after Ctrl-C returns 0."""
    text = LATE.format(python="3.11").replace("{io: 10ms}", "{io: 300ms}")
    sim = Simulation(scenario(text))
    sim.run()
    assert outcome(sim.events)["main"]["error"] == "KeyboardInterrupt"


@pytest.mark.parametrize("python", sorted(RAISED))
def test_cpython_raises_after_sigint_as_the_simulator_says(python: str) -> None:
    """The tiny real check: the program as ``concsim code`` writes it, SIGINT sent to it
    once it has printed ``caught the group``; the last line of its traceback."""
    interpreter = interpreter_for(Python(python))
    if interpreter is None:
        pytest.skip(f"this machine has no CPython {python}")
    source = program(scenario(LATE.format(python=python))).source
    child = subprocess.Popen(
        [interpreter, "-u", "-c", source],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None
    assert child.stdout.readline() == "caught the group\n"
    child.send_signal(signal.SIGINT)
    _, err = child.communicate(timeout=60)
    last = err.strip().splitlines()[-1]
    assert last.rpartition(".")[2] == RAISED[python]


LESSON = next(path for path in bundled_scenarios() if path.stem == "ctrl-c-shutdown")
VARIANTS = {"late-group-failure": "CancelledError", "late-group-failure-3.13": "KeyboardInterrupt"}


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_cpython_agrees_on_the_lesson_with_ctrl_c(variant: str) -> None:
    lesson = load_scenario(LESSON)
    python = lesson.variant(variant).machine.python
    if interpreter_for(python) is None:
        pytest.skip(f"this machine has no CPython {python.value}")
    ctrl_c = [Injection(0.5, "interrupt", "main")]
    check = check_one(lesson, variant, loose=3.0, injections=ctrl_c)
    assert check.error is None
    assert not check.skipped
    assert [str(d) for d in check.disagreements] == []
