"""The bundled lessons, run headless: each outcome must teach what the scenario's notes say.

One test per scenario states the lesson and the CPython 3.11+ fact it mirrors and asserts it
from the outcome (the ``--json`` contract) and, where the lesson is about *how*, from the
event stream. A second group checks the "Try this" key presses the notes promise.
"""

from __future__ import annotations

import functools
import itertools
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from faultkit import Run

from concsim.engine import Injection, Simulation
from concsim.events import (
    BarrierBroken,
    BarrierPassed,
    CallbackInvoked,
    CancelRequested,
    CleanupSkipped,
    ConditionNotified,
    DeadlockDetected,
    EventSet,
    ExceptionCaught,
    ExceptionChained,
    ExecutorShutdown,
    GilChanged,
    LaneCreated,
    LaneKind,
    LaneState,
    LaneStateChanged,
    LockAcquired,
    LockGaveUp,
    LockReleased,
    LockTimedWait,
    LockWaited,
    LoopBlocked,
    MainEnded,
    PicklingFailed,
    PoolBroken,
    ProcessExited,
    ProcessKilled,
    QueueGot,
    QueuePut,
    ResultPicklingFailed,
    ResultReceived,
    ResultUnpicklingFailed,
    SharedRead,
    SharedWritten,
    TaskEnded,
    TaskStarted,
    TimeoutExpired,
)
from concsim.export.outcome import outcome
from concsim.scenario.library import TOPIC_ORDER, bundled_scenarios, find_scenario
from concsim.scenario.loader import load_scenario
from concsim.scenario.model import Scenario

LESSON_TOPICS = ("models", "shared-state", "asyncio", "failure", "observability")
NOTES_WIDTH = 38  # the notes panel is about 40 columns wide at 80x24
BUNDLED = bundled_scenarios()
LESSONS_DOC = Path(__file__).resolve().parents[1] / "docs" / "lessons.md"


def about(value: float) -> Any:
    """Virtual times are exact microseconds; allow only float rounding."""
    return pytest.approx(value, abs=1e-6)


@functools.cache
def scenario(name: str) -> Scenario:
    return load_scenario(find_scenario(name))


@functools.cache
def run(name: str, variant: str | None = None, *injections: Injection) -> Run:
    sim = Simulation(scenario(name), variant=variant, injections=injections)
    sim.run()
    return Run(sim, outcome(sim.events))


# --- the library as a whole ---------------------------------------------------------------


def test_the_library_holds_every_lesson() -> None:
    """Every lesson of the course is bundled: at least the 27 scenarios of docs/lessons.md."""
    assert len(BUNDLED) >= 27
    names = {path.stem for path in BUNDLED}
    documented = set(re.findall(r"`([a-z0-9-]+)`", LESSONS_DOC.read_text()))
    assert names <= documented


@pytest.mark.parametrize("path", BUNDLED, ids=lambda path: path.stem)
def test_each_scenario_is_a_well_formed_lesson(path: Path) -> None:
    """Named as its file, in a lesson topic, with notes in three parts that fit the panel."""
    lesson = load_scenario(path)
    assert lesson.name == path.stem
    assert lesson.topic in LESSON_TOPICS and lesson.topic in TOPIC_ORDER
    assert lesson.summary and "\n" not in lesson.summary
    parts = ["**What you are looking at**", "**What to notice**", "**Try this**"]
    positions = [lesson.notes.find(part) for part in parts]
    assert -1 not in positions and positions == sorted(positions)
    too_wide = [line for line in lesson.notes.splitlines() if len(line) > NOTES_WIDTH]
    assert too_wide == []
    for variant in lesson.variants:  # shown above the lesson's notes while it runs
        assert [line for line in variant.notes.splitlines() if len(line) > NOTES_WIDTH] == []
    # a raw parse agrees with the model: nothing in the file is silently dropped
    assert yaml.safe_load(path.read_text())["version"] == lesson.version


def test_learning_order_is_unambiguous() -> None:
    """Within a topic each lesson has its own place in the learning order."""
    seen: dict[tuple[str, int], str] = {}
    for path in BUNDLED:
        lesson = load_scenario(path)
        key = (lesson.topic, lesson.order)
        assert key not in seen, f"{lesson.name} and {seen[key]} share {key}"
        seen[key] = lesson.name


@pytest.mark.parametrize(
    ("name", "variant"),
    [
        (path.stem, variant)
        for path in BUNDLED
        for variant in (None, *load_scenario(path).variant_names)
    ],
)
def test_each_scenario_and_variant_runs_to_the_end(name: str, variant: str | None) -> None:
    """Headless, every run ends with the main program's outcome and an elapsed time."""
    result = run(name, variant)
    assert result.out["elapsed"] is not None
    assert result.out["main"]["outcome"] in {"ok", "raised", "hung", "exited"}
    assert all(task["outcome"] is not None for task in result.out["tasks"])


# --- models -------------------------------------------------------------------------------


def test_sequential_io() -> None:
    """Waits add up in one thread: five 0.5 s requests in a loop take 2.5 s (a blocking
    socket read holds the thread until the reply arrives)."""
    result = run("sequential-io")
    assert result.elapsed == about(2.5)
    assert result.out["results"] == [f"page {i}" for i in range(1, 6)]
    assert result.main_outcome == ("ok", None)


def test_io_threads() -> None:
    """Waiting overlaps in threads: a thread blocked on I/O releases the GIL, so five
    0.5 s requests on ThreadPoolExecutor(5) take 0.5 s; as_completed yields in completion
    order; with max_workers=2 they run two at a time (three rounds, 1.5 s)."""
    result = run("io-threads")
    assert result.elapsed == about(0.5)
    assert sorted(result.out["results"]) == [f"page {i}" for i in range(1, 6)]
    assert run("io-threads", "two-workers").elapsed == about(1.5)


def test_asyncio_gather() -> None:
    """asyncio.gather runs the coroutines concurrently on one loop and returns their
    results in the order of its arguments; the total is the longest wait."""
    result = run("asyncio-gather")
    assert result.out["results"] == ["short waited 0.1", "medium waited 0.2", "long waited 0.3"]
    assert result.elapsed == about(0.3)
    assert run("asyncio-gather", "sequential").elapsed == about(0.6)


def test_asyncio_gather_eager_tasks() -> None:
    """3.12's eager_task_factory (Task.__eager_start): create_task runs the task at once up
    to its first await, so each task's first line comes before main's next; by default
    create_task only schedules it and main prints first. long, which never awaits, ends
    inside create_task, before main's next line."""
    lazy = run("asyncio-gather", "create-task")
    assert lazy.out["output"] == [
        "main created short",
        "main created medium",
        "main created long",
        "short starts",
        "medium starts",
        "long starts",
    ]
    eager = run("asyncio-gather", "eager-tasks")
    assert eager.out["output"] == [
        "short starts",
        "main created short",
        "medium starts",
        "main created medium",
        "long starts",
        "main created long",
    ]
    ends = {task["name"]: (task["started"], task["ended"]) for task in eager.out["tasks"]}
    assert ends["long"] == (about(0.0004), about(0.0005))
    assert (eager.elapsed, lazy.elapsed) == (about(0.2003), about(0.2005))


def test_process_divisors() -> None:
    """Each worker process has its own GIL, so CPU-bound work runs on several cores;
    ProcessPoolExecutor.map yields results in input order, after paying process start-up."""
    result = run("process-divisors")
    machine = scenario("process-divisors").machine
    start = machine.process_start / 1e6
    assert result.out["results"] == [
        "2000000 has 56 divisors",
        "500000 has 42 divisors",
        "1500000 has 84 divisors",
        "1000000 has 49 divisors",
    ]
    # the smallest count finishes first, yet map hands back the first input first
    assert result.task("n-500000")["ended"] < result.task("n-2000000")["ended"]
    sequential = run("process-divisors", "sequential").elapsed
    assert sequential == about(2.0)
    # speed-up: the longest count plus start-up and a little pickling, not the sum
    assert 0.8 + start <= result.elapsed < 0.8 + start + 0.01
    assert result.elapsed < sequential / 2
    # threads share one GIL: no faster than sequential
    assert run("process-divisors", "threads").elapsed >= sequential - 1e-6


def test_cpu_threads_gil() -> None:
    """With the GIL only one thread runs Python bytecode at a time, and a waiting thread
    forces a hand-off every sys.getswitchinterval() (5 ms): CPU-bound threads are no faster
    than sequential. Processes (a GIL each) and a free-threaded build (PEP 703) are."""
    result = run("cpu-threads-gil")
    sequential = run("cpu-threads-gil", "sequential").elapsed
    assert sequential == about(2.0)
    assert result.elapsed >= sequential - 1e-6
    handoffs = [
        e for e in result.of(GilChanged) if e.holder is not None and "switch interval" in e.reason
    ]
    assert len(handoffs) >= 350  # about 2 s / 5 ms
    # Once the four threads have started (Thread.start() waits for the GIL each time).
    started = max(e.t for e in result.of(TaskStarted))
    running = [e for e in handoffs if e.t > started + 0.01]
    gaps = [round(b.t - a.t, 6) for a, b in itertools.pairwise(running)]
    assert set(gaps) == {0.005, 0.01}
    # Only a turn during which main took the GIL and blocked again (its waits) is longer.
    assert gaps.count(0.01) <= 4
    assert run("cpu-threads-gil", "processes").elapsed < 0.6
    assert run("cpu-threads-gil", "gil-off").elapsed == about(0.5)


def test_vectorized_native() -> None:
    """C code that releases the GIL (NumPy's loops) runs in parallel on threads, limited
    only by cores; only the Python parts around it take turns on the GIL."""
    result = run("vectorized-native")
    native = [e for e in result.of(LaneStateChanged) if e.state is LaneState.NATIVE]
    assert len({e.lane for e in native}) == 4
    assert max(e.t for e in native) < 0.1  # all four in native code together, early
    assert result.elapsed < 0.7
    assert run("vectorized-native", "sequential").elapsed == about(2.12)
    assert 1.0 < run("vectorized-native", "two-cores").elapsed < 1.2


def test_process_overhead() -> None:
    """Every task sent to a process pool is pickled there and back, and the workers must
    start first: a thousand tiny tasks lose to a loop; map(chunksize=...) batches them.
    (CPython 3.11 on a busy 2-core machine: the pool took 1.6 times the loop, chunked about
    the loop's time.)"""
    one_by_one = run("process-overhead").elapsed
    loop = run("process-overhead", "sequential").elapsed
    chunked = run("process-overhead", "chunked").elapsed
    assert loop == about(0.1)
    assert one_by_one > loop * 1.25
    assert chunked < loop
    assert run("process-overhead", "chunked").out["results"] == [str(i) for i in range(1, 1001)]


def test_choose_a_model() -> None:
    """One mixed workload under each model: threads and asyncio overlap the I/O but run the
    Python parsing one at a time (GIL / one loop); processes parse in parallel on four cores
    but pay start-up and run only four jobs at once; sequential adds everything up."""
    elapsed = {
        v: run("choose-a-model", v).elapsed
        for v in ("sequential", "threads", "processes", "asyncio")
    }
    assert elapsed["sequential"] == about(4.2)
    assert elapsed["threads"] == about(1.7)  # 0.5 s of overlapped I/O + 6 x 0.2 s of parsing
    assert elapsed["asyncio"] == about(1.7)
    assert elapsed["processes"] < elapsed["threads"]
    assert elapsed["processes"] > 2 * 0.7  # two rounds of four workers
    expected = [f"job-{i} parsed" for i in range(1, 7)]
    for variant in elapsed:
        assert run("choose-a-model", variant).out["results"] == expected


# --- shared state -------------------------------------------------------------------------


def test_race_lost_update() -> None:
    """A read-modify-write is not atomic: a GIL switch between the read and the write lets
    other threads update the counter, and the stale write then erases their updates."""
    result = run("race-lost-update")
    counter = result.out["shared"]["counter"]
    assert counter <= 300  # visibly short of 4 x 100 for the default seed
    assert any(write.lost for write in result.of(SharedWritten))
    assert result.main_outcome == ("ok", None)
    assert set(result.outcomes().values()) == {"ok"}


def test_be_the_scheduler() -> None:
    """Where several threads wait for the GIL, CPython (drop_gil) lets the OS wake any of
    them. As written each deposit reads after the last write (balance 3); at each of the
    four decision points, giving the GIL to another waiter is one choice, and three of
    those choices alone lose an update (bob or carol reads before a write lands)."""
    result = run("be-the-scheduler")
    assert result.out["shared"] == {"balance": 3}
    decisions = result.sim.world.decisions
    assert [(d.at, d.waiting) for d in decisions] == [
        (21_000, ("thread-1", "thread-2")),
        (21_000, ("thread-2", "thread-4")),
        (27_000, ("thread-2", "thread-3")),
        (27_000, ("thread-3", "thread-4")),
    ]
    balances = {}
    for decision in decisions:
        other = decision.waiting[1]
        sim = Simulation(scenario("be-the-scheduler"), choices={decision.number: other})
        balances[decision.number] = outcome(sim.run())["shared"]["balance"]
    assert balances == {0: 2, 1: 2, 2: 2, 3: 3}


def test_race_with_lock() -> None:
    """With a lock around the read-modify-write the count is exact: a thread switched out
    inside the critical section keeps the lock, and the others block on it."""
    result = run("race-with-lock")
    assert result.out["shared"]["counter"] == 400
    assert not any(write.lost for write in result.of(SharedWritten))
    assert result.of(LockWaited)  # threads did meet the lock
    # the critical sections never overlap: between acquire and release by one thread,
    # no other thread touches the counter
    holder: str | None = None
    for event in result.events:
        if isinstance(event, LockAcquired):
            assert holder is None
            holder = event.lane
        elif isinstance(event, LockReleased):
            holder = None
        elif isinstance(event, SharedRead | SharedWritten):
            assert event.lane == holder


def test_queue_isolation() -> None:
    """queue.Queue does its own locking: producers and consumers share only the queue,
    every item is taken exactly once, a bounded queue blocks the producer, and one None
    sentinel per consumer ends them all."""
    result = run("queue-isolation")
    got = [event.value for event in result.of(QueueGot)]
    assert sorted(value for value in got if value is not None) == [f"job {k}" for k in range(1, 9)]
    assert got.count(None) == 3
    assert len(result.of(QueuePut)) == 11
    assert not result.of(LockAcquired)  # no lock in user code
    producer = next(e.lane for e in result.of(TaskStarted) if e.task == "producer")
    assert any(
        e.lane == producer and e.state is LaneState.BLOCKED for e in result.of(LaneStateChanged)
    )
    assert set(result.outcomes().values()) == {"ok"}
    assert result.main_outcome == ("ok", None)


def test_deadlock_lock_order() -> None:
    """Two threads taking two locks in opposite order can each hold one and wait for the
    other forever; threading has no deadlock detection, so join() never returns."""
    result = run("deadlock-lock-order")
    (deadlock,) = result.of(DeadlockDetected)
    assert set(deadlock.cycle) == {"thread-1", "thread-2", "lock_a", "lock_b"}
    assert deadlock.cycle[0] == deadlock.cycle[-1]
    assert result.main_outcome == ("hung", None)
    assert set(result.outcomes().values()) == {"hung"}


def test_lock_timeout_back_off() -> None:
    """``lock.acquire(timeout=0.1)`` returns False when the lock stays taken, so the
    opposite-order transfers of deadlock-lock-order no longer wait forever: a-to-b gives up
    at 150 ms, releases lock_a (b-to-a takes it and finishes), backs off 30 ms and retries.
    The variant with plain acquire() deadlocks."""
    result = run("lock-timeout-back-off")
    assert not result.of(DeadlockDetected)
    (gave_up,) = result.of(LockGaveUp)
    assert (gave_up.t, gave_up.lane, gave_up.lock) == (about(0.15), "thread-1", "lock_b")
    assert [(e.lane, e.lock) for e in result.of(LockTimedWait)] == [
        ("thread-1", "lock_b"),
        ("thread-2", "lock_a"),
    ]
    assert result.out["output"] == [
        "a-to-b backs off",
        "b-to-a moved the money",
        "a-to-b moved the money",
    ]
    assert result.task("b-to-a")["ended"] == about(0.1512)
    assert result.task("a-to-b")["ended"] == about(0.1812)
    assert result.main_outcome == ("ok", None)
    stuck = run("lock-timeout-back-off", "without-timeout")
    (deadlock,) = stuck.of(DeadlockDetected)
    assert set(deadlock.cycle) == {"thread-1", "thread-2", "lock_a", "lock_b"}
    assert stuck.main_outcome == ("hung", None)


def test_semaphore_limit() -> None:
    """threading.Semaphore(2) around the download: at most two threads are inside at once,
    the other four wait in acquire() (their lanes say ``with slots (2 of 2 taken)``), and
    six 100 ms downloads take three rounds. asyncio.Semaphore(2) does the same in one
    thread; without the semaphore all six run at once."""
    for variant in (None, "asyncio"):
        result = run("semaphore-limit", variant)
        inside, most = 0, 0
        for event in result.events:
            if isinstance(event, LockAcquired | LockReleased):
                inside += 1 if isinstance(event, LockAcquired) else -1
                most = max(most, inside)
        assert most == 2
        assert len(result.of(LockWaited)) == 4
        assert [round(task["ended"], 1) for task in result.out["tasks"]] == [
            0.1,
            0.1,
            0.2,
            0.2,
            0.3,
            0.3,
        ]
        assert result.main_outcome == ("ok", None)
    blocked = {
        e.step
        for e in run("semaphore-limit").of(LaneStateChanged)
        if e.state is LaneState.BLOCKED and e.lane != "main"
    }
    assert blocked == {"with slots (2 of 2 taken)"}
    free = run("semaphore-limit", "no-limit")
    assert free.elapsed == about(0.106)
    assert not free.of(LockWaited)
    # asyncio.Semaphore.acquire: a place handed to a coroutine cancelled before it runs
    # is passed on (``except CancelledError: ... self._wake_up_next()``)
    cancelled = run("semaphore-limit", "asyncio-cancel")
    assert {t["name"]: round(t["ended"], 1) for t in cancelled.out["tasks"]} == {
        "fetch-1": 0.1,
        "fetch-2": 0.2,
        "fetch-3": 0.2,
        "fetch-4": 0.3,
    }
    assert cancelled.outcomes()["fetch-1"] == "cancelled"
    took = [
        (e.lane, type(e).__name__)
        for e in cancelled.events
        if isinstance(e, LockAcquired | LockReleased) and e.t == about(0.1)
    ]
    assert took == [
        ("main", "LockReleased"),
        ("fetch-1", "LockAcquired"),  # handed the place
        ("main", "LockReleased"),
        ("fetch-2", "LockAcquired"),
        ("fetch-1", "LockReleased"),  # cancelled before it ran: passed on
        ("fetch-3", "LockAcquired"),
    ]


def test_barrier_rounds() -> None:
    """threading.Barrier(3, action=merge): the last party to arrive (slow, thread-3) runs
    the action each round before any party is released; ``while not done.is_set():``
    sees main's ``done.set()`` at 300ms at the same check in all three. An exception in
    the action breaks the barrier: that party raises it, the others BrokenBarrierError."""
    result = run("barrier-rounds")
    passed = result.of(BarrierPassed)
    assert sorted({round(e.t, 3) for e in passed}) == [0.13, 0.26, 0.39]
    assert {e.lane for e in passed if e.index == 2} == {"thread-3"}
    assert result.out["shared"] == {"rounds": 3}
    assert {name: result.task(name)["ended"] for name in ("fast", "medium", "slow")} == {
        "fast": about(0.39),
        "medium": about(0.39),
        "slow": about(0.39),
    }
    assert result.main_outcome == ("ok", None)
    failed = run("barrier-rounds", None, Injection(0.1, "fail", "thread-3"))
    assert {
        name: (t["outcome"], t["error"])
        for name, t in {t["name"]: t for t in failed.out["tasks"]}.items()
    } == {
        "fast": ("failed", "BrokenBarrierError"),
        "medium": ("failed", "BrokenBarrierError"),
        "slow": ("failed", "RuntimeError"),
    }
    (broken,) = failed.of(BarrierBroken)
    assert (broken.t, broken.how) == (0.1, "its action raised RuntimeError")


def test_pickling_nested_function() -> None:
    """A process pool pickles the function by name; a nested function has none, so pickling
    fails with AttributeError: Can't pickle local object. The error is stored in the future
    and surfaces only when result() is called."""
    result = run("pickling-nested-function")
    (failed,) = result.of(PicklingFailed)
    assert failed.task == "helper" and failed.error == "AttributeError"
    assert "Can't pickle local object" in failed.message
    raised = [e for e in result.of(ResultReceived) if e.error]
    assert [(e.task, e.error) for e in raised] == [("helper", "AttributeError")]
    assert raised[0].t >= 0.3 > failed.t  # main hears of it only after its own work
    # The 4th call enters the call queue (3 places) when square-1's result wakes the
    # manager thread, which waits one switch interval for the GIL main's work holds.
    assert failed.t == about(0.1154)
    assert result.main_outcome == ("raised", "AttributeError")
    assert result.task("helper")["error"] == "AttributeError"
    assert all(result.task(f"square-{i}")["outcome"] == "ok" for i in (1, 2, 3))
    # A Process target: fork inherits the nested function; spawn pickles it in start()
    forked = run("pickling-nested-function", "process-fork")
    assert forked.main_outcome == ("ok", None)
    assert (forked.task("helper")["outcome"], forked.task("helper")["exitcode"]) == ("ok", 0)
    spawned = run("pickling-nested-function", "process-spawn")
    assert spawned.main_outcome == ("raised", "AttributeError")
    assert spawned.out["output"][-1] == (
        "AttributeError: Can't pickle local object 'main.<locals>.helper'"
    )
    assert spawned.task("helper")["outcome"] == "never_started"
    assert spawned.elapsed == about(0.0)  # start() failed before any child existed
    fixed = run("pickling-nested-function", "process-spawn-fixed")
    assert fixed.main_outcome == ("ok", None)
    assert fixed.task("helper")["started"] == about(0.13)  # spawn: a new interpreter
    # A pool under spawn starts a worker per submit (_adjust_process_count), not all eight
    pooled = run("pickling-nested-function", "pool-spawn")
    workers = {e.lane for e in pooled.of(LaneCreated) if e.lane_kind is LaneKind.PROCESS}
    assert workers == {"process-1", "process-2", "process-3", "process-4"}
    assert [pooled.task(f"square-{i}")["started"] for i in (1, 2, 3)] == [about(0.1302)] * 3
    assert pooled.task("helper")["error"] == "AttributeError"
    # A lock the squares share under spawn: main makes it, the initializer hands it over
    locked = run("pickling-nested-function", "pool-spawn-lock")
    assert locked.main_outcome == ("ok", None)
    assert [locked.task(f"square-{i}")["ended"] for i in (1, 2, 3)] == [
        about(0.2503),
        about(0.2704),
        about(0.2905),
    ]  # the writes take turns, 20 ms each


def test_unpicklable_values() -> None:
    """A lock passed as an argument: submit() returns, the queue feeder thread fails to
    pickle the call and the future holds TypeError: cannot pickle '_thread.lock' object;
    as_completed hands main that future first, but the error leaves main() only after the
    with block waited for the squares, which ran normally."""
    result = run("unpicklable-values")
    (failed,) = result.of(PicklingFailed)
    assert (failed.task, failed.error, failed.message) == (
        "save",
        "TypeError",
        "cannot pickle '_thread.lock' object",
    )
    (raised,) = [e for e in result.of(ResultReceived) if e.error]
    assert (raised.task, raised.t) == ("save", failed.t)
    assert result.task("save")["outcome"] == "never_started"
    assert all(result.task(f"square-{i}")["outcome"] == "ok" for i in (1, 2, 3))
    assert result.main_outcome == ("raised", "TypeError")
    assert result.elapsed == pytest.approx(0.21, abs=0.005)


def test_unpicklable_values_result() -> None:
    """connect() runs to its end, but _sendback_result cannot pickle the lock it returns:
    its future fails with TypeError, and process-1 lives on to take the next square."""
    result = run("unpicklable-values", "unpicklable-result")
    (failed,) = result.of(ResultPicklingFailed)
    assert (failed.lane, failed.task, failed.error) == ("process-1", "connect", "TypeError")
    assert failed.t == about(0.0602)
    assert result.task("connect")["outcome"] == "ok"
    assert result.one(TaskStarted, task="square-2").lane == "process-1"
    assert result.main_outcome == ("raised", "TypeError")
    assert not result.of(PicklingFailed)


def test_unpicklable_values_exception_breaks_pool() -> None:
    """charge raises QuotaError, whose __init__ needs a code that pickle does not keep: the
    parent cannot unpickle it, so the pool breaks; every future, charge's included, fails
    with BrokenProcessPool, and the squares' processes are terminated mid-run."""
    result = run("unpicklable-values", "exception-breaks-pool")
    (broken,) = result.of(ResultUnpicklingFailed)
    assert (broken.task, broken.error) == ("charge", "TypeError")
    assert broken.failed == ("charge", "square-1", "square-2")
    assert result.task("charge")["error"] == "QuotaError"
    assert [result.task(f"square-{i}")["outcome"] for i in (1, 2)] == ["killed", "killed"]
    assert result.main_outcome == ("raised", "BrokenProcessPool")


# --- asyncio ------------------------------------------------------------------------------


def test_blocking_the_loop() -> None:
    """A blocking call inside async def never yields to the event loop: the coroutines run
    one after another (total = sum) and a timer due at 0.1 s fires only when the loop is
    free again (CPython: the heartbeat's first tick comes at 1.5 s)."""
    result = run("blocking-the-loop")
    assert [result.task(f"fetch-{i}")["ended"] for i in (1, 2, 3)] == [
        about(0.5),
        about(1.0),
        about(1.5),
    ]
    assert len(result.of(LoopBlocked)) == 3
    beats = [
        e.t
        for e in result.of(LaneStateChanged)
        if e.lane == "heartbeat" and e.state is LaneState.IO
    ]
    assert beats[:2] == [about(0.0), about(1.5)]
    assert result.elapsed == about(1.9)


def test_to_thread_fix() -> None:
    """asyncio.to_thread runs the blocking call on the default thread pool and awaits it, so
    the loop stays free: the fetches overlap and the heartbeat ticks on time."""
    result = run("to-thread-fix")
    assert result.elapsed == about(0.5)
    assert not result.of(LoopBlocked)
    assert result.task("heartbeat")["ended"] == about(0.5)
    assert result.out["results"] == ["5 beats", "fetch-1 done", "fetch-2 done", "fetch-3 done"]


def test_asyncio_condition() -> None:
    """asyncio.Condition: notify() wakes the first waiter, which must take the lock back
    from the notifier; a waiter cancelled meanwhile raises only once it holds the lock
    again (``wait``'s ``finally`` re-acquires). notify_all() wakes every waiter; wait_for
    sends back to waiting those that find its predicate still false."""
    result = run("asyncio-condition")
    assert [(e.t, e.woke) for e in result.of(ConditionNotified)] == [
        (0.2, ("packer-1",)),
        (0.5, ("packer-2",)),
    ]
    assert {name: result.task(name)["ended"] for name in result.outcomes()} == {
        "packer-1": about(0.4),
        "packer-2": about(0.6),
        "packer-3": about(0.3),
        "shop": about(0.5),
    }
    assert result.outcomes()["packer-3"] == "cancelled"
    assert result.out["results"] == [
        "packer-1 packed",
        "packer-2 packed",
        "CancelledError('')",
        "two orders in",
    ]
    took = [e.lane for e in result.of(LockAcquired) if e.t == about(0.3)]
    assert took == ["packer-1", "packer-3"]  # the lock's queue; then packer-3 raises
    assert "wait_for ready (held by shop)" in {e.step for e in result.of(LaneStateChanged)}
    every = run("asyncio-condition", "notify-all")
    woken = [e.woke for e in every.of(ConditionNotified)]
    assert woken[0] == ("packer-1", "packer-2", "packer-3")
    back = [(e.t, e.lane, e.step) for e in every.of(LaneStateChanged) if e.lane == "packer-2"]
    assert (0.3, "packer-2", "wait_for ready (released ready)") in back  # waits again
    assert every.out["results"] == result.out["results"]


def test_asyncio_condition_cancel_after_notify() -> None:
    """notify(3) wakes packer-3 too; cancelled before it has the lock back, it raises at
    0.3 s. 3.11: the wake-up it took is lost and packer-4 waits beside an order until the
    notify() at 0.5 s. 3.13 (gh-112202): wait() calls _notify(1) as it raises, so packer-4
    wakes at 0.3 s and is done at 0.4 s."""
    lost = run("asyncio-condition", "cancel-after-notify")
    passed = run("asyncio-condition", "cancel-after-notify-3.13")
    assert [(e.t, e.lane, e.woke) for e in passed.of(ConditionNotified)][1] == (
        about(0.3),
        "packer-3",
        ("packer-4",),
    )
    assert [e.lane for e in lost.of(ConditionNotified)] == ["shop", "shop"]
    assert lost.task("packer-4")["ended"] == about(0.6)
    assert passed.task("packer-4")["ended"] == about(0.4)
    assert lost.outcomes()["packer-3"] == passed.outcomes()["packer-3"] == "cancelled"


def test_asyncio_barrier() -> None:
    """asyncio.Barrier: the third coroutine to arrive trips it and all three go on at once,
    wait() returning each one's arrival index. A wait that asyncio.wait_for cancels only
    leaves the barrier (it does not break, unlike threading's): waiting again, prices gets
    index 1 like stock, and the barrier still trips when reviews arrives."""
    result = run("asyncio-barrier")
    assert [(e.t, e.lane, e.index) for e in result.of(BarrierPassed)] == [
        (0.4, "reviews", 2),
        (0.4, "prices", 0),
        (0.4, "stock", 1),
    ]
    assert "wait ready (2 of 3 arrived)" in {e.step for e in result.of(LaneStateChanged)}
    assert {name: result.task(name)["ended"] for name in result.outcomes()} == {
        "prices": about(0.5),
        "stock": about(0.5),
        "reviews": about(0.5),
    }
    timed = run("asyncio-barrier", "timeout")
    assert [(e.t, e.waiter, e.on) for e in timed.of(TimeoutExpired)] == [
        (0.25, "prices", "barrier ready")
    ]
    assert not timed.of(BarrierBroken)
    assert [(e.lane, e.index) for e in timed.of(BarrierPassed)] == [
        ("reviews", 2),
        ("stock", 1),
        ("prices", 1),
    ]
    assert timed.out["output"] == ["prices waits again"]
    assert set(timed.outcomes().values()) == {"ok"}


# --- failure, timeouts, cancellation, shutdown ---------------------------------------------


def test_ignored_exception() -> None:
    """concurrent.futures stores a worker's exception in its future and prints nothing; if
    nobody calls result() or exception(), the program ends normally and the error is lost."""
    result = run("ignored-exception")
    assert result.main_outcome == ("ok", None)
    assert result.task("orders")["outcome"] == "failed"
    assert result.task("orders")["error"] == "ValueError"
    assert not result.of(ResultReceived)
    assert len(result.out["warnings"]) == 1
    assert "orders" in result.out["warnings"][0]
    assert "never retrieved" in result.out["warnings"][0]


def test_failure_during_as_completed() -> None:
    """as_completed + result() re-raises a worker's exception in the main thread; leaving
    the with block calls shutdown(wait=True), which waits for running tasks and still starts
    every queued one."""
    result = run("failure-during-as-completed")
    (raised,) = [e for e in result.of(ResultReceived) if e.error]
    assert (raised.task, raised.error, raised.t) == ("job-2", "ConnectionError", about(0.2))
    late = [e.task for e in result.of(TaskStarted) if e.during_shutdown]
    assert late == ["job-4", "job-5", "job-6"]
    assert {name: o for name, o in result.outcomes().items() if o != "ok"} == {"job-2": "failed"}
    assert result.main_outcome == ("raised", "ConnectionError")
    assert result.elapsed == about(1.5)


def test_shutdown_cancel_futures() -> None:
    """shutdown(cancel_futures=True) (3.9+) cancels the futures that have not started;
    running ones cannot be cancelled and finish."""
    result = run("shutdown-cancel-futures")
    (shutdown,) = result.of(ExecutorShutdown)
    assert shutdown.cancel_futures and shutdown.t == about(0.2)
    assert list(shutdown.cancelled) == ["job-4", "job-5", "job-6"]
    for name in ("job-4", "job-5", "job-6"):
        assert result.task(name)["outcome"] == "cancelled"
        assert result.task(name)["started"] is None
    assert result.task("job-1")["outcome"] == result.task("job-3")["outcome"] == "ok"
    assert result.main_outcome == ("raised", "ConnectionError")
    assert result.elapsed == about(0.7)
    assert result.elapsed < run("failure-during-as-completed").elapsed


def test_result_timeout() -> None:
    """future.result(timeout) raises TimeoutError in the waiter only; the worker thread runs
    on (threads cannot be killed) and the with block's shutdown(wait=True) waits for it."""
    result = run("result-timeout")
    assert result.out["results"] == ["quick answer"]
    assert result.main_outcome == ("raised", "TimeoutError")
    assert result.task("slow")["outcome"] == "ok"
    assert result.task("slow")["ended"] == about(2.0)
    # the wait for slow began at 0.2 s and gave up 0.5 s later, leaving the with block
    (shutdown,) = result.of(ExecutorShutdown)
    assert shutdown.t == about(0.7)
    assert result.elapsed == about(2.0)


def test_retry_gives_up() -> None:
    """``except ConnectionError`` catches ConnectionRefusedError (a subclass); each
    ``future.result()`` re-raises the one stored exception, so retrying the read never
    reruns the work; ``raise ... from e`` prints the cause first, and ``finally`` runs before
    the traceback."""
    result = run("retry-gives-up")
    assert result.main_outcome == ("raised", "RuntimeError")
    assert result.task("fetch")["outcome"] == "failed"
    assert result.task("fetch")["error"] == "ConnectionRefusedError"
    started = result.of(TaskStarted)
    assert len(started) == 1  # the work ran once: three reads, one run
    caught = result.of(ExceptionCaught)
    assert [(e.t, e.error, e.clause) for e in caught] == [
        (about(0.3), "ConnectionRefusedError", "except ConnectionError as e"),
        (about(0.50005), "ConnectionRefusedError", "except ConnectionError as e"),
        (about(0.7001), "ConnectionRefusedError", "except ConnectionError as e"),
    ]
    (chained,) = result.of(ExceptionChained)
    assert chained.cause == "ConnectionRefusedError('connection refused')"
    assert result.out["output"] == [
        "INFO main: attempt 1 failed: connection refused",
        "INFO main: attempt 2 failed: connection refused",
        "closing the connection pool",
        "Traceback (most recent call last):",
        "  ...",
        "ConnectionRefusedError: connection refused",
        "",
        "The above exception was the direct cause of the following exception:",
        "",
        "Traceback (most recent call last):",
        "  ...",
        "RuntimeError: gave up after 3 attempts",
    ]


def test_retry_gives_up_try_this() -> None:
    """Try this: a RuntimeError from fetch is no ConnectionError; the first result() lets it
    through, no retry and no chain, and the finally still runs."""
    result = run("retry-gives-up", None, Injection(0.1, "fail", "fetch"))
    assert result.main_outcome == ("raised", "RuntimeError")
    assert result.of(ExceptionCaught) == []
    assert result.out["output"] == [
        "closing the connection pool",
        "Traceback (most recent call last):",
        "  ...",
        "RuntimeError: injected",
    ]


def test_result_timeout_explains_itself() -> None:
    """The moment result(timeout=0.5) gives up is an event a viewer can see (0.7 s)."""
    expired = run("result-timeout").of(TimeoutExpired)
    assert [e.t for e in expired] == [about(0.7)]


def test_wait_for_cleanup() -> None:
    """asyncio.wait_for cancels the task on timeout, waits for its finally block (which may
    await) to finish, then raises TimeoutError in the caller."""
    result = run("wait-for-cleanup")
    (expired,) = result.of(TimeoutExpired)
    assert expired.t == about(1.0)
    query = result.task("query")
    assert (query["outcome"], query["cleanup"], query["ended"]) == ("cancelled", "ran", about(1.1))
    assert result.main_outcome == ("raised", "TimeoutError")
    assert result.elapsed == about(1.1)


def test_gather_keeps_running() -> None:
    """gather does not cancel its other awaitables when one fails: with
    return_exceptions=True they finish and the exception takes its place in the results;
    without it the caller gets the first exception at once, and the others are cancelled
    only by asyncio.run's teardown when main() returns."""
    result = run("gather-keeps-running")
    results = result.out["results"]
    assert results[0] == "fast done" and results[2] == "slow done"
    assert "ValueError" in results[1]
    assert result.outcomes() == {"fast": "ok", "fails": "failed", "slow": "ok"}
    assert result.main_outcome == ("ok", None)
    assert result.elapsed == about(2.05)

    first = run("gather-keeps-running", "first-error")
    assert first.main_outcome == ("raised", "ValueError")
    assert first.outcomes() == {"fast": "cancelled", "fails": "failed", "slow": "cancelled"}
    assert first.task("fast")["cleanup"] == first.task("slow")["cleanup"] == "ran"
    reasons = {e.reason for e in first.of(CancelRequested)}
    assert len(reasons) == 1 and "asyncio.run()" in reasons.pop()
    assert first.elapsed == about(0.35)


def test_taskgroup_cancels_siblings() -> None:
    """When a TaskGroup child raises, the group cancels its siblings, waits for their
    cleanup, and raises an ExceptionGroup of the failures (3.11+)."""
    result = run("taskgroup-cancels-siblings")
    assert result.outcomes() == {"fast": "cancelled", "fails": "failed", "slow": "cancelled"}
    assert result.task("fast")["cleanup"] == result.task("slow")["cleanup"] == "ran"
    assert all("TaskGroup" in e.reason for e in result.of(CancelRequested))
    assert result.main_outcome == ("raised", "ExceptionGroup")
    assert result.elapsed == about(0.35)


CTRL_C = Injection(0.5, "interrupt", "main")


@pytest.mark.parametrize(
    ("variant", "elapsed", "task_outcome", "cleanup"),
    [
        # asyncio.run turns SIGINT into cancelling main(): every task is cancelled at its
        # await, its finally runs, then KeyboardInterrupt is raised.
        ("asyncio", 0.55, "cancelled", "ran"),
        # KeyboardInterrupt lands in the main thread only; the with block's
        # shutdown(wait=True) waits for the pool threads, which finish all their work.
        ("thread-pool", 2.05, "ok", "ran"),
        # At interpreter exit daemon threads are stopped abruptly: no finally.
        ("daemon-threads", 0.5, "killed", "skipped"),
    ],
)
def test_ctrl_c_shutdown(variant: str, elapsed: float, task_outcome: str, cleanup: str) -> None:
    """Ctrl-C mid-run: asyncio cancels and cleans up, a thread pool waits, daemons vanish."""
    calm = run("ctrl-c-shutdown", variant)
    assert calm.main_outcome == ("ok", None) and set(calm.outcomes().values()) == {"ok"}

    result = run("ctrl-c-shutdown", variant, CTRL_C)
    assert result.main_outcome == ("raised", "KeyboardInterrupt")
    assert result.elapsed == about(elapsed)
    for task in result.out["tasks"]:
        assert (task["outcome"], task["cleanup"]) == (task_outcome, cleanup)
    assert bool(result.of(CleanupSkipped)) == (cleanup == "skipped")


@pytest.mark.parametrize(
    ("variant", "error"),
    [("late-group-failure", "CancelledError"), ("late-group-failure-3.13", "KeyboardInterrupt")],
)
def test_ctrl_c_after_a_late_group_failure(variant: str, error: str) -> None:
    """The health check fails after the TaskGroup body: on 3.11 the group's cancel() of
    main is never taken back (gh-116720), so after Ctrl-C ``Runner.run``'s ``uncancel()``
    returns 1 and main ends with CancelledError; 3.13 uncancels it: KeyboardInterrupt.
    The downloads are cancelled and clean up either way."""
    calm = run("ctrl-c-shutdown", variant)
    assert calm.main_outcome == ("ok", None)
    assert calm.out["output"] == ["health check failed, downloading anyway"]
    result = run("ctrl-c-shutdown", variant, CTRL_C)
    assert result.main_outcome == ("raised", error)
    assert result.elapsed == about(0.55)
    downloads = [t for t in result.out["tasks"] if t["name"].startswith("download")]
    assert {(t["outcome"], t["cleanup"]) for t in downloads} == {("cancelled", "ran")}


def test_broken_process_pool() -> None:
    """When a worker process dies abruptly the pool is broken: every running and pending
    future fails with BrokenProcessPool and no finally runs in the killed process."""
    result = run("broken-process-pool")
    (killed,) = result.of(ProcessKilled)
    (broken,) = result.of(PoolBroken)
    assert (killed.lane, killed.t, broken.t) == ("process-2", about(0.3), about(0.3))
    assert sorted(broken.failed) == sorted(f"chunk-{i}" for i in range(1, 9))
    assert all(task["error"] == "BrokenProcessPool" for task in result.out["tasks"])
    assert all(task["cleanup"] == "none" for task in result.out["tasks"])
    assert result.main_outcome == ("raised", "BrokenProcessPool")
    assert result.elapsed == about(0.3)


def test_cooperative_thread_cancel() -> None:
    """Python cannot kill a thread; a threading.Event checked between steps lets it return
    on its own, and its finally block runs."""
    result = run("cooperative-thread-cancel")
    for name in ("worker-1", "worker-2"):
        task = result.task(name)
        # stop set at 0.8 s: the batch running then ends at 0.9 s, the finally takes 20 ms
        assert (task["outcome"], task["cleanup"]) == ("cancelled", "ran")
        assert task["ended"] == about(0.92)
    steps = {e.step for e in result.of(LaneStateChanged) if e.step}
    assert "process batch 3" in steps and "process batch 4" not in steps
    assert result.main_outcome == ("ok", None)


def test_event_wait_stop() -> None:
    """threading.Event.wait(timeout) is a pause that set() ends: both workers, waiting on
    stop when main sets it at 1.0 s, return at once; time.sleep cannot be woken."""
    result = run("event-wait-stop")
    for name in ("worker-1", "worker-2"):
        task = result.task(name)
        assert (task["outcome"], task["cleanup"]) == ("cancelled", "ran")
        assert task["ended"] == about(1.02)  # woken at 1.0 s, then the finally's 20 ms
    woken = [e for e in result.of(EventSet) if e.event == "stop"]
    assert [(e.t, e.lane, e.woke) for e in woken] == [(1.0, "main", ("thread-1", "thread-2"))]
    assert "pause 0.5 s (stop: not set)" in {e.step for e in result.of(LaneStateChanged)}
    assert result.main_outcome == ("ok", None)
    slept = run("event-wait-stop", "sleep")
    assert [slept.task(name)["ended"] for name in ("worker-1", "worker-2")] == [
        about(1.22),
        about(1.22),
    ]


def test_barrier_breaks() -> None:
    """threading.Barrier: one wait that times out breaks the barrier for every party --
    the other waiter raises BrokenBarrierError at that instant, a later arrival at once."""
    result = run("barrier-breaks")
    ended = {name: result.task(name) for name in ("prices", "stock", "reviews")}
    assert {name: (t["outcome"], t["error"]) for name, t in ended.items()} == {
        name: ("failed", "BrokenBarrierError") for name in ended
    }
    assert [ended[name]["ended"] for name in ended] == [about(0.7), about(0.7), about(1.0)]
    broken = [(e.t, e.lane, e.how, e.woke) for e in result.of(BarrierBroken)]
    assert broken == [(0.7, "thread-1", "timed out", ("thread-2",))]
    assert "wait ready (2 of 3 arrived)" in {e.step for e in result.of(LaneStateChanged)}
    assert result.main_outcome == ("raised", "BrokenBarrierError")
    passed = run("barrier-breaks", "fast-reviews")
    indexes = {e.lane: e.index for e in passed.of(BarrierPassed)}
    assert indexes == {"thread-1": 0, "thread-2": 1, "thread-3": 2}  # the arrival order
    assert passed.main_outcome == ("ok", None)


def test_terminate_skips_finally() -> None:
    """Process.terminate() is SIGTERM: the child dies where it stands, no exception is
    raised in it, so its finally never runs and its exitcode is -15; a worker that checks
    a stop event returns at its next check, runs its finally and exits with 0."""
    result = run("terminate-skips-finally")
    writer, polite = result.task("writer"), result.task("polite")
    assert (writer["outcome"], writer["cleanup"], writer["exitcode"]) == ("killed", "skipped", -15)
    assert writer["ended"] == about(0.5)
    assert (polite["outcome"], polite["cleanup"], polite["exitcode"]) == ("cancelled", "ran", 0)
    assert polite["ended"] == about(0.6101)  # its check at 0.41 s came before stop.set()
    assert result.out["output"] == ["polite: partial file removed", "main: atexit handler ran"]
    signals = [(e.task, e.signal) for e in result.of(ProcessExited)]
    assert signals == [("writer", "SIGTERM"), ("polite", None)]
    assert result.main_outcome == ("ok", None)
    killed = run("terminate-skips-finally", "kill").task("writer")
    assert (killed["cleanup"], killed["exitcode"]) == ("skipped", -9)
    # writer.join(0.5) returns at 0.5 s with the writer alive; terminate() then ends it
    joined = run("terminate-skips-finally", "join-timeout")
    assert [(e.on, e.t) for e in joined.of(TimeoutExpired)] == [("writer.join(0.5)", about(0.5))]
    writer = joined.task("writer")
    assert (writer["outcome"], writer["cleanup"], writer["exitcode"]) == ("killed", "skipped", -15)
    assert writer["ended"] == about(0.5)
    # os._exit(0) in main: every thread dies with the process, nothing cleans up
    exited = run("terminate-skips-finally", "os-exit")
    assert exited.main_outcome == ("exited", None)
    assert exited.outcomes() == {"writer": "killed", "polite": "killed"}
    assert exited.out["output"] == [] and exited.out["exit_code"] == 0
    assert exited.elapsed == about(0.5)


# --- observability ------------------------------------------------------------------------


def test_interleaved_output() -> None:
    """print() writes the text and the newline separately, so a thread switch between them
    lets another thread's text land mid-line: lines run together and an empty one appears."""
    result = run("interleaved-output")
    lines = result.out["output"]
    texts = ("resized a photo", "made a thumbnail", "added a watermark")
    assert any(sum(line.count(text) for text in texts) > 1 for line in lines)
    assert "" in lines
    assert sum(line.count(text) for line in lines for text in texts) == 18  # nothing lost


def test_structured_logging() -> None:
    """logging writes each record whole under the handler's lock, tagged by its format;
    ex.map re-raises a failure only when iteration reaches that result, in input order."""
    result = run("structured-logging")
    lines, traceback = result.out["output"][:-3], result.out["output"][-3:]
    assert lines and all(
        re.fullmatch(r"INFO (users|orders|items): batch [1-4] of 4 synced", line) for line in lines
    )
    # The traceback reaches stderr only when the exception leaves main(), at the very end.
    assert traceback == ["Traceback (most recent call last):", "  ...", "KeyError: 'customer_id'"]
    assert sum("orders" in line for line in lines) == 2
    assert result.task("orders")["ended"] == pytest.approx(0.2, abs=0.001)
    (raised,) = [e for e in result.of(ResultReceived) if e.error]
    assert (raised.task, raised.error) == ("orders", "KeyError")
    assert raised.t == pytest.approx(0.4, abs=0.001)
    assert result.out["results"] == ["users synced"]
    assert result.main_outcome == ("raised", "KeyError")


def test_done_callbacks() -> None:
    """Future.add_done_callback: the worker that sets the result calls the callback
    (ThreadPoolExecutor-0_N); on a future already done it runs at once in the caller
    (MainThread); an exception in it is logged and ignored."""
    result = run("done-callbacks")
    where = [(e.t, e.lane, e.callback, e.thread) for e in result.of(CallbackInvoked)]
    assert where == [
        (about(0.1), "thread-1", "quick_done", "ThreadPoolExecutor-0_0"),
        # main slept 0.2 s after printing two lines (2 x 2 writes of 50 us)
        (about(0.2002), "main", "quick_done_2", "MainThread"),
        (about(0.3), "thread-2", "slow_done", "ThreadPoolExecutor-0_1"),
    ]
    assert result.out["output"] == [
        "slow.running() -> True",
        "slow.cancel() -> False",
        "quick_done runs in ThreadPoolExecutor-0_0",
        "late callback runs in MainThread",
        "slow_done runs in ThreadPoolExecutor-0_1",
        "exception calling callback for <Future at 0x... state=finished returned str>",
        "Traceback (most recent call last):",
        "  ...",
        "ValueError: bug in a callback",
        "slow.exception() -> None",
    ]
    assert result.main_outcome == ("ok", None)
    assert result.out["results"] == ["quick answer", "slow answer"]
    assert result.out["warnings"] == []


def test_done_callbacks_process_pool() -> None:
    """ProcessPoolExecutor: the manager thread (_ExecutorManagerThread, Thread-1) sets each
    result in the parent (process_result_item), so the callbacks run there, not in a
    worker process; one added to a future already done runs at once in MainThread."""
    result = run("done-callbacks", "process-pool")
    where = [(e.t, e.lane, e.callback, e.thread) for e in result.of(CallbackInvoked)]
    assert where == [
        (about(0.1104), "thread-1", "quick_done", "Thread-1"),  # start, pickling both ways
        (about(0.2), "main", "quick_done_2", "MainThread"),
        (about(0.3104), "thread-1", "slow_done", "Thread-1"),
    ]
    assert result.out["output"] == [
        "quick_done runs in Thread-1",
        "late callback runs in MainThread",
        "slow_done runs in Thread-1",
    ]
    assert result.out["results"] == ["quick answer", "slow answer"]


def test_free_threaded_python() -> None:
    """CPU-bound threads take turns under the GIL on 3.11 and on 3.13's default build; the
    free-threaded build 3.13t (PEP 703) runs them in parallel on the two cores."""
    elapsed = {v: run("free-threaded-python", v).elapsed for v in (None, "py313", "py313t")}
    assert elapsed == {None: about(0.6), "py313": about(0.6), "py313t": about(0.3)}
    assert run("free-threaded-python", "py313t").of(GilChanged) == []


# --- "Try this": what the notes promise a key press will do -------------------------------


def test_try_hang_in_sequential_io() -> None:
    """h on main: the request never answers and every request behind it waits forever."""
    result = run("sequential-io", None, Injection(0.7, "hang", "main"))
    assert result.main_outcome[0] == "hung"
    assert result.task("request-2")["outcome"] == "hung"
    assert [result.task(f"request-{i}")["outcome"] for i in (3, 4, 5)] == ["never_started"] * 3


def test_try_fail_in_io_threads() -> None:
    """f on thread-3: result() in as_completed re-raises the worker's exception in main."""
    result = run("io-threads", None, Injection(0.2, "fail", "thread-3"))
    assert result.main_outcome == ("raised", "RuntimeError")
    assert result.task("request-3")["outcome"] == "failed"


def test_try_cancel_in_asyncio_gather() -> None:
    """c on medium: a cancelled child makes gather raise CancelledError in main."""
    result = run("asyncio-gather", None, Injection(0.1, "cancel", "medium"))
    assert result.main_outcome == ("raised", "CancelledError")
    assert result.task("medium")["outcome"] == "cancelled"


def test_try_kill_in_process_divisors() -> None:
    """k on process-2: the pool is broken and map raises BrokenProcessPool."""
    result = run("process-divisors", None, Injection(0.3, "kill", "process-2"))
    assert result.of(PoolBroken)
    assert result.main_outcome == ("raised", "BrokenProcessPool")


def test_try_cancel_while_the_loop_is_blocked() -> None:
    """c on heartbeat while a fetch blocks: CancelledError is delivered only at 1.5 s."""
    result = run("blocking-the-loop", None, Injection(0.7, "cancel", "heartbeat"))
    assert result.task("heartbeat")["outcome"] == "cancelled"
    assert result.task("heartbeat")["ended"] == about(1.5)


def test_try_cancel_in_to_thread_fix() -> None:
    """c on fetch-2: the coroutine is cancelled, gather raises in main, and asyncio.run
    still waits for the worker thread (shutdown_default_executor) until 0.5 s."""
    result = run("to-thread-fix", None, Injection(0.2, "cancel", "fetch-2"))
    assert result.main_outcome == ("raised", "CancelledError")
    assert result.task("fetch-2")["ended"] == about(0.2)
    assert result.elapsed == about(0.5)


def test_try_fail_the_producer() -> None:
    """f on the producer before its sentinels: the consumers block in get() forever."""
    result = run("queue-isolation", None, Injection(0.05, "fail", "producer"))
    assert result.main_outcome[0] == "hung"
    assert {result.task(f"consumer-{i}")["outcome"] for i in (1, 2, 3)} == {"hung"}


def test_try_fail_the_producer_prints_its_traceback() -> None:
    """A plain Thread has no future: threading.excepthook prints its exception at once, so
    it is not an exception that was never retrieved."""
    result = run("queue-isolation", None, Injection(0.05, "fail", "producer"))
    output = result.out["output"]
    assert output[output.index("Exception in thread Thread-1 (producer):") + 3] == (
        "RuntimeError: injected"
    )
    assert result.out["warnings"] == [] or not any(
        "never retrieved" in warning for warning in result.out["warnings"]
    )


def test_try_interrupt_a_deadlock() -> None:
    """i on a deadlock: KeyboardInterrupt in main, but the interpreter waits at exit for the
    two stuck non-daemon threads."""
    result = run("deadlock-lock-order", None, Injection(0.1, "interrupt", "main"))
    assert result.main_outcome == ("raised", "KeyboardInterrupt")
    assert any("never exits" in warning for warning in result.out["warnings"])


def test_try_fail_another_ignored_worker() -> None:
    """f on thread-1 in ignored-exception: another silent failure, another warning."""
    result = run("ignored-exception", None, Injection(0.1, "fail", "thread-1"))
    assert result.main_outcome == ("ok", None)
    assert len(result.out["warnings"]) == 2


def test_try_fail_early_with_cancel_futures() -> None:
    """f on thread-1 at 0.1 s: main raises sooner; the running jobs still finish."""
    result = run("shutdown-cancel-futures", None, Injection(0.1, "fail", "thread-1"))
    assert result.main_outcome == ("raised", "RuntimeError")
    assert result.task("job-3")["outcome"] == "ok"
    assert result.elapsed < run("shutdown-cancel-futures").elapsed


def test_try_cancel_a_running_future() -> None:
    """c on slow: future.cancel() returns False for a running future, nothing changes."""
    result = run("result-timeout", None, Injection(1.0, "cancel", "slow"))
    (request,) = result.of(CancelRequested)
    assert not request.accepted
    assert result.outcomes() == run("result-timeout").outcomes()


@pytest.mark.parametrize(
    ("fault", "error", "elapsed"),
    [("cancel", "CancelledError", 0.6), ("timeout", "TimeoutError", 0.2)],
)
def test_try_cancel_or_time_out_the_query(fault: str, error: str, elapsed: float) -> None:
    """c or t on query: either way the finally block still closes the connection."""
    at = 0.5 if fault == "cancel" else 0.1
    result = run("wait-for-cleanup", None, Injection(at, fault, "query"))
    assert result.main_outcome == ("raised", error)
    assert result.task("query")["cleanup"] == "ran"
    assert result.elapsed == about(elapsed)


def test_try_cancel_inside_gather_with_return_exceptions() -> None:
    """c on slow: with return_exceptions=True its CancelledError becomes a result too."""
    result = run("gather-keeps-running", None, Injection(0.5, "cancel", "slow"))
    assert result.main_outcome == ("ok", None)
    assert "CancelledError" in result.out["results"][2]
    assert result.task("fast")["outcome"] == "ok"


def test_try_fail_first_in_a_taskgroup() -> None:
    """f on slow before 0.3 s: fails is cancelled before it can raise; one failure."""
    result = run("taskgroup-cancels-siblings", None, Injection(0.1, "fail", "slow"))
    assert result.outcomes() == {"fast": "cancelled", "fails": "cancelled", "slow": "failed"}
    assert result.main_outcome == ("raised", "ExceptionGroup")


def test_try_stop_one_worker_early() -> None:
    """c on worker-2 (stop.set()): it ends after its current batch; worker-1 runs on."""
    result = run("cooperative-thread-cancel", None, Injection(0.1, "cancel", "worker-2"))
    assert result.task("worker-2")["ended"] == about(0.32)
    assert result.task("worker-1")["ended"] == about(0.92)


def test_try_kill_the_polite_process() -> None:
    """k on process-2 (polite) before 0.5 s: SIGKILL, exitcode -9, its finally skipped."""
    result = run("terminate-skips-finally", None, Injection(0.3, "kill", "process-2"))
    polite = result.task("polite")
    assert (polite["outcome"], polite["cleanup"], polite["exitcode"]) == ("killed", "skipped", -9)
    assert result.out["output"] == ["main: atexit handler ran"]


def test_try_fail_a_later_map_input() -> None:
    """f on items: map stops at the earlier input's error, so this one is never shown."""
    result = run("structured-logging", None, Injection(0.1, "fail", "thread-3"))
    assert result.main_outcome == ("raised", "KeyError")
    assert result.task("items")["error"] == "RuntimeError"
    assert any("items" in warning for warning in result.out["warnings"])


def test_try_fail_slow_in_done_callbacks() -> None:
    """A future that failed still calls its callbacks in the worker; the logged repr says
    what it raised."""
    result = run("done-callbacks", None, Injection(0.15, "fail", "slow"))
    (slow,) = [e for e in result.of(CallbackInvoked) if e.task == "slow"]
    assert (slow.t, slow.thread) == (about(0.15), "ThreadPoolExecutor-0_1")
    assert (
        "exception calling callback for <Future at 0x... state=finished raised RuntimeError>"
        in result.out["output"]
    )
    assert result.main_outcome == ("raised", "RuntimeError")


def test_task_tree_cancelled() -> None:
    """Task.cancel(msg) on a task inside TaskGroup.__aexit__: the group cancels its
    children, each child's cancel goes on to the task it awaits (_fut_waiter), every
    finally runs bottom-up, and the parent's CancelledError, message and all, is what
    ``await server`` raises in main (3.11)."""
    result = run("task-tree-cancelled")
    tree = ["server", "handler-1", "handler-2", "query-1", "query-2"]
    assert result.outcomes() == dict.fromkeys(tree, "cancelled")
    assert all(result.task(name)["cleanup"] == "ran" for name in tree)
    ended = {e.task: e.t for e in result.of(TaskEnded)}
    assert [ended[name] for name in ("query-1", "handler-1", "server")] == [
        about(0.32),
        about(0.37),
        about(0.38),
    ]
    assert result.of(CancelRequested)[0].reason == "main called server.cancel('shutting down')"
    assert (result.main["outcome"], result.main["error"]) == ("raised", "CancelledError")
    assert result.of(MainEnded)[0].message == "shutting down"
    assert result.elapsed == about(0.38)


def test_task_tree_cancelled_swallowed() -> None:
    """A task that swallows the cancel and returns lets the task awaiting it resume with its
    value (3.11: the cancel went to ``_fut_waiter``, no ``_must_cancel``), but the
    TaskGroup still re-raises the CancelledError its own task was sent."""
    result = run("task-tree-cancelled", "swallowed")
    assert result.outcomes() == {
        "server": "cancelled",
        "handler-1": "ok",
        "handler-2": "ok",
        "query-1": "ok",
        "query-2": "ok",
    }
    assert result.of(MainEnded)[0].message == "shutting down"
    assert result.elapsed == about(0.38)


def test_task_tree_cancelled_one_query() -> None:
    """Try this: cancelling query-1 alone ends only its handler; a TaskGroup ignores a
    cancelled child (``_on_task_done``: ``if task.cancelled(): return``)."""
    result = run("task-tree-cancelled", None, Injection(0.2, "cancel", "query-1"))
    ended = {e.task: e.t for e in result.of(TaskEnded)}
    assert ended["handler-1"] == about(0.27)
    assert ended["handler-2"] == about(0.37)
    assert result.of(MainEnded)[0].message == "shutting down"


def test_idle_timeout() -> None:
    """Timeout.reschedule(loop.time() + 0.5) after each chunk cancels the old timer and
    arms a new one (Lib/asyncio/timeouts.py): the steady stream outlives the first 0.5 s
    deadline, the stalled one times out 0.5 s after its last chunk, and outside the block
    the expired timeout is TimeoutError (``__aexit__``)."""
    result = run("idle-timeout")
    assert [(t["name"], t["outcome"], t["error"]) for t in result.out["tasks"]] == [
        ("steady", "ok", None),
        ("stalled", "failed", "TimeoutError"),
    ]
    assert result.task("steady")["ended"] == about(1.5)
    assert result.task("stalled")["ended"] == about(1.1)
    assert [(e.t, e.waiter) for e in result.of(TimeoutExpired)] == [(about(1.1), "stalled")]
    assert result.out["results"] == ["5 chunks", "TimeoutError()"]


def test_idle_timeout_fixed() -> None:
    """A deadline never moved: asyncio.timeout(0.5) fires at 0.5 s in both streams."""
    result = run("idle-timeout", "fixed")
    assert [(t["name"], t["error"], t["ended"]) for t in result.out["tasks"]] == [
        ("steady", "TimeoutError", about(0.5)),
        ("stalled", "TimeoutError", about(0.5)),
    ]


def test_idle_timeout_cancelled_from_outside() -> None:
    """Try this: a cancel of steady at 0.2 s stays CancelledError: Timeout.__aexit__ turns
    the CancelledError into TimeoutError only when its own _on_timeout sent it."""
    result = run("idle-timeout", None, Injection(0.2, "cancel", "steady"))
    assert (result.task("steady")["outcome"], result.task("steady")["ended"]) == (
        "cancelled",
        about(0.2),
    )
    assert result.task("stalled")["error"] == "TimeoutError"


def test_task_tree_cancelled_child_fails() -> None:
    """A child that fails while the group's ``async with`` body awaits: _on_task_done
    aborts the group and calls _parent_task.cancel(), so the body's await raises
    CancelledError at 0.2 s; __aexit__ uncancel()s it, waits for the children's finally
    blocks (queries 0.22 s, handlers 0.27 s) and raises ExceptionGroup([ConnectionError]);
    the server's own finally ends it at 0.28 s (3.11 Lib/asyncio/taskgroups.py)."""
    result = run("task-tree-cancelled", "child-fails")
    ended = {e.task: (e.outcome.value, e.error, e.t) for e in result.of(TaskEnded)}
    assert ended == {
        "watchdog": ("failed", "ConnectionError", about(0.2)),
        "query-1": ("cancelled", "CancelledError", about(0.22)),
        "query-2": ("cancelled", "CancelledError", about(0.22)),
        "handler-1": ("cancelled", "CancelledError", about(0.27)),
        "handler-2": ("cancelled", "CancelledError", about(0.27)),
        "server": ("failed", "ExceptionGroup", about(0.28)),
    }
    assert [e.reason for e in result.of(CancelRequested) if e.task == "server"] == [
        "TaskGroup cancels server, whose async with body runs, because watchdog raised "
        "ConnectionError"
    ]
    assert (result.main["outcome"], result.main["error"]) == ("raised", "ExceptionGroup")
