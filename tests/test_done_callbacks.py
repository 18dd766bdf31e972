"""``Future.add_done_callback`` on a thread pool's futures (Lib/concurrent/futures/_base.py):
the format, the simulator, the generated program and its errors. Each CPython fact was run on
3.11.7: a callback runs in the worker that set the result (``ThreadPoolExecutor-0_N``), one
added to a done future runs at once in the caller (``MainThread``), and one that raises is
logged as ``exception calling callback for <Future at 0x... state=finished returned str>``
with its traceback, and ignored."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest

from concsim.codegen import program
from concsim.engine import Simulation
from concsim.events import CallbackInvoked, OutputWritten
from concsim.export.outcome import outcome
from concsim.scenario.errors import ScenarioError
from concsim.scenario.loader import load_scenario_text

HEAD = """\
version: 2
name: cb
program:
  model: threads
  max_workers: 2
  main:
"""
TASKS = """\
tasks:
  - name: quick
    steps: [{io: 100ms}]
    returns: quick answer
  - name: slow
    steps: [{io: 300ms}]
    returns: slow answer
"""


def scenario_of(main: str, tasks: str = TASKS, head: str = HEAD) -> Any:
    return load_scenario_text(head + main + tasks, "s.yaml")


def simulate(main: str, tasks: str = TASKS) -> list[Any]:
    sim = Simulation(scenario_of(main, tasks))
    sim.run()
    return list(sim.events)


def calls(events: list[Any]) -> list[tuple[float, str, str, str, str]]:
    return [
        (round(e.t, 6), e.lane, e.task, e.callback, e.thread)
        for e in events
        if isinstance(e, CallbackInvoked)
    ]


def output(events: list[Any]) -> list[tuple[str | None, str]]:
    return [(e.task, e.text) for e in events if isinstance(e, OutputWritten)]


def test_callbacks_run_in_the_worker_that_completes_the_future_in_registration_order() -> None:
    """Future.set_result calls _invoke_callbacks in the worker thread, in the order the
    callbacks were added."""
    events = simulate(
        "    - submit\n"
        "    - {add_done_callback: quick, steps: [{print: 'first in {thread}'}]}\n"
        "    - {add_done_callback: quick, steps: [{print: 'second in {thread}'}]}\n"
        "    - {add_done_callback: slow, steps: [{print: 'slow in {thread}'}]}\n"
        "    - collect\n"
    )
    assert calls(events) == [
        (0.1, "thread-1", "quick", "quick_done", "ThreadPoolExecutor-0_0"),
        # after the first callback's print: two writes of 50 us of Python code each
        (0.1001, "thread-1", "quick", "quick_done_2", "ThreadPoolExecutor-0_0"),
        (0.3, "thread-2", "slow", "slow_done", "ThreadPoolExecutor-0_1"),
    ]
    assert output(events) == [
        ("quick", "first in ThreadPoolExecutor-0_0"),
        ("quick", "\n"),
        ("quick", "second in ThreadPoolExecutor-0_0"),
        ("quick", "\n"),
        ("slow", "slow in ThreadPoolExecutor-0_1"),
        ("slow", "\n"),
    ]


def test_a_callback_added_to_a_done_future_runs_at_once_in_the_caller() -> None:
    """add_done_callback on a finished future calls fn(self) before it returns, in the
    calling thread (MainThread)."""
    events = simulate(
        "    - submit\n"
        "    - {sleep: 200ms}\n"
        "    - {add_done_callback: quick, steps: [{print: 'late in {thread}'}]}\n"
        "    - {add_done_callback: slow, steps: [{print: 'slow in {thread}'}]}\n"
        "    - collect\n"
    )
    assert calls(events) == [
        (0.2, "main", "quick", "quick_done", "MainThread"),
        (0.3, "thread-2", "slow", "slow_done", "ThreadPoolExecutor-0_1"),
    ]
    assert output(events)[0] == (None, "late in MainThread")


def test_an_exception_in_a_callback_is_logged_and_ignored() -> None:
    """_invoke_callbacks catches Exception and calls LOGGER.exception('exception calling
    callback for %r', self); with no logging configured logging.lastResort prints the
    message and the traceback; the future's result and main are untouched."""
    events = simulate(
        "    - submit\n"
        "    - {add_done_callback: quick, steps: [{raise: ValueError, message: bug}]}\n"
        "    - {add_done_callback: quick, steps: [{print: after}]}\n"
        "    - collect\n"
    )
    assert output(events) == [
        (
            "quick",
            "exception calling callback for <Future at 0x... state=finished returned str>\n"
            "Traceback (most recent call last):\n  ...\nValueError: bug\n",
        ),
        ("quick", "after"),
        ("quick", "\n"),
    ]
    out = outcome(events)
    assert out["main"]["outcome"] == "ok"
    assert out["results"] == ["quick answer", "slow answer"]


def test_the_logged_exception_names_its_logger_when_logging_is_configured() -> None:
    """With logging.basicConfig (the program logs), the record is 'ERROR concurrent.futures:
    ...'; a failed future's repr says 'raised ValueError'."""
    tasks = TASKS.replace("steps: [{io: 100ms}]", "steps: [{log: hi}, {raise: KeyError}]")
    events = simulate(
        "    - submit\n    - {add_done_callback: quick, steps: [{raise: OSError}]}\n"
        "    - {collect: results}\n",
        tasks,
    )
    text = [t for _, t in output(events) if "callback" in t]
    assert text == [
        "ERROR concurrent.futures: exception calling callback for "
        "<Future at 0x... state=finished raised KeyError>\n"
        "Traceback (most recent call last):\n  ...\nOSError\n"
    ]


def test_cancelling_queued_futures_runs_their_callbacks_in_the_cancelling_thread() -> None:
    """shutdown(cancel_futures=True) calls future.cancel() on each queued work item, and
    Future.cancel() invokes the callbacks in that thread (main)."""
    events = simulate(
        "    - submit\n"
        "    - {add_done_callback: jobs, steps: [{print: '{thread}'}]}\n"
        "    - {shutdown: {cancel_futures: true}}\n",
        "tasks:\n  - {name: jobs, repeat: 3, steps: [{io: 100ms}]}\n",
    )
    assert calls(events) == [
        (0.0, "main", "jobs-3", "jobs_done", "MainThread"),
        (0.1, "thread-1", "jobs-1", "jobs_done", "ThreadPoolExecutor-0_0"),
        (0.1001, "thread-2", "jobs-2", "jobs_done", "ThreadPoolExecutor-0_1"),
    ]


def test_the_program_registers_and_defines_each_callback() -> None:
    """The generated program defines fn at the top of main() and adds it to each future of
    the task; run on this interpreter it prints what the simulator prints."""
    scenario = scenario_of(
        "    - submit\n"
        "    - {add_done_callback: quick, steps: [{print: 'quick \"done\" {x} in {thread}'}]}\n"
        "    - {sleep: 200ms}\n"
        "    - {add_done_callback: slow, steps: [{print: 'slow in {thread}'}]}\n"
        "    - {add_done_callback: quick, steps: [{print: 'late in {thread}'}]}\n"
        "    - {collect: results}\n"
    )
    source = program(scenario).source
    assert "    def quick_done(future):\n" in source
    assert (
        '        print(f"quick \\"done\\" {{x}} in {threading.current_thread().name}")\n' in source
    )
    assert "        futures[0].add_done_callback(quick_done)\n" in source
    assert "        futures[1].add_done_callback(slow_done)\n" in source
    assert "        futures[0].add_done_callback(quick_done_2)\n" in source
    ran = subprocess.run(
        [sys.executable, "-c", source], capture_output=True, text=True, check=True, timeout=30
    )
    assert ran.stdout.splitlines() == [
        'quick "done" {x} in ThreadPoolExecutor-0_0',
        "late in MainThread",
        "slow in ThreadPoolExecutor-0_1",
    ]


def test_copies_of_a_task_are_registered_in_one_loop() -> None:
    scenario = scenario_of(
        "    - submit\n    - {add_done_callback: jobs}\n    - collect\n",
        "tasks:\n  - {name: jobs, repeat: 3, steps: [{io: 10ms}]}\n",
    )
    source = program(scenario).source
    assert (
        "        for future in futures[0:3]:\n            future.add_done_callback(jobs_done)\n"
        in (source)
    )
    assert "    def jobs_done(future):\n        pass\n" in source


@pytest.mark.parametrize(
    ("main", "head", "message"),
    [
        (
            "    - submit\n    - {add_done_callback: quik}\n",
            HEAD,
            "s.yaml:8:27: program.main[1].add_done_callback: no task named `quik`; "
            "did you mean `quick`?",
        ),
        (
            "    - {add_done_callback: quick}\n    - submit\n",
            HEAD,
            "s.yaml:4:3: program: `add_done_callback: quick` comes before `quick` is "
            "submitted; expected a `submit` of it earlier in program.main (its future exists "
            "from then on)",
        ),
        (
            "    - submit\n    - {add_done_callback: quick}\n",
            HEAD.replace("threads", "sequential"),
            "s.yaml:4:3: program: the `add_done_callback` step needs futures of a pool: "
            "model threads or processes with executor: true",
        ),
        (
            "    - submit\n    - {add_done_callback: quick}\n",
            HEAD.replace("  main:", "  collect: map\n  main:"),
            "s.yaml:4:3: program: the `add_done_callback` step needs futures; collect `map` "
            "keeps none (expected as_completed, result, wait or none)",
        ),
        (
            "    - submit\n    - {add_done_callback: quick, steps: [{log: hi}]}\n",
            HEAD,
            "s.yaml:8:41: program.main[1].steps: a callback has no task's logger; expected "
            "`print` (it may show {thread}, the name of the thread that runs it)",
        ),
        (
            "    - submit\n    - {add_done_callback: quick, steps: [collect]}\n",
            HEAD,
            "s.yaml:8:41: program.main[1].steps: 'collect' belongs in program.main, not in a "
            "callback",
        ),
        (
            "    - submit\n    - {add_done_callback: quick}\n",
            HEAD.replace("version: 2", "version: 1"),
            "s.yaml:8:8: program.main[1].add_done_callback: `add_done_callback` is a version-2 "
            "step; expected `version: 2` at the top of the file",
        ),
    ],
)
def test_each_mistake_is_one_positioned_line(main: str, head: str, message: str) -> None:
    with pytest.raises(ScenarioError) as caught:
        scenario_of(main, head=head)
    assert str(caught.value).splitlines() == [message]
