"""What a process pool cannot pickle (format version 2): an argument and a result, each in
the format, the simulator (CPython 3.11's Lib/concurrent/futures/process.py), and the
generated program run on this interpreter."""

from __future__ import annotations

import subprocess
import sys

import pytest
from faultkit import run, scenario

from concsim.codegen import program
from concsim.events import (
    FutureChanged,
    FutureState,
    PicklingFailed,
    PoolBroken,
    ResultPicklingFailed,
    ResultReceived,
    ResultUnpicklingFailed,
    TaskStarted,
)
from concsim.scenario.errors import ScenarioError
from concsim.scenario.schema import json_schema

HEAD = """version: 2
name: pool
machine: {cores: 2, process_start: 10ms, pickle_overhead: 0}
program: {model: processes, max_workers: 2, collect: COLLECT}
tasks:
"""


def pool(tasks: str, collect: str = "wait") -> str:
    return HEAD.replace("COLLECT", collect) + tasks


ARGS = pool(
    """  - {name: save, unpicklable_arg: lock, steps: [{cpu: 10ms}]}
  - {name: square, repeat: 2, unpicklable_arg: lambda, steps: [{cpu: 10ms}]}
  - {name: rows, unpicklable_arg: generator, steps: [{cpu: 10ms}]}
  - {name: ok, steps: [{cpu: 10ms}], returns: 5}
"""
)


def test_an_unpicklable_argument_fails_its_future_from_the_feeder_thread() -> None:
    """CPython 3.11: submit() returns normally; the queue feeder thread fails to pickle the
    call item (_SafeQueue._on_queue_feeder_error) and the future gets pickle's error:
    TypeError "cannot pickle '_thread.lock' object" for a lock, AttributeError "Can't pickle
    local object 'main.<locals>.<lambda>'" for a lambda made in main(), TypeError "cannot
    pickle 'generator' object"; the task never starts, the pool stays usable."""
    r = run(ARGS)
    failed = {e.task: (e.error, e.message) for e in r.of(PicklingFailed)}
    assert failed == {
        "save": ("TypeError", "cannot pickle '_thread.lock' object"),
        "square-1": ("AttributeError", "Can't pickle local object 'main.<locals>.<lambda>'"),
        "square-2": ("AttributeError", "Can't pickle local object 'main.<locals>.<lambda>'"),
        "rows": ("TypeError", "cannot pickle 'generator' object"),
    }
    assert {n: r.task(n)["error"] for n in ("save", "square-1", "square-2", "rows", "ok")} == {
        "save": "TypeError",
        "square-1": "AttributeError",
        "square-2": "AttributeError",
        "rows": "TypeError",
        "ok": None,
    }
    assert r.one(ResultReceived).error == "TypeError"  # wait, then save's result() raises
    assert [r.task(n)["outcome"] for n in ("save", "square-1", "rows")] == ["never_started"] * 3
    assert r.task("ok")["outcome"] == "ok"
    assert r.of(PoolBroken) == []


def test_the_function_is_pickled_before_its_arguments() -> None:
    """_CallItem(work_id, fn, args, kwargs) is pickled field by field: a nested function's
    error wins over an unpicklable argument's."""
    r = run(pool("  - {name: job, picklable: false, unpicklable_arg: lock, steps: [{cpu: 1ms}]}\n"))
    assert r.one(PicklingFailed).message == "Can't pickle local object 'main.<locals>.job'"


def test_from_3_13_a_local_lambda_argument_is_reported_by_the_lookup_that_fails() -> None:
    """3.13 (gh-122213-era pickle messages): "Can't get local object" instead of "pickle"."""
    text = ARGS.replace("pickle_overhead: 0}", "pickle_overhead: 0, python: '3.13'}")
    assert run(text).one(PicklingFailed, task="square-1").message == (
        "Can't get local object 'main.<locals>.<lambda>'"
    )


def test_the_program_passes_the_argument_and_fails_as_the_simulator_says() -> None:
    """The generated program hands each call its extra argument; on this interpreter each
    future fails with the simulator's error and message."""
    source = program(scenario(ARGS)).source
    assert "def save(lock):" in source
    assert "def square(i, callback):" in source
    assert "executor.submit(save, threading.Lock())" in source
    assert "executor.submit(square, i, on_done)" in source
    assert "        on_done = lambda: None\n" in source
    assert "executor.submit(rows, (n for n in range(3)))" in source
    assert "def rows(items):" in source
    wait = "        done, not_done = wait(futures)\n"
    show = (
        "        for f in futures:\n"
        "            print(type(f.exception()).__name__, f.exception())\n"
    )
    probe = source.replace(wait, wait + show)
    ran = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    assert ran.stdout.splitlines() == [
        "TypeError cannot pickle '_thread.lock' object",
        "AttributeError Can't pickle local object 'main.<locals>.<lambda>'",
        "AttributeError Can't pickle local object 'main.<locals>.<lambda>'",
        "TypeError cannot pickle 'generator' object",
        "NoneType None",
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            pool("  - {name: a, unpicklable_arg: lock}\n").replace("processes,", "threads,"),
            "s.yaml:6:15: tasks[0].unpicklable_arg: `unpicklable_arg` is a value a process pool "
            "cannot pickle; expected model processes with executor: true (a thread pool or a "
            "forked Process sends no pickle)",
        ),
        (
            pool("  - {name: a, unpicklable_arg: lock}\n", collect="map"),
            "s.yaml:6:15: tasks[0].unpicklable_arg: `unpicklable_arg` is passed with "
            "executor.submit; expected a collect other than map (as_completed, result, wait "
            "or none)",
        ),
        (
            pool("  - {name: a, unpicklable_arg: socket}\n"),
            "s.yaml:6:32: tasks[0].unpicklable_arg: expected one of lock, lambda, generator, "
            "got 'socket'; did you mean `lock`?",
        ),
        (
            pool("  - {name: a, unpicklable_arg: lock}\n").replace("version: 2", "version: 1"),
            "s.yaml:6:15: tasks[0].unpicklable_arg: `unpicklable_arg` is a version-2 key; "
            "expected `version: 2` at the top of the file",
        ),
    ],
)
def test_each_mistake_is_one_positioned_line(text: str, message: str) -> None:
    from concsim.scenario.loader import load_scenario_text

    with pytest.raises(ScenarioError) as caught:
        load_scenario_text(text, "s.yaml")
    assert str(caught.value).splitlines() == [message]


def test_the_schema_shows_the_keys_as_version_2() -> None:
    task = json_schema()["$defs"]["Task"]["properties"]
    assert task["unpicklable_arg"]["since"] == 2
    assert "lock" in str(json_schema()["$defs"]["Unsendable"])


RESULTS = pool(
    """  - {name: open_db, unpicklable_result: lock, steps: [{cpu: 10ms}]}
  - {name: make-key, unpicklable_result: lambda, steps: [{cpu: 10ms}]}
  - {name: rows, unpicklable_result: generator, steps: [{cpu: 10ms}]}
  - {name: ok, steps: [{cpu: 10ms}], returns: 5}
"""
)


def test_an_unpicklable_result_fails_its_future_and_the_pool_goes_on() -> None:
    """CPython 3.11: the function runs to its end in the worker; _sendback_result fails to
    pickle the value and sends the pickling error instead (_ExceptionWithTraceback), so
    the future raises TypeError "cannot pickle '_thread.lock' object" (a lambda made in
    the function: AttributeError "Can't pickle local object 'make_key.<locals>.<lambda>'");
    the worker lives on and takes the next task."""
    r = run(RESULTS)
    failed = {e.task: (e.lane, e.error, e.message) for e in r.of(ResultPicklingFailed)}
    assert failed == {
        "open_db": ("process-1", "TypeError", "cannot pickle '_thread.lock' object"),
        "make-key": (
            "process-2",
            "AttributeError",
            "Can't pickle local object 'make_key.<locals>.<lambda>'",
        ),
        "rows": ("process-1", "TypeError", "cannot pickle 'generator' object"),
    }
    errors = {e.task: e.error for e in r.of(FutureChanged) if e.state is FutureState.FAILED}
    assert errors == {"open_db": "TypeError", "make-key": "AttributeError", "rows": "TypeError"}
    assert [r.task(n)["outcome"] for n in ("open_db", "make-key", "rows", "ok")] == ["ok"] * 4
    assert r.one(TaskStarted, task="rows").lane == "process-1"  # the same worker goes on
    assert r.of(PoolBroken) == []


def test_a_chunk_fails_together_when_one_result_cannot_be_pickled() -> None:
    """map(chunksize=2): _process_chunk returns the chunk's results as one list, which is
    pickled as one; both futures of the chunk get the error."""
    text = pool(
        "  - {name: a, unpicklable_result: lock, steps: [{cpu: 10ms}]}\n"
        "  - {name: b, steps: [{cpu: 10ms}]}\n",
        collect="map",
    ).replace("collect: map}", "collect: map, chunksize: 2}")
    r = run(text)
    assert [e.task for e in r.of(ResultPicklingFailed)] == ["a"]
    failed = [e.task for e in r.of(FutureChanged) if e.state is FutureState.FAILED]
    assert failed == ["a", "b"]


def test_the_program_returns_the_value_and_fails_as_the_simulator_says() -> None:
    source = program(scenario(RESULTS)).source
    assert "    return threading.Lock()\n" in source
    assert "    return lambda: None\n" in source
    assert "    return (n for n in range(3))\n" in source
    wait = "        done, not_done = wait(futures)\n"
    show = (
        "        for f in futures:\n"
        "            print(type(f.exception()).__name__, f.exception())\n"
    )
    ran = subprocess.run(
        [sys.executable, "-c", source.replace(wait, wait + show)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert ran.stdout.splitlines() == [
        "TypeError cannot pickle '_thread.lock' object",
        "AttributeError Can't pickle local object 'make_key.<locals>.<lambda>'",
        "TypeError cannot pickle 'generator' object",
        "NoneType None",
    ]


def test_an_unpicklable_result_needs_a_process_pool() -> None:
    from concsim.scenario.loader import load_scenario_text

    text = pool("  - {name: a, unpicklable_result: lock}\n")
    text = text.replace("max_workers: 2,", "max_workers: 2, executor: false,").replace(
        "collect: wait", "collect: join"
    )
    with pytest.raises(ScenarioError) as caught:
        load_scenario_text(text, "s.yaml")
    assert str(caught.value).splitlines() == [
        "s.yaml:6:15: tasks[0].unpicklable_result: `unpicklable_result` is a value a process "
        "pool cannot pickle; expected model processes with executor: true (a thread pool or "
        "a forked Process sends no pickle)"
    ]


BREAKS = """version: 2
name: pool
machine: {cores: 4, process_start: 10ms, pickle_overhead: 0}
program: {model: processes, max_workers: 3, collect: as_completed}
tasks:
  - name: charge
    steps:
      - {cpu: 50ms}
      - {raise: QuotaError, message: over quota, unpicklable: true}
  - {name: square, repeat: 2, steps: [{cpu: 100ms}]}
  - {name: late, steps: [{cpu: 10ms}]}
"""


def test_an_exception_the_parent_cannot_unpickle_breaks_the_pool() -> None:
    """CPython 3.11: the worker pickles QuotaError('over quota') fine, but the manager
    thread's unpickling calls QuotaError('over quota') and raises TypeError "QuotaError.
    __init__() missing 1 required positional argument: 'code'"; wait_result_broken_or_
    wakeup marks the pool broken and terminate_broken fails every pending future, the
    sender's included, with BrokenProcessPool and terminates every worker. ``late`` was
    already in the call queue (max_workers + 1 calls): process-1 takes it as soon as it
    has sent charge's result, and it dies running it when the pool breaks. (CPython
    races the worker's get against the manager's unpickling: late started in 3 of 5
    runs, benchmarks/cpython_facts/process_manager.py.)"""
    r = run(BREAKS)
    (broken,) = r.of(ResultUnpicklingFailed)
    assert (broken.lane, broken.task, broken.error, broken.message) == (
        "process-1",
        "charge",
        "TypeError",
        "QuotaError.__init__() missing 1 required positional argument: 'code'",
    )
    assert broken.failed == ("charge", "square-1", "square-2", "late")
    assert broken.t == pytest.approx(0.06)  # 10 ms start, 50 ms of work, no pickling cost
    errors = {e.task: e.error for e in r.of(FutureChanged) if e.state is FutureState.FAILED}
    assert errors == dict.fromkeys(("charge", "square-1", "square-2", "late"), "BrokenProcessPool")
    assert (r.task("charge")["outcome"], r.task("charge")["error"]) == ("failed", "QuotaError")
    assert r.task("square-1")["outcome"] == "killed"
    assert r.task("late")["outcome"] == "killed"
    assert r.main == {"outcome": "raised", "error": "BrokenProcessPool"}
    assert r.of(PoolBroken) == []


def test_the_program_defines_the_class_with_a_second_required_argument() -> None:
    source = program(scenario(BREAKS)).source
    assert (
        "class QuotaError(Exception):\n"
        '    """The scenario\'s QuotaError: pickle keeps only the message, so a process\n'
        '    pool\'s parent cannot rebuild it (__init__ needs the code too)."""\n\n'
        "    def __init__(self, message, code):\n"
        "        super().__init__(message)\n"
        "        self.code = code\n"
    ) in source
    assert '    raise QuotaError("over quota", 1)\n' in source
    ran = subprocess.run([sys.executable, "-c", source], capture_output=True, text=True, timeout=60)
    assert ran.stderr.splitlines()[-1] == (
        "concurrent.futures.process.BrokenProcessPool: A process in the process pool was "
        "terminated abruptly while the future was running or pending."
    )
    assert "TypeError: QuotaError.__init__() missing 1 required positional argument: 'code'" in (
        ran.stderr
    )


def test_unpicklable_needs_a_class_of_the_programs_own() -> None:
    from concsim.scenario.loader import load_scenario_text

    with pytest.raises(ScenarioError) as caught:
        load_scenario_text(BREAKS.replace("QuotaError", "ValueError"), "s.yaml")
    assert str(caught.value).splitlines() == [
        "s.yaml:9:9: tasks[0].steps[1]: `unpicklable` needs an exception class of the "
        "program's own; `ValueError` is not one (it pickles as it is); expected a new name "
        "such as QuotaError"
    ]
