"""The ``future`` step: main calls a ``concurrent.futures.Future``'s methods and prints what
they return (Lib/concurrent/futures/_base.py). Run on 3.11.7 with one worker: a queued
future's ``cancel()`` is True (and again True once cancelled), a running or finished one's
False; ``running()`` is True only while it runs; ``exception()`` waits for the outcome and
returns the exception or None, and raises CancelledError for a cancelled future."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest

from concsim.codegen import program
from concsim.engine import Simulation
from concsim.events import CallbackInvoked, CancelRequested, OutputWritten
from concsim.export.outcome import outcome
from concsim.scenario.errors import ScenarioError
from concsim.scenario.loader import load_scenario_text

HEAD = """\
version: 2
name: fc
program:
  model: threads
  max_workers: 1
  collect: result
  main:
    - submit
"""
TASKS = """\
tasks:
  - name: bad
    steps: [{io: 100ms}, {raise: ValueError, message: bad row}]
  - name: slow
    steps: [{io: 300ms}]
  - name: quick
    steps: [{io: 100ms}]
"""


def scenario_of(main: str, head: str = HEAD) -> Any:
    return load_scenario_text(head + main + TASKS, "s.yaml")


def lines(events: list[Any], who: str | None = None) -> list[str]:
    text = "".join(e.text for e in events if isinstance(e, OutputWritten) and e.task == who)
    return text.splitlines()


def simulate(main: str) -> list[Any]:
    sim = Simulation(scenario_of(main))
    sim.run()
    return list(sim.events)


MAIN = """\
    - {future: bad, calls: [running, cancel]}
    - {future: slow, calls: [running, cancel, cancel, cancelled, done]}
    - {future: bad, calls: [exception, running, done]}
    - {future: quick, calls: [running, exception]}
"""
PRINTED = [
    "bad.running() -> True",
    "bad.cancel() -> False",
    "slow.running() -> False",
    "slow.cancel() -> True",
    "slow.cancel() -> True",
    "slow.cancelled() -> True",
    "slow.done() -> True",
    "bad.exception() -> ValueError('bad row')",
    "bad.running() -> False",
    "bad.done() -> True",
    "quick.running() -> True",
    "quick.exception() -> None",
]


def test_what_each_method_returns() -> None:
    """cancel() is True only while pending (and again once cancelled); exception() waits:
    quick runs after bad (one worker), slow was cancelled and never runs."""
    events = simulate(MAIN)
    assert lines(events) == PRINTED
    requests = [(e.task, e.accepted, e.reason) for e in events if isinstance(e, CancelRequested)]
    assert requests == [
        ("bad", False, "it is running"),
        ("slow", True, "it had not started, so it never will"),
        ("slow", True, "it is already cancelled"),
    ]
    out = outcome(events)
    assert {t["name"]: t["outcome"] for t in out["tasks"]} == {
        "bad": "failed",
        "slow": "cancelled",
        "quick": "ok",
    }
    # exception() read bad's error: nothing is left unretrieved, and main ends normally
    assert out["main"]["outcome"] == "ok"
    assert out["warnings"] == []


def test_exception_of_a_cancelled_future_raises_cancelled_error() -> None:
    events = simulate("    - {future: slow, calls: [cancel, exception]}\n")
    assert lines(events)[:1] == ["slow.cancel() -> True"]
    assert outcome(events)["main"]["error"] == "CancelledError"


def test_cancel_runs_the_callbacks_in_the_cancelling_thread() -> None:
    """Future.cancel() calls _invoke_callbacks before it returns, in the caller."""
    events = simulate(
        "    - {add_done_callback: slow, steps: [{print: 'cancelled: {thread}'}]}\n"
        "    - {future: slow, calls: [cancel]}\n"
    )
    (called,) = [e for e in events if isinstance(e, CallbackInvoked)]
    assert (called.lane, called.thread, called.t) == ("main", "MainThread", 0.0)
    assert lines(events)[:2] == ["cancelled: MainThread", "slow.cancel() -> True"]


def test_the_program_prints_the_same() -> None:
    """The generated program calls each method on the future in an f-string (repr for
    exception()) and, run on this interpreter, prints the simulator's lines."""
    source = program(scenario_of(MAIN)).source
    assert '        print(f"slow.cancel() -> {futures[1].cancel()}")\n' in source
    assert '        print(f"bad.exception() -> {futures[0].exception()!r}")\n' in source
    ran = subprocess.run([sys.executable, "-c", source], capture_output=True, text=True, timeout=30)
    assert ran.stdout.splitlines() == PRINTED
    assert (ran.returncode, ran.stderr) == (0, "")


@pytest.mark.parametrize(
    ("main", "message"),
    [
        (
            "    - {future: slo}\n",
            "s.yaml:9:16: program.main[1].future: no task named `slo`; did you mean `slow`?",
        ),
        (
            "    - {future: slow, calls: [cancel, stop]}\n",
            "s.yaml:9:38: program.main[1].calls[1]: expected one of cancel, cancelled, "
            "running, done, exception, got 'stop'",
        ),
        (
            "    - {future: slow, calls: []}\n",
            "s.yaml:9:29: program.main[1].calls: no method to call; expected one or more, "
            "e.g. [running, cancel]",
        ),
    ],
)
def test_each_mistake_is_one_positioned_line(main: str, message: str) -> None:
    with pytest.raises(ScenarioError) as caught:
        scenario_of(main)
    assert str(caught.value).splitlines() == [message]
