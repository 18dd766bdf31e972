"""The discrete CPython facts the simulator mirrors, measured on the interpreter running
the tests: each runs a script of benchmarks/cpython_facts/ and reads what it printed.
Timings are not asserted here (the scripts print them); only messages, counts and order."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

FACTS = Path(__file__).resolve().parent.parent / "benchmarks" / "cpython_facts"


def run_fact(script: str, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, str(FACTS / script), *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return done.stdout


def test_taskgroup_keeps_both_simultaneous_failures() -> None:
    """Two TaskGroup children failing at the same instant are both in the ExceptionGroup."""
    assert run_fact("taskgroup_simultaneous.py").splitlines() == [
        "unhandled errors in a TaskGroup (2 sub-exceptions)",
        "[\"ValueError('a')\", \"ValueError('b')\"]",
    ]


def test_a_task_created_before_main_returns_starts_then_is_cancelled() -> None:
    """asyncio.run() lets the new task run to its first await, then cancels it there."""
    assert run_fact("create_task_before_return.py").splitlines() == [
        "main returns",
        "worker started",
        "worker finally",
        "asyncio.run returned",
    ]


def test_shutdown_cancel_futures_right_after_submits_spares_the_started_workers() -> None:
    """ThreadPoolExecutor(2): of 5 sleeping tasks submitted then cancelled at once, the two
    that started their workers run; the three still queued are cancelled (the most common
    outcome over 50 trials; a loaded machine may rarely differ)."""
    lines = run_fact("pool_startup_cancel.py", "--io").splitlines()
    assert lines[0].startswith("io_task max_workers=2 submit 5: 2 ran/3 cancelled x")
    assert lines[1].startswith("io_task max_workers=4 submit 10: 4 ran/6 cancelled x")
    assert lines[2].startswith("io_task max_workers=1 submit 3: 1 ran/2 cancelled x")


def test_excepthook_prints_the_thread_name_its_function_and_the_error() -> None:
    """threading.excepthook: the header names Thread-N (target), the last line the error."""
    done = subprocess.run(
        [sys.executable, str(FACTS / "thread_excepthook.py")],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    lines = done.stderr.splitlines()
    assert lines[:2] == [
        "Exception in thread Thread-1 (fetch_page):",
        "Traceback (most recent call last):",
    ]
    assert lines[-1] == "ValueError: bad page"
    assert done.stdout == "main goes on\n"


def test_pickling_a_module_lambda_and_a_local_function_fail_differently() -> None:
    """A module-level lambda: PicklingError; a function or lambda inside main():
    AttributeError "Can't pickle local object"."""
    assert run_fact("pickling_errors.py").splitlines() == [
        "_pickle.PicklingError: Can't pickle <function <lambda> at 0x...>: "
        "attribute lookup <lambda> on __main__ failed",
        "builtins.AttributeError: Can't pickle local object 'main.<locals>.nested'",
        "builtins.AttributeError: Can't pickle local object 'main.<locals>.<lambda>'",
    ]


def test_sys_exit_in_main_waits_for_threads_and_prints_nothing() -> None:
    """sys.exit(3): status 3, no traceback, the non-daemon thread still finishes."""
    first = run_fact("system_exit.py").splitlines()[0]
    assert first == (
        "exit code 3; stdout 'main exits\\nworker finished\\nworker finally\\n'; stderr ''"
    )


def test_exit_status_and_stderr_by_ending() -> None:
    """_Py_HandleSystemExit and exit_sigint, as concsim.engine.exits reads them."""
    assert run_fact("system_exit_message.py").splitlines() == [
        "sys.exit(3) | exit 3 | traceback False | last ''",
        "sys.exit() | exit 0 | traceback False | last ''",
        "sys.exit(0) | exit 0 | traceback False | last ''",
        "sys.exit(-1) | exit 255 | traceback False | last ''",
        "sys.exit(256) | exit 0 | traceback False | last ''",
        "raise SystemExit(3) | exit 3 | traceback False | last ''",
        "raise SystemExit('3') | exit 1 | traceback False | last '3'",
        "raise SystemExit('bye') | exit 1 | traceback False | last 'bye'",
        "raise ValueError('bad') | exit 1 | traceback True | last 'ValueError: bad'",
        "raise KeyboardInterrupt | exit -2 | traceback True | last 'KeyboardInterrupt'",
    ]


def test_process_pool_manager_moves_calls_and_runs_callbacks() -> None:
    """ProcessPoolExecutor: the manager thread (Thread-1) runs the done-callbacks; with one
    worker at most max_workers + 1 = 2 calls wait in the call queue, RUNNING, beside the one
    the worker took: 50 ms on, 2 calls are RUNNING when the manager's last wake-up came
    before the worker took the first, 3 when after (a worker taking a call does not wake
    it; both happen, run to run). cancel() succeeds exactly for the PENDING ones. An
    unpicklable argument fails its own future in QueueFeederThread, after the next submit,
    and the pool goes on."""
    lines = run_fact("process_manager.py").splitlines()
    running = next(
        k for k in (2, 3) if lines[1] == f"states {['RUNNING'] * k + ['PENDING'] * (5 - k)}"
    )
    assert lines[2] == f"cancel {[False] * running + [True] * (5 - running)}"
    assert [lines[0], *lines[3:]] == [
        "callbacks ran in ['Thread-1']",
        "after submit: RUNNING",
        "submitted the next call",
        "failed in QueueFeederThread: TypeError(\"cannot pickle '_thread.lock' object\")",
        "next call: 0",
    ]


def test_manager_thread_numbering_and_cancel_at_shutdown_notifying_no_waiter() -> None:
    """The process pool's manager thread takes the next number of threading._counter, which
    unnamed threads share; shutdown(cancel_futures=True) leaves the cancelling to the
    manager (the callbacks run there), and Future.cancel() wakes result() but no wait() or
    as_completed() waiter: a wait returns at its timeout with the cancelled futures not
    done."""
    lines = run_fact("process_shutdown_cancel.py").splitlines()
    # 2 or 3 calls are in the call queue (RUNNING) by then, as in process_manager.py
    ran = next(k for k in (2, 3) if lines[4].startswith(f"wait: {k} done, {5 - k} not done"))
    assert lines == [
        "unnamed thread: Thread-1 (nothing)",
        "first pool's manager: Thread-2",
        "second pool's manager: Thread-3",
        "next unnamed thread: Thread-4 (nothing)",
        f"wait: {ran} done, {5 - ran} not done, returned at its timeout: True",
        f"states: {['FINISHED'] * ran + ['CANCELLED'] * (5 - ran)}",
        "done(): [True, True, True, True, True]",
        "cancelled callbacks ran in: ['CANCELLED in Thread-5']",
        f"as_completed: {5 - ran} (of 5) futures unfinished",
        "result(): CancelledError at once",
    ]
