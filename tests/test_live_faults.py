"""Faults on the real program: the same injection, simulated and live, ends the same way."""

from __future__ import annotations

import textwrap
import time
from collections.abc import Callable, Sequence

import pytest

from concsim.engine import Injection, Simulation
from concsim.events import (
    CancelDelivered,
    Event,
    ExceptionRaised,
    FaultRefused,
    ProcessKilled,
    QueueGot,
    QueuePut,
    TaskStarted,
    TimeoutExpired,
)
from concsim.export.outcome import outcome
from concsim.live.check import check_one
from concsim.live.compare import compare
from concsim.live.session import LiveSession
from concsim.scenario.library import find_scenario
from concsim.scenario.loader import load_scenario, load_scenario_text
from concsim.scenario.model import Scenario

LOOSE = 3.0

# Two workers each wait on I/O in a process pool: a kill at 0.15 s lands mid-task whatever
# the machine's load, as sleeping needs no CPU.
WAITING_PROCESSES = load_scenario_text(
    textwrap.dedent(
        """
        version: 1
        name: waiting-processes
        program: {model: processes, max_workers: 2, collect: as_completed}
        tasks:
          - name: fetch
            repeat: 4
            steps:
              - {io: 300ms, label: download}
            returns: "file {i}"
        """
    )
)


# Two multiprocessing.Process children wait on I/O, with a finally that also waits.
WAITING_PROCESS_OBJECTS = load_scenario_text(
    textwrap.dedent(
        """
        version: 1
        name: waiting-process-objects
        program: {model: processes, executor: false}
        tasks:
          - name: fetch
            repeat: 2
            steps:
              - {io: 300ms, label: download}
            cleanup:
              - {io: 10ms, label: close}
        """
    )
)
# A consumer waits at get() on an empty queue; a lock waiter waits behind a slow holder.
# The item comes at 1 s, so that a hang sent at 0.1 s reaches the waiting get first even
# on a machine so busy that the program's control thread waits most of a second for a core.
WAITING_GETTER = load_scenario_text(
    textwrap.dedent(
        """
        version: 1
        name: waiting-getter
        program: {model: threads, executor: false, collect: join}
        queues:
          jobs: {maxsize: 0}
        tasks:
          - name: producer
            steps:
              - {io: 1s, label: fetch}
              - {put: jobs, value: job 1}
            returns: queued
          - name: consumer
            steps:
              - {get: jobs, label: q.get()}
            returns: got it
        """
    )
)
LOCK_WAIT = textwrap.dedent(
    """
    version: 1
    name: waiting-for-a-lock
    program: {model: threads, executor: false, collect: join}
    tasks:
      - name: holder
        steps:
          - {acquire: lock}
          - {io: 300ms, label: slow work}
          - {release: lock}
        returns: released
      - name: waiter
        steps:
          - {io: 50ms, label: arrive}
          - {acquire: lock}
          - {release: lock}
        returns: got it
    """
)
WAITING_FOR_A_LOCK = load_scenario_text(LOCK_WAIT)
AWAITING_A_LOCK = load_scenario_text(  # the same two tasks as coroutines, an asyncio.Lock
    LOCK_WAIT.replace("name: waiting-for-a-lock", "name: awaiting-a-lock").replace(
        "{model: threads, executor: false, collect: join}", "{model: asyncio, collect: gather}"
    )
)
INLINE = {
    "alock": AWAITING_A_LOCK,
    "pool": WAITING_PROCESSES,
    "process": WAITING_PROCESS_OBJECTS,
    "getter": WAITING_GETTER,
    "lock": WAITING_FOR_A_LOCK,
}


def _bundled(name: str) -> Scenario:
    return load_scenario(find_scenario(name))


CASES = [
    pytest.param("failure-during-as-completed", None, "0.1s:fail:job-1", id="fail-in-io"),
    pytest.param("cpu-threads-gil", "sequential", "0.1s:fail:count-1:ValueError", id="fail-in-cpu"),
    pytest.param("io-threads", "two-workers", "0.1s:cancel:request-5", id="cancel-queued"),
    pytest.param("asyncio-gather", None, "0.05s:cancel:long", id="cancel-coroutine"),
    pytest.param("asyncio-gather", None, "0.05s:fail:medium:ValueError", id="fail-coroutine"),
    pytest.param("io-threads", None, "0.1s:hang:request-2", id="hang-io"),
    pytest.param("ctrl-c-shutdown", None, "0.5s:interrupt:main", id="interrupt"),
    pytest.param("pool", None, "0.15s:kill:process-1", id="kill-worker"),
    pytest.param("pool", None, "0.15s:fail:fetch-1", id="fail-in-pool-worker"),
    pytest.param("pool", None, "0.15s:hang:fetch-2", id="hang-in-pool-worker"),
    pytest.param("process", None, "0.15s:fail:fetch-1:ValueError", id="fail-in-process"),
    pytest.param("process", None, "0.15s:hang:fetch-2", id="hang-in-process"),
    pytest.param("getter", None, "0.1s:hang:consumer", id="hang-in-queue-get"),
    pytest.param("lock", None, "0.1s:hang:waiter", id="hang-in-lock-acquire"),
    pytest.param("alock", None, "0.1s:hang:waiter", id="hang-in-coroutine-lock-await"),
    pytest.param("to-thread-fix", None, "0.1s:hang:fetch-1", id="hang-in-await-to-thread"),
    pytest.param("result-timeout", None, "0.1s:timeout:main", id="timeout-result"),
    pytest.param("io-threads", None, "0.1s:timeout:main", id="timeout-as-completed"),
    pytest.param("lock", None, "0.1s:timeout:main", id="timeout-join"),
    pytest.param("wait-for-cleanup", None, "0.2s:timeout:query", id="timeout-wait-for"),
]


def _injection(text: str) -> Injection:
    at, fault, target, *error = text.split(":")
    return Injection(float(at.rstrip("s")), fault, target, *(error or ["RuntimeError"]))


@pytest.mark.parametrize(("name", "variant", "injected"), CASES)
def test_a_fault_lands_on_cpython_as_in_the_simulator(
    name: str, variant: str | None, injected: str
) -> None:
    """Outcomes, errors, cleanups, results and output agree after the same fault."""
    scenario = INLINE[name] if name in INLINE else _bundled(name)
    result = check_one(scenario, variant, loose=LOOSE, injections=[_injection(injected)])
    assert result.error is None
    assert [str(d) for d in result.disagreements if not d.timing] == []


# The same pool with downloads of 5 s: a kill sent once process-1 has started its task
# lands mid-task however long the machine takes to get there.
LONG_DOWNLOADS = load_scenario_text(
    textwrap.dedent(
        """
        version: 1
        name: long-downloads
        program: {model: processes, max_workers: 2, collect: as_completed}
        tasks:
          - name: fetch
            repeat: 4
            steps:
              - {io: 5s, label: download}
            returns: "file {i}"
        """
    )
)


def _until(session: LiveSession, test: Callable[[Event], bool], limit: float = 60.0) -> bool:
    """Wait until one of the session's events passes ``test``; False after ``limit`` s."""
    end = time.monotonic() + limit
    while time.monotonic() < end:
        with session.lock:
            if any(test(event) for event in session.events):
                return True
        time.sleep(0.01)
    return False


def test_kill_sends_sigkill_to_the_worker_and_breaks_the_pool() -> None:
    """process-1 dies mid-task: ProcessKilled, its task killed, the others BrokenProcessPool."""
    session = LiveSession(LONG_DOWNLOADS)
    session.start()
    try:
        started = _until(session, lambda e: isinstance(e, TaskStarted) and e.lane == "process-1")
        assert started, session.run.stderr
        session.inject("kill", "process-1")
        assert session.run.wait(60.0)
    finally:
        session.close()
    events = session.events
    killed = [e for e in events if isinstance(e, ProcessKilled)]
    # Which of the two workers takes fetch-1 first is the OS scheduler's choice.
    assert [e.lane for e in killed] == ["process-1"]
    assert killed[0].task in ("fetch-1", "fetch-2")
    result = outcome(events)
    assert result["main"] == {"outcome": "raised", "error": "BrokenProcessPool"}
    tasks = {task["name"]: task for task in result["tasks"]}
    assert tasks[killed[0].task]["outcome"] == "killed"
    assert {tasks[f"fetch-{i}"]["error"] for i in (1, 2, 3, 4)} == {"BrokenProcessPool"}


def test_timeout_ends_mains_wait_for_a_result_now() -> None:
    """Future.result() raises TimeoutError at the fault, as the simulator's: TimeoutExpired
    on quick.result(), main raises, and the with block still waits for slow."""
    events = LiveSession(
        _bundled("result-timeout"), injections=[_injection("0.1s:timeout:main")]
    ).run_to_end(limit=20)
    expired = [e for e in events if isinstance(e, TimeoutExpired)]
    assert [(e.waiter, e.on) for e in expired] == [("main", "quick.result()")]
    assert 0.1 <= expired[0].t < 0.2  # at the fault, before quick (0.2 s) could finish
    assert not [e for e in events if isinstance(e, FaultRefused)]
    result = outcome(events)
    assert result["main"] == {"outcome": "raised", "error": "TimeoutError"}
    assert [(t["name"], t["outcome"]) for t in result["tasks"]] == [
        ("quick", "ok"),
        ("slow", "ok"),
    ]


def test_a_timeout_from_the_file_lands_like_an_injected_one() -> None:
    """faults: [{fault: timeout, at: 100ms}] in the file: main's as_completed() raises
    TimeoutError at 0.1 s, as in the simulator; the with block still waits for the
    downloads."""
    scenario = load_scenario_text(
        textwrap.dedent(
            """
            version: 1
            name: file-timeout
            program: {model: threads, max_workers: 2, collect: as_completed}
            tasks:
              - name: fetch
                repeat: 2
                steps:
                  - {io: 300ms, label: download}
            faults:
              - {fault: timeout, at: 100ms}
            """
        )
    )
    result = check_one(scenario, None, loose=LOOSE)
    assert result.error is None
    assert [str(d) for d in result.disagreements if not d.timing] == []
    events = LiveSession(scenario).run_to_end(limit=20)
    expired = [e for e in events if isinstance(e, TimeoutExpired)]
    assert [(e.waiter, e.on) for e in expired] == [("main", "as_completed()")]
    assert outcome(events)["main"] == {"outcome": "raised", "error": "TimeoutError"}


def test_timeout_expires_wait_for_on_the_task_named() -> None:
    """asyncio.wait_for's timer runs now: the task is cancelled, its finally runs, main
    gets TimeoutError at 0.3 s instead of 1.1 s."""
    events = LiveSession(
        _bundled("wait-for-cleanup"), injections=[_injection("0.2s:timeout:query")]
    ).run_to_end(limit=20)
    expired = [e for e in events if isinstance(e, TimeoutExpired)]
    assert [(e.waiter, e.on) for e in expired] == [("wait_for(query)", "query")]
    result = outcome(events)
    # wait_for raises TimeoutError from the task's CancelledError (its __cause__)
    assert result["main"] == {
        "outcome": "raised",
        "error": "TimeoutError",
        "cause": "CancelledError()",
    }
    (query,) = result["tasks"]
    assert (query["outcome"], query["error"], query["cleanup"]) == (
        "cancelled",
        "CancelledError",
        "ran",
    )
    assert query["ended"] < 0.3 * LOOSE


@pytest.mark.parametrize(
    ("name", "at", "awaited"),
    [
        ("asyncio-gather", "0.05s", "await gather(...)"),
        ("taskgroup-cancels-siblings", "0.1s", "TaskGroup.__aexit__"),
    ],
)
def test_timeout_of_an_await_without_a_timeout_as_in_the_simulator(
    name: str, at: str, awaited: str
) -> None:
    """main awaits with no timeout: both time it out as if its body ran inside
    asyncio.timeout(): its task is cancelled, the gather or TaskGroup cancels the children,
    and main raises TimeoutError. Same facts as the simulator's, and the same wait named."""
    scenario = _bundled(name)
    injections = [_injection(f"{at}:timeout:main")]
    simulated = Simulation(scenario, injections=injections).run()
    live = LiveSession(scenario, injections=injections).run_to_end(limit=20)
    assert not [e for e in live if isinstance(e, FaultRefused)]
    assert outcome(live)["main"] == {"outcome": "raised", "error": "TimeoutError"}
    assert {t["outcome"] for t in outcome(live)["tasks"]} == {"cancelled"}
    expired = [(e.waiter, e.on) for e in live if isinstance(e, TimeoutExpired)]
    assert expired == [(e.waiter, e.on) for e in simulated if isinstance(e, TimeoutExpired)]
    assert expired == [("main", awaited)]
    assert [d for d in compare(scenario, simulated, live, loose=LOOSE) if not d.timing] == []


def test_fail_in_a_worker_process_raises_where_the_task_waits() -> None:
    """The order reaches the worker by SIGUSR1: fetch-1 raises ValueError('injected') in its
    sleep, its finally runs, the process's exit code is 1; fetch-2 is untouched."""
    events = LiveSession(
        WAITING_PROCESS_OBJECTS, injections=[_injection("0.15s:fail:fetch-1:ValueError")]
    ).run_to_end(limit=20)
    raised = [(e.task, e.error, e.message) for e in events if isinstance(e, ExceptionRaised)]
    assert raised == [("fetch-1", "ValueError", "injected")]
    assert not [e for e in events if isinstance(e, FaultRefused)]
    tasks = {task["name"]: task for task in outcome(events)["tasks"]}
    assert (tasks["fetch-1"]["outcome"], tasks["fetch-1"]["cleanup"]) == ("failed", "ran")
    assert tasks["fetch-1"]["ended"] < 0.3
    assert (tasks["fetch-2"]["outcome"], tasks["fetch-2"]["error"]) == ("ok", None)


def test_cancel_delivered_in_coroutines_as_in_the_simulator() -> None:
    """Task.cancel() lands at each coroutine's await: the same CancelDelivered (task, lane,
    step) as the simulator's, in the same order, within the time margin."""
    scenario = _bundled("taskgroup-cancels-siblings")
    simulated = Simulation(scenario).run()
    live = LiveSession(scenario).run_to_end(limit=20)

    def delivered(events: Sequence[Event]) -> list[tuple[str, str, str | None]]:
        return [(e.task, e.lane, e.step) for e in events if isinstance(e, CancelDelivered)]

    assert delivered(simulated) == [
        ("fast", "fast", "await download()"),
        ("slow", "slow", "await download()"),
    ]
    # TaskGroup._abort cancels in the order of its task set (3.11: ``self._tasks = set()``),
    # so CPython's order is the set's.
    assert sorted(delivered(live)) == delivered(simulated)
    at = [e.t for e in live if isinstance(e, CancelDelivered)]
    assert all(0.3 <= t < 0.3 * LOOSE for t in at)


def test_a_hung_queue_get_never_takes_the_item() -> None:
    """hang at q.get(): the item put at 1 s stays in the queue (no QueueGot), the consumer
    is hung, and so is main, which joins it."""
    events = LiveSession(WAITING_GETTER, injections=[_injection("0.1s:hang:consumer")]).run_to_end(
        limit=3
    )
    assert [(e.lane, e.value) for e in events if isinstance(e, QueuePut)] == [("thread-1", "job 1")]
    assert [e for e in events if isinstance(e, QueueGot)] == []
    result = outcome(events)
    assert result["main"]["outcome"] == "hung"
    assert [(t["name"], t["outcome"]) for t in result["tasks"]] == [
        ("producer", "ok"),
        ("consumer", "hung"),
    ]


def test_killing_a_thread_is_refused() -> None:
    """Threads cannot be killed: the fault is refused with the simulator's reason."""
    events = LiveSession(
        _bundled("io-threads"), injections=[_injection("0.1s:kill:request-1")]
    ).run_to_end(limit=20)
    refused = [e.reason for e in events if isinstance(e, FaultRefused)]
    assert refused == ["threads and coroutines cannot be killed; only a process can"]
