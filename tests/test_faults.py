"""Faults, timeouts, cancellation and shutdown: each test mirrors one fact of CPython 3.11.

The numbers follow the behaviours of the issue "Faults, timeouts, cancellation and
shutdown"; the facts were measured on CPython 3.11.7 (Linux, fork) or read in the
documentation named in each docstring.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from faultkit import Run, check_entry_points, record, run, run_live, without_faults

from concsim.engine import Injection
from concsim.events import (
    CancelDelivered,
    CancelRequested,
    CleanupSkipped,
    CleanupStarted,
    ExceptionRaised,
    ExecutorShutdown,
    FaultInjected,
    FaultRefused,
    FutureChanged,
    FutureState,
    InterruptDelivered,
    LockAcquired,
    LoopBlocked,
    MainEnded,
    OutputWritten,
    PicklingFailed,
    PoolBroken,
    ProcessKilled,
    QueueGot,
    QueuePut,
    ResultReceived,
    RunEnded,
    TaskEnded,
    TaskStarted,
    TimeoutExpired,
    WarningIssued,
)

# --- 1. a worker's exception waits in its future -----------------------------------------

STORED = """
name: stored
program:
  model: threads
  max_workers: 2
  collect: as_completed
  main: [submit, {sleep: 200ms}, collect]
tasks:
  - {name: A, steps: [{io: 300ms}], returns: a}
  - {name: B, steps: [{io: 20ms}, {raise: ValueError, message: bad 1}]}
"""


def test_1_worker_exception_is_stored_until_result_reraises_it() -> None:
    """CPython: _WorkItem.run catches the worker's exception and calls
    future.set_exception(); nothing is printed; as_completed + result() re-raises it in the
    main thread with its type (fact 1, docs: concurrent.futures "Future.result")."""
    r = run(STORED)
    raised = r.one(ExceptionRaised, task="B")
    assert (raised.t, raised.lane, raised.error, raised.message) == (
        0.02,
        "thread-2",
        "ValueError",
        "bad 1",
    )
    assert r.one(FutureChanged, task="B", state=FutureState.FAILED).t == 0.02
    # A pool worker's exception prints nothing; only main's own uncaught re-raise does.
    assert [(e.t, e.lane) for e in r.of(OutputWritten)] == [(r.one(MainEnded).t, "main")]
    # Only main's result() call, at 0.2 s, brings it to light.
    received = r.one(ResultReceived, task="B")
    assert (received.t, received.error) == (0.2, "ValueError")
    assert r.main == {"outcome": "raised", "error": "ValueError"}
    assert r.task("B") == record("B", "failed", "ValueError", 0.0, 0.02, "none")
    # Leaving ``with`` waits for A; A's result was never asked for.
    assert r.task("A")["outcome"] == "ok"
    assert r.out["results"] == []
    assert r.out["warnings"] == []  # it was retrieved
    assert r.out["elapsed"] == 0.3


INJECTED_FAIL = """
name: injected-fail
program: {model: threads, max_workers: 2, collect: as_completed}
tasks:
  - {name: A, steps: [{io: 20ms}], returns: a}
  - {name: B, steps: [{io: 100ms}, {io: 100ms}], cleanup: [{io: 10ms}]}
faults:
  - {fault: fail, target: B, at: 150ms, error: ValueError}
"""


def test_1_injected_failure_lands_at_the_current_step_by_both_entry_points() -> None:
    """CPython: an exception raised in the worker at its current step unwinds through its
    finally and is stored in the future; result() in main re-raises it (fact 1)."""
    r = check_entry_points(INJECTED_FAIL, [(0.15, "fail", "B", "ValueError")])
    assert r.one(FaultInjected).t == 0.15
    raised = r.one(ExceptionRaised, task="B")
    assert (raised.t, raised.error, raised.step) == (0.15, "ValueError", "io 100ms")
    assert r.one(CleanupStarted, task="B").t == 0.15
    assert r.task("B") == record("B", "failed", "ValueError", 0.0, 0.16, "ran")
    assert r.one(ResultReceived, task="B").error == "ValueError"
    assert r.out["results"] == ["a"]
    assert r.main == {"outcome": "raised", "error": "ValueError"}


def test_1_fault_written_with_when_lands_as_the_step_starts() -> None:
    """A fault tied to a step (``when``) is raised as the task starts that step, the same
    as a fail injected at that instant."""
    r = run(INJECTED_FAIL.replace("at: 150ms", "when: {task: B, step: 1}"))
    raised = r.one(ExceptionRaised, task="B")
    assert (raised.t, raised.step) == (0.1, "io 100ms")
    assert r.task("B")["ended"] == 0.11
    assert r.main == {"outcome": "raised", "error": "ValueError"}


# --- 2. an exception in the ``with`` body: shutdown(wait=True) runs queued tasks -----------

BODY_RAISES = """
name: body-raises
program:
  model: threads
  max_workers: 2
  main: [submit, {sleep: 10ms}, {raise: RuntimeError, message: body}]
tasks:
  - {name: w, repeat: 6, steps: [{io: 100ms}]}
"""


def _assert_queued_tasks_ran_during_shutdown(r: Run, error: str = "RuntimeError") -> None:
    shutdown = r.one(ExecutorShutdown)
    assert (shutdown.t, shutdown.wait, shutdown.cancel_futures, shutdown.cancelled) == (
        0.01,
        True,
        False,
        (),
    )
    starts = {e.task: (e.t, e.during_shutdown) for e in r.of(TaskStarted)}
    assert starts == {
        "w-1": (0.0, False),
        "w-2": (0.0, False),
        "w-3": (0.1, True),
        "w-4": (0.1, True),
        "w-5": (0.2, True),
        "w-6": (0.2, True),
    }
    assert all(r.task(f"w-{i}")["outcome"] == "ok" for i in range(1, 7))
    assert r.of(CancelRequested) == []  # nothing is cancelled
    # The body's exception reaches the caller only after the last task: 3 batches x 0.1 s.
    ended = r.one(MainEnded)
    assert (ended.t, ended.outcome, ended.error) == (0.3, "raised", error)
    assert r.out["elapsed"] == 0.3


def test_2_body_exception_shutdown_waits_and_queued_tasks_still_start() -> None:
    """CPython: Executor.__exit__ calls shutdown(wait=True) with cancel_futures=False, so
    every queued task still starts and runs, FIFO, before the exception propagates
    (fact 2: 6 tasks, 2 workers, caught after 0.302 s)."""
    r = run(BODY_RAISES)
    assert r.one(ExceptionRaised, lane="main").t == 0.01
    _assert_queued_tasks_ran_during_shutdown(r)


@pytest.mark.parametrize(
    ("fault", "error"), [("fail", "RuntimeError"), ("interrupt", "KeyboardInterrupt")]
)
def test_2_exception_injected_into_main_has_the_same_shutdown_by_both_entry_points(
    fault: str, error: str
) -> None:
    """The same with an exception (or Ctrl-C's KeyboardInterrupt) injected into main while
    it waits in as_completed(): leaving ``with`` still runs every queued task (fact 2,
    fact 10: Ctrl-C lands in the main thread)."""
    text = (
        BODY_RAISES.replace(
            "main: [submit, {sleep: 10ms}, {raise: RuntimeError, message: body}]",
            "collect: as_completed",
        )
        + f"faults:\n  - {{fault: {fault}, target: main, at: 10ms}}\n"
    )
    r = check_entry_points(text, [(0.01, fault, "main")])
    where = r.one(ExceptionRaised if fault == "fail" else InterruptDelivered, lane="main")
    assert where.step == "as_completed()"
    _assert_queued_tasks_ran_during_shutdown(r, error)


# --- 3. shutdown(wait=False, cancel_futures=True) ------------------------------------------

SHUTDOWN = """
name: shutdown-nowait
program:
  model: threads
  max_workers: 2
  context_manager: false
  shutdown: {wait: false, cancel_futures: CANCEL}
  main: [submit, {sleep: 10ms}]
tasks:
  - {name: w, repeat: 6, steps: [{io: 100ms}], cleanup: [{io: 1ms}]}
"""


def test_3_cancel_futures_cancels_queued_running_ones_finish() -> None:
    """CPython: shutdown(wait=False, cancel_futures=True) returns at once; every future
    still in the work queue is cancelled, running ones finish; at exit the interpreter
    joins the workers (fact 3: RUNNING x2, CANCELLED x4, rc 0 after the running end)."""
    r = run(SHUTDOWN.replace("CANCEL", "true"))
    shutdown = r.one(ExecutorShutdown)
    assert (shutdown.t, shutdown.wait, shutdown.cancelled) == (
        0.01,
        False,
        ("w-3", "w-4", "w-5", "w-6"),
    )
    assert r.one(MainEnded).t == 0.01  # it did not wait
    assert r.main == {"outcome": "ok", "error": None}
    for i in (3, 4, 5, 6):
        assert r.task(f"w-{i}") == record(
            f"w-{i}", "cancelled", "CancelledError", None, None, "none"
        )
    assert [e.task for e in r.of(TaskStarted)] == ["w-1", "w-2"]
    for i in (1, 2):
        assert (r.task(f"w-{i}")["outcome"], r.task(f"w-{i}")["cleanup"]) == ("ok", "ran")
    assert r.out["elapsed"] == 0.101  # the interpreter waited for the running two


def test_3_wait_false_without_cancel_runs_every_queued_task_at_exit() -> None:
    """CPython: with shutdown(wait=False) and no cancel_futures, the atexit hook puts its
    sentinel behind the queued work, so every queued task still runs at exit (fact 3,
    f03_exit "nowait")."""
    r = run(SHUTDOWN.replace("CANCEL", "false"))
    assert r.one(ExecutorShutdown).cancelled == ()
    assert r.one(MainEnded).t == 0.01
    assert all(r.task(f"w-{i}")["outcome"] == "ok" for i in range(1, 7))
    assert [e.during_shutdown for e in r.of(TaskStarted)] == [False] * 2 + [True] * 4
    assert r.out["elapsed"] == 0.303


# --- 4. future.cancel() -------------------------------------------------------------------

CANCEL = """
name: cancel
program: {model: threads, max_workers: 1, collect: result}
tasks:
  - {name: A, steps: [{io: 100ms}], returns: a}
  - {name: B, steps: [{io: 100ms}], returns: b}
faults:
  - {fault: cancel, target: A, at: 10ms}
  - {fault: cancel, target: B, at: 10ms}
"""


def test_4_cancel_succeeds_only_before_the_future_starts() -> None:
    """CPython: Future.cancel() on a RUNNING future returns False and it finishes normally;
    on a PENDING one it returns True, the future is CANCELLED and result() raises
    concurrent.futures.CancelledError (fact 4; docs: Future.cancel)."""
    r = check_entry_points(CANCEL, [(0.01, "cancel", "A"), (0.01, "cancel", "B")])
    running = r.one(CancelRequested, task="A")
    queued = r.one(CancelRequested, task="B")
    assert (running.t, running.accepted) == (0.01, False)
    assert (queued.t, queued.accepted) == (0.01, True)
    assert r.one(FutureChanged, task="B", state=FutureState.CANCELLED).t == 0.01
    assert r.task("A") == record("A", "ok", None, 0.0, 0.1, "none")
    assert r.task("B") == record("B", "cancelled", "CancelledError", None, None, "none")
    assert r.of(TaskStarted, task="B") == []
    # for f in futures: f.result() -> 'a', then B's result() raises CancelledError.
    assert r.out["results"] == ["a"]
    assert r.one(ResultReceived, task="B").error == "CancelledError"
    assert r.main == {"outcome": "raised", "error": "CancelledError"}


def test_4_cancel_of_a_finished_future_returns_false() -> None:
    """CPython: cancel() on a FINISHED future returns False (fact 4)."""
    text = without_faults(CANCEL).replace(
        "collect: result", "collect: result, main: [submit, {sleep: 300ms}, collect]"
    )
    r = run_live(text, [(0.15, "cancel", "A")])
    request = r.one(CancelRequested, task="A")
    assert (request.t, request.accepted) == (0.15, False)
    assert r.out["results"] == ["a", "b"]
    assert r.main == {"outcome": "ok", "error": None}


def test_4_cancel_of_a_cancelled_future_returns_true_again() -> None:
    """CPython: calling cancel() again on a CANCELLED future returns True (fact 4:
    "b.cancel() again -> True"; Future.cancel returns True for CANCELLED states)."""
    r = run(
        without_faults(CANCEL), [Injection(0.01, "cancel", "B"), Injection(0.02, "cancel", "B")]
    )
    assert [e.accepted for e in r.of(CancelRequested, task="B")] == [True, True]


def test_4_as_completed_yields_a_cancelled_future_once_a_worker_dequeues_it() -> None:
    """CPython 3.11: as_completed() collects only FINISHED and CANCELLED_AND_NOTIFIED
    futures; cancel() leaves a queued future CANCELLED until a worker calls
    set_running_or_notify_cancel(). Checked on 3.11.7: 1 worker, A and B 0.1 s, B
    cancelled at 0.01 -> as_completed yields A at 0.105, then B; result() -> ['a'] then
    CancelledError."""
    text = without_faults(CANCEL).replace("collect: result", "collect: as_completed")
    r = run(text, [Injection(0.01, "cancel", "B")])
    assert r.out["results"] == ["a"]
    assert r.one(ResultReceived, task="B").t == 0.1
    assert r.main == {"outcome": "raised", "error": "CancelledError"}


# --- 5. result(timeout=...) and as_completed(timeout=...) ----------------------------------

TIMEOUT = """
name: result-timeout
program: {model: threads, max_workers: 2, collect: {pattern: PATTERN, timeout: 50ms}}
tasks:
  - {name: A, steps: [{io: 200ms}], cleanup: [{io: 10ms}], returns: a}
  - {name: B, steps: [{io: 20ms}], returns: b}
"""


def test_5_result_timeout_raises_in_the_waiter_and_the_worker_runs_on() -> None:
    """CPython 3.11: future.result(timeout) raises the builtin TimeoutError in the caller;
    the worker thread is not interrupted and runs to completion (fact 5)."""
    r = run(TIMEOUT.replace("PATTERN", "result"))
    assert r.main == {"outcome": "raised", "error": "TimeoutError"}
    assert r.one(ExecutorShutdown).t == 0.05  # main left the ``with`` at the deadline
    assert r.task("A") == record("A", "ok", None, 0.0, 0.21, "ran")
    assert r.of(CancelRequested) == [] and r.of(CancelDelivered) == []
    assert r.out["results"] == []
    assert r.out["elapsed"] == 0.21


def test_5_as_completed_timeout_yields_done_futures_first() -> None:
    """CPython: as_completed(timeout) yields the futures that finish in time, then raises
    TimeoutError('1 (of 2) futures unfinished') in the caller; the worker keeps running
    (fact 5)."""
    r = run(TIMEOUT.replace("PATTERN", "as_completed"))
    assert r.out["results"] == ["b"]
    assert r.main == {"outcome": "raised", "error": "TimeoutError"}
    assert (r.task("A")["outcome"], r.task("A")["ended"]) == ("ok", 0.21)


def test_5_an_expired_result_timeout_is_an_event() -> None:
    """The timeout of result(timeout) expiring is visible in the event stream."""
    r = run(TIMEOUT.replace("PATTERN", "result"))
    expired = r.one(TimeoutExpired, waiter="main")
    assert (expired.t, expired.late_by) == (0.05, 0.0)


def test_5_injected_timeout_by_both_entry_points() -> None:
    """An injected ``timeout`` makes main's result() wait expire now: TimeoutError in
    main, the worker runs on (fact 5)."""
    text = TIMEOUT.replace("{pattern: PATTERN, timeout: 50ms}", "result") + (
        "faults:\n  - {fault: timeout, target: main, at: 50ms}\n"
    )
    r = check_entry_points(text, [(0.05, "timeout", "main")])
    expired = r.one(TimeoutExpired, waiter="main")
    assert (expired.t, expired.on) == (0.05, "A.result()")
    assert r.main == {"outcome": "raised", "error": "TimeoutError"}
    assert (r.task("A")["outcome"], r.task("A")["ended"], r.task("A")["cleanup"]) == (
        "ok",
        0.21,
        "ran",
    )


# --- 6. wait(return_when=...) ---------------------------------------------------------------

WAIT = """
name: wait
program: {model: threads, max_workers: 3, collect: {pattern: wait, WHEN}}
tasks:
  - {name: ok05, steps: [{io: 50ms}], returns: 5}
  - {name: err10, steps: [{io: 100ms}, {raise: ValueError, message: e}]}
  - {name: ok20, steps: [{io: 200ms}], returns: 20}
"""


def test_6_wait_first_exception_returns_when_a_future_fails() -> None:
    """CPython: wait(FIRST_EXCEPTION) returns as soon as a future finishes with an
    exception; done holds every future done by then (fact 6: done ['err.10', 'ok.05'] at
    0.102, not_done ['ok.20'])."""
    r = run(WAIT.replace("WHEN", "return_when: FIRST_EXCEPTION"))
    received = [(e.t, e.task, e.error) for e in r.of(ResultReceived)]
    assert received == [(0.1, "ok05", None), (0.1, "err10", "ValueError")]
    assert r.out["results"] == [5]
    assert r.main == {"outcome": "raised", "error": "ValueError"}
    assert (r.task("ok20")["outcome"], r.task("ok20")["ended"]) == ("ok", 0.2)


def test_6_wait_first_completed_returns_at_the_first_completion() -> None:
    """CPython: wait(FIRST_COMPLETED) returns when the first future completes, with a
    result or an exception (fact 6)."""
    r = run(WAIT.replace("WHEN", "return_when: FIRST_COMPLETED"))
    assert [(e.t, e.task) for e in r.of(ResultReceived)] == [(0.05, "ok05")]
    assert r.out["results"] == [5]
    assert r.main == {"outcome": "ok", "error": None}
    assert r.task("err10")["outcome"] == "failed"


def test_6_wait_first_exception_without_errors_acts_as_all_completed() -> None:
    """CPython: if no future raises, FIRST_EXCEPTION behaves like ALL_COMPLETED (fact 6)."""
    text = WAIT.replace("WHEN", "return_when: FIRST_EXCEPTION").replace(
        "{io: 100ms}, {raise: ValueError, message: e}", "{io: 100ms}"
    )
    r = run(text)
    assert [e.t for e in r.of(ResultReceived)] == [0.2, 0.2, 0.2]
    assert r.main == {"outcome": "ok", "error": None}


def test_6_wait_with_a_timeout_never_raises() -> None:
    """CPython: wait(timeout) returns the partial (done, not_done) split and never raises
    TimeoutError (fact 6: ALL_COMPLETED timeout=.01 -> no exception)."""
    r = run(WAIT.replace("WHEN", "timeout: 70ms"))
    assert [(e.t, e.task) for e in r.of(ResultReceived)] == [(0.07, "ok05")]
    assert r.main == {"outcome": "ok", "error": None}


# --- 7. exceptions never retrieved --------------------------------------------------------


def test_7_unretrieved_exception_is_silent_but_the_outcome_warns() -> None:
    """CPython: a concurrent.futures.Future holding an exception is dropped silently
    (fact 18: "concurrent.futures never warns"); concsim adds a warning to the outcome so
    the lesson is visible."""
    r = run("""
        name: ignored
        program: {model: threads, max_workers: 2, collect: none}
        tasks:
          - {name: A, steps: [{io: 10ms}]}
          - {name: C, steps: [{io: 20ms}, {raise: KeyError, message: k}]}
        """)
    assert r.main == {"outcome": "ok", "error": None}
    assert r.task("C")["outcome"] == "failed"
    assert r.of(OutputWritten) == [] and r.of(ResultReceived) == []
    [warning] = r.out["warnings"]
    assert warning.startswith("exception in task C was never retrieved: KeyError")
    assert r.one(WarningIssued).t == r.out["elapsed"]


def test_7_unretrieved_asyncio_task_exception_warns() -> None:
    """CPython: asyncio logs "Task exception was never retrieved" when a failed task that
    nobody awaited is deallocated (fact 18); the outcome carries the warning."""
    r = run("""
        name: ignored-aio
        program: {model: asyncio, main: [submit, {sleep: 100ms}]}
        tasks:
          - {name: C, steps: [{io: 20ms}, {raise: ValueError, message: lost}]}
        """)
    assert r.main == {"outcome": "ok", "error": None}
    [warning] = r.out["warnings"]
    assert warning.startswith("exception in task C was never retrieved: ValueError")
    assert "Task exception was never retrieved" in warning


# --- 8. process pools ------------------------------------------------------------------------

PROCESSES = """
name: pool
machine: {cores: 2, process_start: 10ms, pickle_overhead: 0}
program: {model: processes, max_workers: 2, collect: COLLECT}
tasks:
"""


def test_8_unpicklable_callable_fails_that_future_and_the_pool_stays_usable() -> None:
    """CPython 3.11: submit() returns normally; the queue feeder thread fails to pickle a
    nested function and the future gets AttributeError("Can't pickle local object
    'main.<locals>.nested'"), raised at result(); the pool stays usable (fact 8)."""
    r = run(
        PROCESSES.replace("COLLECT", "result")
        + """
  - {name: B, steps: [{cpu: 10ms}], returns: 5}
  - {name: nested, picklable: false, steps: [{cpu: 10ms}]}
"""
    )
    failed = r.one(PicklingFailed, task="nested")
    assert (failed.error, failed.message) == (
        "AttributeError",
        "Can't pickle local object 'main.<locals>.nested'",
    )
    assert r.out["results"] == [5]
    assert r.one(ResultReceived, task="nested").error == "AttributeError"
    assert r.main == {"outcome": "raised", "error": "AttributeError"}
    assert r.task("B")["outcome"] == "ok"
    assert (r.task("nested")["outcome"], r.task("nested")["error"]) == (
        "never_started",
        "AttributeError",
    )
    assert r.of(PoolBroken) == []


BROKEN = (
    PROCESSES.replace("COLLECT", "as_completed")
    + """
  - {name: A, steps: [{cpu: 20ms}], returns: a}
  - {name: B, steps: [{cpu: 100ms}], cleanup: [{cpu: 1ms}]}
  - {name: C, steps: [{cpu: 100ms}]}
  - {name: D, steps: [{cpu: 100ms}]}
faults:
  - {fault: kill, target: process-2, at: 50ms}
"""
)


def test_8_a_dead_worker_breaks_the_pool_by_both_entry_points() -> None:
    """CPython: when a worker process dies (os._exit / SIGKILL), every running and pending
    future fails with BrokenProcessPool; the other workers are terminated; finished
    futures keep their results; the dying task's finally does not run (fact 8)."""
    r = check_entry_points(BROKEN, [(0.05, "kill", "process-2")])
    killed = r.one(ProcessKilled)
    assert (killed.t, killed.lane, killed.task) == (0.05, "process-2", "B")
    broken = r.one(PoolBroken)
    assert (broken.t, broken.lane, broken.failed) == (0.05, "process-2", ("B", "C", "D"))
    assert r.one(CleanupSkipped, task="B").t == 0.05
    assert r.of(CleanupStarted) == []
    assert r.task("A")["outcome"] == "ok" and r.out["results"] == ["a"]
    assert r.task("B") == record("B", "killed", "BrokenProcessPool", 0.01, 0.05, "skipped")
    assert (r.task("C")["outcome"], r.task("C")["error"]) == ("killed", "BrokenProcessPool")
    assert (r.task("D")["outcome"], r.task("D")["error"]) == ("never_started", "BrokenProcessPool")
    assert {e.task: e.error for e in r.of(FutureChanged, state=FutureState.FAILED)} == {
        "B": "BrokenProcessPool",
        "C": "BrokenProcessPool",
        "D": "BrokenProcessPool",
    }
    assert r.main == {"outcome": "raised", "error": "BrokenProcessPool"}
    assert r.out["elapsed"] == 0.05


SUBMIT_AFTER_BREAK = """
name: submit-after-break
machine: {cores: 2, process_start: 10ms, pickle_overhead: 0}
program:
  model: processes
  max_workers: 2
  main: [{submit: [A, B]}, {sleep: 100ms}, {submit: [C]}, collect]
tasks:
  - {name: A, steps: [{cpu: 200ms}]}
  - {name: B, steps: [{cpu: 200ms}]}
  - {name: C, steps: [{cpu: 10ms}]}
faults:
  - {fault: kill, target: A, at: 50ms}
"""


def test_8_a_broken_pool_accepts_no_further_submits() -> None:
    """CPython: after the pool broke, submit() raises BrokenProcessPool('A child process
    terminated abruptly, the process pool is not usable anymore') (fact 8)."""
    r = run(SUBMIT_AFTER_BREAK)
    assert r.one(PoolBroken).failed == ("A", "B")
    assert r.of(TaskStarted, task="C") == []
    assert r.task("C")["outcome"] == "never_started"
    ended = r.one(MainEnded)
    assert (ended.t, ended.outcome, ended.error) == (0.1, "raised", "BrokenProcessPool")


def test_8_the_refused_submit_is_an_event_with_cpythons_message() -> None:
    """The refused submit is visible, with CPython's message (fact 8)."""
    r = run(SUBMIT_AFTER_BREAK)
    raised = r.one(ExceptionRaised, lane="main")
    assert (raised.t, raised.error, raised.message) == (
        0.1,
        "BrokenProcessPool",
        "A child process terminated abruptly, the process pool is not usable anymore",
    )


# --- 9. Process.terminate()/kill() ---------------------------------------------------------

PLAIN_PROCESSES = """
name: plain-processes
machine: {cores: 2, process_start: 10ms}
program: {model: processes, executor: false, collect: join}
tasks:
  - {name: A, steps: [{cpu: 100ms}], cleanup: [{cpu: 5ms}]}
  - {name: B, steps: [{cpu: 100ms}], cleanup: [{cpu: 5ms}]}
faults:
  - {fault: kill, target: process-1, at: 50ms}
"""


def test_9_killed_process_skips_finally_a_normal_exit_runs_it() -> None:
    """CPython: p.terminate() (exitcode -15) and p.kill() (-9) end the child without
    running its finally; a child that returns normally runs it (fact 9)."""
    r = check_entry_points(PLAIN_PROCESSES, [(0.05, "kill", "process-1")])
    assert r.one(ProcessKilled).lane == "process-1"
    assert r.one(CleanupSkipped, task="A").t == 0.05
    assert r.of(CleanupStarted, task="A") == []
    assert r.task("A") == {**record("A", "killed", None, 0.01, 0.05, "skipped"), "exitcode": -9}
    assert r.one(CleanupStarted, task="B").t == 0.11
    assert r.task("B") == {**record("B", "ok", None, 0.01, 0.115, "ran"), "exitcode": 0}
    assert r.of(PoolBroken) == []  # a plain Process is no pool
    assert r.main == {"outcome": "ok", "error": None}


# --- 10. threads: no cancellation from outside, cooperative stop ---------------------------

COOPERATIVE = """
name: cooperative
program: {model: threads, max_workers: 2, collect: result}
tasks:
  - name: A
    steps: [{io: 50ms}, check_stop, {io: 50ms}, check_stop, {io: 50ms}]
    cleanup: [{io: 5ms}]
  - name: B
    steps: [{io: 150ms}]
    cleanup: [{io: 5ms}]
faults:
  - {fault: cancel, target: A, at: 70ms}
  - {fault: cancel, target: B, at: 70ms}
"""


def test_10_cooperative_stop_event_checked_between_steps_runs_cleanup() -> None:
    """CPython: a thread cannot be stopped from outside; a threading.Event that the task
    checks between steps ends it early at the next check, and its finally runs. A running
    pool future's cancel() returns False (docs: threading; fact 4)."""
    r = check_entry_points(COOPERATIVE, [(0.07, "cancel", "A"), (0.07, "cancel", "B")])
    stop = r.one(CancelRequested, task="A")
    assert (stop.t, stop.accepted) == (0.07, True)
    assert "stop event" in stop.reason
    # It notices at the next check_stop, at 0.1 s, and its finally runs.
    assert r.one(CleanupStarted, task="A").t == 0.1
    assert r.task("A") == record("A", "cancelled", None, 0.0, 0.105, "ran")
    assert r.one(CancelRequested, task="B").accepted is False
    assert (r.task("B")["outcome"], r.task("B")["ended"]) == ("ok", 0.155)
    assert r.main == {"outcome": "ok", "error": None}


def test_10_a_thread_cannot_be_cancelled_or_killed_from_outside() -> None:
    """CPython: threading.Thread has no cancel() and no kill(); without a stop event the
    thread runs to the end (docs: threading)."""
    text = """
        name: plain-thread
        program: {model: threads, executor: false, collect: join}
        tasks:
          - {name: T, steps: [{io: 100ms}], cleanup: [{io: 5ms}]}
        """
    r = run_live(text, [(0.02, "cancel", "T"), (0.03, "kill", "T"), (0.04, "kill", "thread-1")])
    refused = [(e.t, e.fault) for e in r.of(FaultRefused)]
    assert refused == [(0.02, "cancel"), (0.03, "kill"), (0.04, "kill")]
    assert r.of(CancelRequested) == []
    assert r.task("T") == record("T", "ok", None, 0.0, 0.105, "ran")


# --- 11. Ctrl-C and interpreter exit with threads ------------------------------------------

EXIT = """
name: exit
program:
  model: threads
  executor: false
  main: [submit, {sleep: 500ms}]
tasks:
  - {name: ND, steps: [{io: 200ms}], cleanup: [{io: 10ms}]}
  - {name: D, daemon: true, steps: [{io: 1s}], cleanup: [{io: 10ms}]}
faults:
  - {fault: interrupt, target: main, at: 50ms}
"""


def test_11_ctrl_c_lands_in_main_exit_joins_non_daemon_and_stops_daemon() -> None:
    """CPython: SIGINT raises KeyboardInterrupt in the main thread only (a real signal
    wakes time.sleep at once); at exit the interpreter joins non-daemon threads, whose
    finally runs, then daemon threads are stopped without running finally (fact 10)."""
    r = check_entry_points(EXIT, [(0.05, "interrupt", "main")])
    interrupt = r.one(InterruptDelivered)
    assert (interrupt.t, interrupt.lane, interrupt.step) == (0.05, "main", "sleep 500ms")
    ended = r.one(MainEnded)
    assert (ended.t, ended.outcome, ended.error) == (0.05, "raised", "KeyboardInterrupt")
    assert [e for e in r.of(ExceptionRaised) if e.task is not None] == []  # threads untouched
    assert r.task("ND") == record("ND", "ok", None, 0.0, 0.21, "ran")
    assert r.one(CleanupSkipped, task="D").t == 0.21
    assert r.task("D") == record("D", "killed", None, 0.0, 0.21, "skipped")
    assert r.out["elapsed"] == 0.21


def test_11_without_ctrl_c_exit_still_waits_for_non_daemon_threads() -> None:
    """CPython: when the main script ends, threading._shutdown joins non-daemon threads
    before the process exits; daemon threads die at that point (fact 10 "At exit")."""
    r = run(without_faults(EXIT).replace("{sleep: 500ms}", "{sleep: 10ms}"))
    assert r.one(MainEnded).t == 0.01
    assert (r.task("ND")["cleanup"], r.task("D")["cleanup"]) == ("ran", "skipped")
    assert r.one(RunEnded).elapsed == 0.21


def test_11_ctrl_c_during_join_still_waits_for_that_thread_at_exit() -> None:
    """KeyboardInterrupt interrupts t.join() in the main thread only; the thread runs on and
    the interpreter waits for it at exit, so its finally runs. This is CPython as fixed in
    gh-90882 (docs/semantics.md): 3.11 and 3.12 wrongly mark the thread stopped, so exit
    forgets it and its finally never runs (fact 10, f10c_join_bug.py)."""
    r = run("""
        name: join-interrupted
        program: {model: threads, executor: false, collect: join}
        tasks:
          - {name: L, steps: [{io: 300ms}], cleanup: [{io: 10ms}]}
        faults:
          - {fault: interrupt, target: main, at: 50ms}
        """)
    assert r.main == {"outcome": "raised", "error": "KeyboardInterrupt"}
    assert r.one(MainEnded).t == 0.05
    assert r.task("L")["cleanup"] == "ran"
    assert r.out["elapsed"] == 0.31


# --- 12. task.cancel() -------------------------------------------------------------------------

AIO_CANCEL = """
name: aio-cancel
program: {model: asyncio, collect: result}
tasks:
  - {name: B, steps: [{io: 100ms}], cleanup: [{io: 50ms}]}
faults:
  - {fault: cancel, target: B, at: 20ms}
"""


def test_12_task_cancel_raises_at_the_await_cleanup_awaits_caller_sees_cancelled() -> None:
    """CPython: task.cancel() throws CancelledError into the coroutine at the await it is
    suspended on; its finally runs and may await; the awaiting caller then gets
    CancelledError (fact 11; docs: asyncio "Task Cancellation")."""
    r = check_entry_points(AIO_CANCEL, [(0.02, "cancel", "B")])
    request = r.one(CancelRequested, task="B")
    assert (request.t, request.accepted) == (0.02, True)
    delivered = r.one(CancelDelivered, task="B")
    assert (delivered.t, delivered.step) == (0.02, "io 100ms")
    assert r.one(CleanupStarted, task="B").t == 0.02
    assert r.task("B") == record("B", "cancelled", "CancelledError", 0.0, 0.07, "ran")
    received = r.one(ResultReceived, task="B")
    assert (received.t, received.error) == (0.07, "CancelledError")
    assert r.main == {"outcome": "raised", "error": "CancelledError"}


@pytest.mark.parametrize("busy", ["blocking", "cpu"])
def test_12_a_busy_task_is_cancelled_only_at_its_next_await(busy: str) -> None:
    """CPython: a task running blocking or CPU code cannot be interrupted; cancel() only
    requests it and CancelledError arrives at the next await (fact 11: cancel requested at
    0.05, CancelledError at the await at 0.201)."""
    r = run_live(
        f"""
        name: busy
        program: {{model: asyncio, collect: result}}
        tasks:
          - {{name: C, steps: [{{{busy}: 100ms}}, {{io: 100ms}}], cleanup: [{{io: 10ms}}]}}
        """,
        [(0.02, "cancel", "C")],
    )
    assert r.one(CancelRequested, task="C").t == 0.02
    delivered = r.one(CancelDelivered, task="C")
    assert (delivered.t, delivered.step) == (0.1, "io 100ms")
    assert r.task("C") == record("C", "cancelled", "CancelledError", 0.0, 0.11, "ran")
    assert r.main == {"outcome": "raised", "error": "CancelledError"}


# --- 13. wait_for and asyncio.timeout ------------------------------------------------------


def _assert_timed_out_after_cleanup(r: Run, waiter: str) -> None:
    expired = r.one(TimeoutExpired)
    assert (expired.t, expired.waiter, expired.late_by) == (0.1, waiter, 0.0)
    assert r.one(CancelRequested, task="T").t == 0.1
    delivered = r.one(CancelDelivered, task="T")
    assert (delivered.t, delivered.step) == (0.1, "io 200ms")
    assert r.task("T") == record("T", "cancelled", "CancelledError", 0.0, 0.15, "ran")
    # The caller's TimeoutError comes after the inner cleanup finished.
    ended = r.one(MainEnded)
    assert (ended.t, ended.outcome, ended.error) == (0.15, "raised", "TimeoutError")


def test_13_wait_for_cancels_the_inner_task_waits_for_cleanup_then_timeout_error() -> None:
    """CPython: asyncio.wait_for(task, timeout) cancels the inner task at the deadline,
    waits for its finally (including awaits) and then raises the builtin TimeoutError
    (fact 12: inner cancelled 0.100, finally done 0.151, caller raises 0.151)."""
    r = run("""
        name: wait-for
        program: {model: asyncio, collect: result}
        tasks:
          - {name: T, timeout: 100ms, steps: [{io: 200ms}], cleanup: [{io: 50ms}]}
        """)
    _assert_timed_out_after_cleanup(r, "wait_for(T)")
    assert r.one(ResultReceived, task="T").error == "TimeoutError"


@pytest.mark.parametrize("pattern", ["result", "gather", "taskgroup"])
def test_13_a_collect_timeout_cancels_then_raises_timeout_error(pattern: str) -> None:
    """CPython: ``await wait_for(task | gather(...), t)`` and ``async with
    asyncio.timeout(t)`` around a TaskGroup cancel the inner work at the deadline, wait for
    its cleanup, and raise TimeoutError (fact 12; fact 13: wait_for(gather) timing out)."""
    r = run(f"""
        name: collect-timeout
        program: {{model: asyncio, collect: {{pattern: {pattern}, timeout: 100ms}}}}
        tasks:
          - {{name: T, steps: [{{io: 200ms}}], cleanup: [{{io: 50ms}}]}}
        """)
    _assert_timed_out_after_cleanup(r, "main")


def test_13_injected_timeout_by_both_entry_points() -> None:
    """An injected ``timeout`` on main's ``await`` behaves as wait_for expiring now
    (fact 12)."""
    r = check_entry_points(
        """
        name: aio-timeout
        program: {model: asyncio, collect: result}
        tasks:
          - {name: T, steps: [{io: 200ms}], cleanup: [{io: 50ms}]}
        faults:
          - {fault: timeout, target: main, at: 100ms}
        """,
        [(0.1, "timeout", "main")],
    )
    _assert_timed_out_after_cleanup(r, "main")


# --- 14. gather ----------------------------------------------------------------------------

GATHER = """
name: gather
program: {model: asyncio, collect: {pattern: gather, return_exceptions: RETURN}}
tasks:
  - {name: j1, steps: [{io: 100ms}], cleanup: [{io: 10ms}], returns: a}
  - {name: j2, steps: [{io: 50ms}, {raise: ValueError, message: v5}]}
  - {name: j3, steps: [{io: 150ms}], cleanup: [{io: 10ms}], returns: s}
"""


def test_14_gather_propagates_the_first_exception_and_cancels_no_sibling() -> None:
    """CPython: without return_exceptions the first exception propagates to the awaiter
    at once and gather does not cancel the other children; they are cancelled only by
    asyncio.run's teardown when main() ends (fact 13, fact 16)."""
    r = run(GATHER.replace("RETURN", "false"))
    received = r.one(ResultReceived, task="j2")
    assert (received.t, received.error) == (0.05, "ValueError")
    # Every cancellation comes from asyncio.run() ending, none from gather.
    reasons = {e.task: e.reason for e in r.of(CancelRequested)}
    assert set(reasons) == {"j1", "j3"}
    assert all("asyncio.run()" in reason for reason in reasons.values())
    assert all(e.t == 0.05 for e in r.of(CancelRequested))
    for name in ("j1", "j3"):
        assert r.task(name) == record(name, "cancelled", "CancelledError", 0.0, 0.06, "ran")
    ended = r.one(MainEnded)
    assert (ended.t, ended.outcome, ended.error) == (0.06, "raised", "ValueError")
    assert r.out["warnings"] == []


def test_14_the_other_children_keep_running_while_the_caller_handles_the_error() -> None:
    """CPython: after gather raised the first exception the other children are not
    cancelled and run to completion (fact 13: job2 done at 0.101, job3 at 0.150); a later
    child's exception is marked retrieved by gather, so no "never retrieved" warning
    (fact 13: job4's KeyError is silent)."""
    r = run(
        GATHER.replace("RETURN", "false").replace(
            "return_exceptions: false}", "return_exceptions: false}, on_error: [{sleep: 200ms}]"
        )
        + "  - {name: j4, steps: [{io: 70ms}, {raise: KeyError, message: k}]}\n"
    )
    assert r.one(ResultReceived, task="j2").t == 0.05
    assert r.of(CancelRequested) == [] and r.of(CancelDelivered) == []
    assert r.task("j1") == record("j1", "ok", None, 0.0, 0.11, "ran")
    assert (r.task("j3")["outcome"], r.task("j3")["ended"]) == ("ok", 0.16)
    assert (r.task("j4")["outcome"], r.task("j4")["error"]) == ("failed", "KeyError")
    assert r.out["warnings"] == []
    ended = r.one(MainEnded)
    assert (ended.t, ended.error) == (0.25, "ValueError")


def test_14_gather_return_exceptions_writes_a_cancelled_child_with_its_message() -> None:
    """CPython 3.11 gather's ``_done_callback`` puts ``CancelledError('' if
    fut._cancel_message is None else fut._cancel_message)`` in place of a cancelled child:
    always with its argument, ``CancelledError('')`` for a plain ``task.cancel()``."""
    r = run(
        GATHER.replace("RETURN", "true") + "faults:\n  - {fault: cancel, target: j3, at: 120ms}\n"
    )
    assert r.out["results"] == ["a", "ValueError('v5')", "CancelledError('')"]


def test_14_gather_return_exceptions_puts_them_in_place_in_input_order() -> None:
    """CPython: gather(..., return_exceptions=True) returns results in input order with
    the exception objects in place (fact 13: [ValueError('v5'), 6, 's'])."""
    r = run(GATHER.replace("RETURN", "true"))
    assert r.out["results"] == ["a", "ValueError('v5')", "s"]
    assert [e.t for e in r.of(ResultReceived)] == [0.16, 0.16, 0.16]
    assert r.of(CancelRequested) == []
    assert r.main == {"outcome": "ok", "error": None}
    assert r.out["warnings"] == []  # gather retrieved it


# --- 15. TaskGroup -----------------------------------------------------------------------------

TASKGROUP = """
name: taskgroup
program: {model: asyncio, collect: taskgroup}
tasks:
  - {name: c1, steps: [{io: 200ms}], cleanup: [{io: 10ms}]}
  - {name: c2, steps: [{io: 50ms}, {raise: ValueError, message: boom}], cleanup: [{io: 5ms}]}
  - {name: c3, steps: [{io: 300ms}], cleanup: [{io: 20ms}]}
"""


def _assert_taskgroup_aborted(r: Run, fail_at: float) -> None:
    # The failing child's own finally runs first, then the group cancels the others.
    assert r.one(CleanupStarted, task="c2").t == fail_at
    requests = r.of(CancelRequested)
    # and then main, whose TaskGroup body has ended (3.11: a cancel never taken back)
    assert [(e.task, e.t) for e in requests] == [
        ("c1", fail_at + 0.005),
        ("c3", fail_at + 0.005),
        ("main", fail_at + 0.005),
    ]
    assert all("TaskGroup" in e.reason and "c2" in e.reason for e in requests)
    assert [(e.task, e.step) for e in r.of(CancelDelivered)] == [
        ("c1", "io 200ms"),
        ("c3", "io 300ms"),
    ]
    assert (r.task("c2")["outcome"], r.task("c2")["error"], r.task("c2")["cleanup"]) == (
        "failed",
        "ValueError",
        "ran",
    )
    for name in ("c1", "c3"):
        assert (r.task(name)["outcome"], r.task(name)["cleanup"]) == ("cancelled", "ran")
    # The group raises only after every child's cleanup finished.
    ended = r.one(MainEnded)
    assert (ended.outcome, ended.error) == ("raised", "ExceptionGroup")
    assert ended.t == max(r.task(name)["ended"] for name in ("c1", "c2", "c3"))
    assert r.out["warnings"] == []


def test_15_taskgroup_cancels_siblings_and_raises_an_exception_group() -> None:
    """CPython: when a TaskGroup child raises, its finally runs, the group cancels every
    other child (their finally blocks run) and then raises ExceptionGroup('unhandled
    errors in a TaskGroup', [ValueError('boom')]) (fact 14; docs: asyncio.TaskGroup)."""
    r = run(TASKGROUP)
    _assert_taskgroup_aborted(r, 0.05)
    assert r.one(MainEnded).t == 0.075


def test_15_injected_failure_in_a_taskgroup_child_by_both_entry_points() -> None:
    """The same, with the child's failure injected at its await (fact 14)."""
    text = TASKGROUP.replace("{io: 50ms}, {raise: ValueError, message: boom}", "{io: 100ms}")
    text += "faults:\n  - {fault: fail, target: c2, at: 50ms, error: ValueError}\n"
    r = check_entry_points(text, [(0.05, "fail", "c2", "ValueError")])
    assert r.one(ExceptionRaised, task="c2").step == "io 100ms"
    _assert_taskgroup_aborted(r, 0.05)


# --- 16. asyncio.shield -------------------------------------------------------------------

SHIELD = """
name: shield
program: {model: asyncio, collect: {pattern: result, timeout: 50ms, shield: SHIELD}}
tasks:
  - {name: inner, steps: [{io: 150ms}], cleanup: [{io: 5ms}], returns: inner result}
"""


def test_16_shield_a_timed_out_outer_await_does_not_cancel_the_inner_task() -> None:
    """CPython: when wait_for(shield(inner), t) times out, the outer side gets TimeoutError
    at once and the inner task is not cancelled (fact 15: "inner.cancelled() = False");
    here main() then returns, so only asyncio.run's teardown cancels it (fact 16)."""
    r = run(SHIELD.replace("SHIELD", "true"))
    assert r.one(TimeoutExpired, waiter="main").t == 0.05
    [request] = r.of(CancelRequested, task="inner")
    assert "asyncio.run()" in request.reason  # not wait_for
    assert r.main == {"outcome": "raised", "error": "TimeoutError"}


def test_16_the_shielded_inner_task_completes_normally() -> None:
    """CPython: after the shielded wait timed out, the inner task is not cancelled and
    completes normally (fact 15: "inner completed" at 0.151)."""
    r = run(
        SHIELD.replace("SHIELD", "true").replace(
            "shield: true}", "shield: true}, on_error: [{sleep: 200ms}]"
        )
    )
    assert r.of(CancelRequested) == []
    assert r.task("inner") == record("inner", "ok", None, 0.0, 0.155, "ran")
    ended = r.one(MainEnded)
    assert (ended.t, ended.error) == (0.25, "TimeoutError")


def test_16_without_shield_the_timeout_cancels_the_inner_task() -> None:
    """CPython: without shield, wait_for cancels the inner task it waits for (fact 12)."""
    r = run(SHIELD.replace("SHIELD", "false"))
    [request] = r.of(CancelRequested, task="inner")
    assert "wait_for" in request.reason and request.t == 0.05
    assert r.main == {"outcome": "raised", "error": "TimeoutError"}


# --- 17. asyncio.run teardown --------------------------------------------------------------

BACKGROUND = """
name: teardown
program: {model: asyncio, MAIN}
tasks:
  - {name: bgA, steps: [{io: 1s}], cleanup: [{io: 50ms}]}
  - {name: bgB, steps: [{io: 1s}], cleanup: [{io: 50ms}]}
"""


def _assert_background_cancelled(r: Run, at: float) -> None:
    for name in ("bgA", "bgB"):
        assert r.one(CancelDelivered, task=name).t == at
        assert r.task(name) == record(name, "cancelled", "CancelledError", 0.0, at + 0.05, "ran")
    # asyncio.run() returns (or raises) only after every cleanup finished.
    assert r.one(MainEnded).t == at + 0.05
    assert r.out["elapsed"] == at + 0.05


def test_17_asyncio_run_cancels_pending_tasks_when_main_returns() -> None:
    """CPython: when main() returns, asyncio.run() cancels every remaining task and runs
    the loop until their finally blocks (with awaits) complete (fact 16 "return")."""
    r = run(BACKGROUND.replace("MAIN", "main: [submit, {sleep: 20ms}]"))
    assert all("asyncio.run()" in e.reason for e in r.of(CancelRequested))
    _assert_background_cancelled(r, 0.02)
    assert r.main == {"outcome": "ok", "error": None}


def test_17_main_raises_the_same_teardown_then_the_exception() -> None:
    """CPython: if main() raises, asyncio.run() does the same cleanup, then re-raises
    (fact 16 "raise")."""
    r = run(
        BACKGROUND.replace(
            "MAIN", "main: [submit, {sleep: 20ms}, {raise: ValueError, message: main err}]"
        )
    )
    _assert_background_cancelled(r, 0.02)
    assert r.main == {"outcome": "raised", "error": "ValueError"}


def test_17_ctrl_c_cancels_main_then_the_rest_then_keyboard_interrupt() -> None:
    """CPython 3.11 Runner: the first SIGINT cancels the main task (CancelledError at its
    await), the other tasks are cancelled and their finally blocks complete, then run()
    raises KeyboardInterrupt (fact 16 "sigint")."""
    text = BACKGROUND.replace("MAIN", "collect: gather") + (
        "faults:\n  - {fault: interrupt, target: main, at: 20ms}\n"
    )
    r = check_entry_points(text, [(0.02, "interrupt", "main")])
    assert r.one(InterruptDelivered).t == 0.02
    main_cancel = r.one(CancelDelivered, task="main")
    assert (main_cancel.t, main_cancel.step) == (0.02, "await gather(...)")
    _assert_background_cancelled(r, 0.02)
    assert r.main == {"outcome": "raised", "error": "KeyboardInterrupt"}


def test_17_ctrl_c_while_main_blocks_is_delivered_at_its_next_await() -> None:
    """CPython 3.11 Runner: SIGINT while main() runs blocking code only requests the
    cancel; CancelledError arrives at main's next await, then KeyboardInterrupt; a task
    cancelled before its first step never runs its body (fact 16 "blocking", fact 11)."""
    r = run_live(
        """
        name: blocking-main
        program: {model: asyncio, main: [submit, {blocking: 200ms}, collect], collect: gather}
        tasks:
          - {name: bgA, steps: [{io: 1s}], cleanup: [{io: 50ms}]}
        """,
        [(0.05, "interrupt", "main")],
    )
    assert r.one(InterruptDelivered).t == 0.05
    main_cancel = r.one(CancelDelivered, task="main")
    assert (main_cancel.t, main_cancel.step) == (0.2, "await gather(...)")
    assert r.of(TaskStarted) == []
    assert r.task("bgA") == record("bgA", "cancelled", "CancelledError", None, None, "none")
    ended = r.one(MainEnded)
    assert (ended.t, ended.outcome, ended.error) == (0.2, "raised", "KeyboardInterrupt")


def test_17_a_second_ctrl_c_cuts_the_cleanup_short() -> None:
    """CPython 3.11 Runner: the second SIGINT raises KeyboardInterrupt straight out of the
    loop; Runner.close() then cancels every task still running, so an await inside a
    finally gets CancelledError (fact 16 "twice"; checked on 3.11.7 for a child task: bg
    finally start 0.021, cleanup interrupted by CancelledError 0.033, run raised
    KeyboardInterrupt 0.033)."""
    r = run_live(
        BACKGROUND.replace("MAIN", "collect: gather"),
        [(0.02, "interrupt", "main"), (0.03, "interrupt", "main")],
    )
    assert [e.t for e in r.of(CancelDelivered, task="bgA")] == [0.02, 0.03]
    assert (r.task("bgA")["outcome"], r.task("bgA")["ended"]) == ("cancelled", 0.03)
    ended = r.one(MainEnded)
    assert (ended.t, ended.error) == (0.03, "KeyboardInterrupt")


# --- 18. a blocking call inside a coroutine ----------------------------------------------


def test_18_blocking_call_stalls_every_coroutine_and_the_timeout_fires_late() -> None:
    """CPython: time.sleep(0.3) in a coroutine blocks the loop; nothing else runs and a
    0.1 s wait_for fires only when the loop resumes, at 0.311 s, about 0.21 s late; the
    expired timer still wins over the inner sleep that also finished (fact 17)."""
    r = run("""
        name: blocked-loop
        program: {model: asyncio, collect: gather}
        tasks:
          - {name: blocker, steps: [{io: 10ms}, {blocking: 300ms}]}
          - {name: waiter, timeout: 100ms, steps: [{io: 200ms}], cleanup: [{io: 1ms}]}
          - {name: ticker, steps: [{io: 20ms}], returns: tick}
        """)
    blocked = r.one(LoopBlocked)
    assert (blocked.t, blocked.task) == (0.01, "blocker")
    # ticker's 20 ms I/O finished at 0.02, but it could only resume when the loop did.
    assert r.task("ticker")["ended"] == 0.31
    expired = r.one(TimeoutExpired)
    assert (expired.t, expired.waiter, expired.late_by) == (0.31, "wait_for(waiter)", 0.21)
    delivered = r.one(CancelDelivered, task="waiter")
    assert (delivered.t, delivered.step) == (0.31, "io 200ms")
    assert (r.task("waiter")["outcome"], r.task("waiter")["cleanup"]) == ("cancelled", "ran")
    assert r.main == {"outcome": "raised", "error": "TimeoutError"}


def test_18_a_collect_timeout_also_fires_late() -> None:
    """CPython: ``async with asyncio.timeout(0.1)`` fired at 0.311 s behind a 0.3 s
    blocking call, like wait_for (fact 17)."""
    r = run("""
        name: blocked-timeout
        program: {model: asyncio, collect: {pattern: taskgroup, timeout: 100ms}}
        tasks:
          - {name: blocker, steps: [{io: 10ms}, {blocking: 300ms}, {io: 500ms}]}
          - {name: other, steps: [{io: 200ms}]}
        """)
    expired = r.one(TimeoutExpired, waiter="main")
    assert (expired.t, expired.late_by) == (0.31, 0.21)
    assert r.main == {"outcome": "raised", "error": "TimeoutError"}


# --- hang ---------------------------------------------------------------------------------


def test_hang_a_hung_worker_makes_exit_wait_forever() -> None:
    """CPython: result(timeout) gives up with TimeoutError, but leaving ``with`` calls
    shutdown(wait=True), which joins a worker whose I/O never returns: the program never
    exits (fact 5: timeouts do not stop the worker; fact 2)."""
    r = run_live(
        """
        name: hang
        program: {model: threads, max_workers: 2, collect: {pattern: result, timeout: 300ms}}
        tasks:
          - {name: H, steps: [{io: 100ms}], cleanup: [{io: 10ms}]}
        """,
        [(0.02, "hang", "H")],
    )
    assert r.one(FaultInjected).t == 0.02
    assert r.of(FaultRefused) == []
    assert r.one(ExecutorShutdown).t == 0.3  # main's result() timed out at 0.3 s
    assert r.main == {"outcome": "hung", "error": None}
    assert r.task("H")["outcome"] == "hung"


def test_hang_only_the_current_io_hangs_cancelling_it_runs_the_cleanup() -> None:
    """CPython: an await that never completes can still be cancelled; wait_for's timeout
    throws CancelledError into it and the finally block's own awaits complete normally
    (checked on 3.11.7: finally start 0.309, finally end 0.319, TimeoutError 0.319)."""
    r = run_live(
        """
        name: hang-aio
        program: {model: asyncio, collect: result}
        tasks:
          - {name: H, timeout: 300ms, steps: [{io: 100ms}], cleanup: [{io: 10ms}]}
        """,
        [(0.02, "hang", "H")],
    )
    assert r.one(CancelDelivered, task="H").t == 0.3
    assert r.task("H") == record("H", "cancelled", "CancelledError", 0.0, 0.31, "ran")
    assert r.main == {"outcome": "raised", "error": "TimeoutError"}


def test_hang_an_await_of_to_thread_never_returns_though_the_thread_ends() -> None:
    """CPython: a coroutine hung at ``await asyncio.to_thread(f)`` never resumes; the worker
    thread still finishes f (it is not the wait that is frozen, the coroutine is), so main's
    gather waits for ever (live: tests/test_live_faults.py, hang-in-await-to-thread)."""
    r = run_live(
        """
        name: hang-to-thread
        program: {model: asyncio, collect: gather}
        tasks:
          - {name: F, steps: [{to_thread: 200ms}]}
          - {name: G, steps: [{to_thread: 200ms}]}
        """,
        [(0.1, "hang", "F")],
    )
    assert r.of(FaultRefused) == []
    assert r.task("F")["outcome"] == "hung"
    assert r.task("G")["outcome"] == "ok"
    assert r.main == {"outcome": "hung", "error": None}


def test_hang_a_lock_wait_never_returns_and_never_takes_the_lock() -> None:
    """A hung acquire never returns: the thread leaves the lock's waiters, so the lock
    goes to the next waiter (W2 at 0.3 s) and the hung thread never holds it."""
    r = run(
        """
        name: hang-lock
        program: {model: threads, executor: false, collect: join}
        tasks:
          - {name: H, steps: [{acquire: lock}, {io: 300ms}, {release: lock}]}
          - {name: W1, steps: [{io: 50ms}, {acquire: lock}, {release: lock}]}
          - {name: W2, steps: [{io: 60ms}, {acquire: lock}, {release: lock}]}
        """,
        [Injection(0.1, "hang", "W1")],
    )
    assert [(e.t, e.lane) for e in r.of(LockAcquired)] == [(0.0, "thread-1"), (0.3, "thread-3")]
    assert r.task("W1")["outcome"] == "hung"
    assert r.task("W2")["outcome"] == "ok"
    assert r.main == {"outcome": "hung", "error": None}


def test_hang_a_queue_get_never_takes_the_item() -> None:
    """A hung get() never returns: the item put later stays in the queue."""
    r = run(
        """
        name: hang-get
        program: {model: threads, executor: false, collect: join}
        queues: {jobs: {maxsize: 0}}
        tasks:
          - {name: P, steps: [{io: 300ms}, {put: jobs, value: job}]}
          - {name: C, steps: [{get: jobs}]}
        """,
        [Injection(0.1, "hang", "C")],
    )
    assert [e.value for e in r.of(QueuePut)] == ["job"]
    assert r.of(QueueGot) == []
    assert r.task("C")["outcome"] == "hung"


# --- injections that do not apply ----------------------------------------------------------


def test_an_injection_that_does_not_apply_says_why() -> None:
    """Refused injections are events with a reason in CPython's terms, and change nothing
    else."""
    text = """
        name: refusals
        program: {model: asyncio, collect: gather}
        tasks:
          - {name: T, steps: [{io: 100ms}]}
        """
    r = run_live(text, [(0.01, "kill", "T"), (0.02, "fail", "nobody")])
    refused = r.of(FaultRefused)
    assert [(e.t, e.fault, e.target) for e in refused] == [
        (0.01, "kill", "T"),
        (0.02, "fail", "nobody"),
    ]
    assert all(e.reason for e in refused)
    assert r.task("T")["outcome"] == "ok"
    assert r.main == {"outcome": "ok", "error": None}


def test_task_ended_events_match_the_outcome() -> None:
    """Every task's outcome record is the fold of its one TaskEnded event."""
    r = run(BROKEN)
    for event in r.of(TaskEnded):
        record = r.task(event.task)
        assert (record["outcome"], record["error"], record["cleanup"]) == (
            event.outcome,
            event.error,
            event.cleanup,
        )


def test_a_timeout_when_main_is_not_parked_at_an_await_is_refused() -> None:
    """A wait that has already been satisfied cannot time out: when main() is ready to
    resume (its result is in) but the loop is busy, an injected timeout is refused."""
    r = run_live(
        """
        name: not-parked
        program: {model: asyncio, collect: as_completed}
        tasks:
          - {name: t0, steps: [{cpu: 1ms}]}
          - {name: t1, steps: [{cpu: 1ms}]}
        """,
        [(0.001, "timeout", "main")],
    )
    assert r.one(FaultRefused).fault == "timeout"
    assert r.out["results"] == ["t0 done", "t1 done"]
    assert r.main == {"outcome": "ok", "error": None}


def test_a_failure_injected_into_main_during_asyncio_run_teardown_is_refused() -> None:
    """Once main() has raised, asyncio.run() is cancelling the remaining tasks in its own
    code: main() is over, so a second failure injected into it does not apply."""
    r = run_live(
        """
        name: teardown-fail
        program: {model: asyncio, collect: gather}
        tasks:
          - {name: t0, steps: [{io: 100ms}], cleanup: [{io: 50ms}]}
        """,
        [(0.01, "fail", "main"), (0.02, "fail", "main")],
    )
    assert [e.t for e in r.of(FaultRefused)] == [0.02]
    assert (r.task("t0")["outcome"], r.task("t0")["ended"]) == ("cancelled", 0.06)
    assert r.main == {"outcome": "raised", "error": "RuntimeError"}


def test_a_second_failure_of_a_ready_main_is_refused_or_raised() -> None:
    """Two failures injected into main() at one instant while another coroutine holds the
    loop: the run ends, main() raises, the remaining task is cancelled by asyncio.run()
    with its finally run (fact 16), and the stream tells the truth about the second one:
    either it is refused, or it is the exception main() ends with."""
    r = run_live(
        """
        name: double-fail
        program: {model: asyncio, collect: gather}
        tasks:
          - {name: t0, steps: [{cpu: 10ms}]}
          - {name: t1, steps: [{io: 100ms}], cleanup: [{io: 5ms}]}
        """,
        [(0.005, "fail", "main"), (0.005, "fail", "main", "KeyError")],
    )
    assert r.sim.finished
    assert r.main["outcome"] == "raised"
    assert (r.task("t1")["outcome"], r.task("t1")["cleanup"]) == ("cancelled", "ran")
    refused = r.of(FaultRefused)
    raised = [e.error for e in r.of(ExceptionRaised, lane="main")]
    if refused:
        assert raised == ["RuntimeError"] and r.main["error"] == "RuntimeError"
    else:
        assert raised == ["RuntimeError", "KeyError"] and r.main["error"] == "KeyError"


DEADLOCK = """
name: deadlock
program: {model: threads, executor: false, collect: join}
tasks:
  - {name: ab, steps: [{acquire: a}, {io: 50ms}, {acquire: b}, {release: b}, {release: a}]}
  - {name: ba, steps: [{acquire: b}, {io: 50ms}, {acquire: a}, {release: a}, {release: b}]}
faults:
  - {fault: interrupt, target: main, at: 1s}
"""


def test_ctrl_c_on_a_deadlocked_program_written_in_the_file() -> None:
    """CPython: Ctrl-C raises KeyboardInterrupt in the main thread even while it waits in
    join(); the deadlocked non-daemon threads still keep the process from exiting
    (fact 10)."""
    r = run(DEADLOCK)
    assert r.one(InterruptDelivered).t == 1.0
    assert r.main == {"outcome": "raised", "error": "KeyboardInterrupt"}
    assert {r.task("ab")["outcome"], r.task("ba")["outcome"]} == {"hung"}


def test_ctrl_c_on_a_deadlocked_program_is_the_same_run_by_both_entry_points() -> None:
    """A deadlocked program is still running: a fault injected live after advance() is the
    same run as the fault written in the file."""
    check_entry_points(DEADLOCK, [(1.0, "interrupt", "main")])


# --- the command line ------------------------------------------------------------------------

CLI_SCENARIO = """
name: cli-demo
program: {model: threads, max_workers: 2, collect: result}
tasks:
  - {name: A, steps: [{io: 3s}], cleanup: [{io: 100ms}]}
  - {name: B, steps: [{io: 1s}, {io: 1s}], cleanup: [{io: 100ms}]}
"""
CLI_FAULTS = """faults:
  - {fault: fail, target: B, at: 1.2s}
  - {fault: interrupt, target: main, at: 2s}
"""


def _concsim(*args: str) -> str:
    from click.testing import CliRunner

    from concsim.cli import main

    result = CliRunner().invoke(main, list(args))
    assert result.exit_code == 0, result.output
    return result.stdout


@pytest.mark.parametrize("mode", ["--headless", "--json", "--events"])
def test_cli_injections_are_reproducible_and_equal_the_faults_written_in_the_file(
    tmp_path: Path, mode: str
) -> None:
    """``concsim run FILE --headless --inject 1.2s:fail:B --inject 2s:interrupt:main`` prints
    the same every time, and the same as the file with those faults in its list."""
    plain = tmp_path / "plain.yaml"
    plain.write_text(CLI_SCENARIO)
    written = tmp_path / "written.yaml"
    written.write_text(CLI_SCENARIO + CLI_FAULTS)
    injected = ["--inject", "1.2s:fail:B", "--inject", "2s:interrupt:main"]
    first = _concsim("run", str(plain), mode, *injected)
    assert first
    assert _concsim("run", str(plain), mode, *injected) == first
    assert _concsim("run", str(written), mode) == first


def test_cli_outcome_of_the_injected_run() -> None:
    """B fails at its I/O at 1.2 s (its finally runs, nobody reads it); Ctrl-C at 2 s lands
    in main, blocked in A.result(); leaving ``with`` waits for A (facts 1, 2, 10)."""
    r = run(CLI_SCENARIO + CLI_FAULTS)
    assert r.main == {"outcome": "raised", "error": "KeyboardInterrupt"}
    assert r.one(InterruptDelivered).step == "A.result()"
    assert r.task("B") == record("B", "failed", "RuntimeError", 0.0, 1.3, "ran")
    assert r.task("A") == record("A", "ok", None, 0.0, 3.1, "ran")
    [warning] = r.out["warnings"]
    assert warning.startswith("exception in task B was never retrieved")


def test_cli_interrupt_needs_no_target(tmp_path: Path) -> None:
    """The issue's example ``--inject 2s:interrupt`` is the same as ``2s:interrupt:main``."""
    plain = tmp_path / "plain.yaml"
    plain.write_text(CLI_SCENARIO)
    short = _concsim(
        "run", str(plain), "--json", "--inject", "1.2s:fail:B", "--inject", "2s:interrupt"
    )
    assert short == _concsim(
        "run", str(plain), "--json", "--inject", "1.2s:fail:B", "--inject", "2s:interrupt:main"
    )


def test_timeout_is_refused_while_main_is_in_thread_start() -> None:
    """Thread.start() waits for the new thread with no timeout (``self._started.wait()``,
    Lib/threading.py): a timeout fault there has nothing to expire."""
    from concsim.engine import Injection, Simulation
    from concsim.events import FaultRefused, TimeoutExpired
    from concsim.scenario.library import find_scenario
    from concsim.scenario.loader import load_scenario

    sc = load_scenario(find_scenario("race-lost-update"))
    events = Simulation(sc, injections=[Injection(0.005, "timeout", "adder-1")]).run()
    refused = [e for e in events if isinstance(e, FaultRefused)]
    assert [e.reason for e in refused] == [
        "main is in Thread.start(), which waits for the new thread with no timeout"
    ]
    assert not any(isinstance(e, TimeoutExpired) for e in events)


def test_an_await_label_is_not_wrapped_in_another_await() -> None:
    """to-thread-fix labels its step ``await asyncio.to_thread(...)``: the coroutine waits
    on exactly that, not on ``await to_thread(await asyncio.to_thread(...))``."""
    from concsim.engine import Simulation
    from concsim.events import LaneStateChanged
    from concsim.scenario.library import find_scenario
    from concsim.scenario.loader import load_scenario

    events = Simulation(load_scenario(find_scenario("to-thread-fix"))).run()
    steps = {e.step for e in events if isinstance(e, LaneStateChanged) and e.step}
    assert "await asyncio.to_thread(time.sleep, 0.5)" in steps
    assert not any(step.startswith("await to_thread(await") for step in steps)
