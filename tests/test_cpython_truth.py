"""Behaviours found by running real programs on CPython 3.11, each mirrored exactly.

Each test names the CPython fact and the function that makes it so. The scripts in
benchmarks/cpython_facts/ measure the same facts on the machine at hand.
"""

from __future__ import annotations

import pytest

from concsim.engine import Simulation
from concsim.engine.faults import Injection
from concsim.events import GilChanged, LaneCreated, MainEnded, PicklingFailed, TaskStarted
from concsim.export.outcome import outcome
from concsim.scenario.errors import ScenarioError
from concsim.scenario.loader import load_scenario_text


def run(text: str, **kwargs: object) -> tuple[Simulation, dict]:
    sim = Simulation(load_scenario_text(text, "test.yaml"), **kwargs)  # type: ignore[arg-type]
    sim.run()
    return sim, outcome(sim.events)


def task(result: dict, name: str) -> dict:
    return next(t for t in result["tasks"] if t["name"] == name)


# --- the GIL: every waiter counts its own interval ----------------------------------------

CONVOY = """
name: convoy
program: {model: threads, executor: false}
tasks:
  - {name: spin, steps: [{cpu: 2s}]}
  - name: fetch
    steps:
      - repeat: 5
        steps: [{io: 100ms}, {cpu: 1ms}]
"""


def test_a_thread_back_from_io_gets_the_gil_one_interval_after_it_asks() -> None:
    """CPython (Python/ceval_gil.c, take_gil): a waiting thread times out after the switch
    interval counted from when *it* began to wait and, if no switch happened meanwhile, sets
    the drop request. So 5 x (100 ms I/O + 1 ms CPU) beside 2 s of CPU ends near
    10 ms (its start: main waits an interval for the GIL after starting the CPU thread, the
    new thread an interval more) + 5 x 106 ms = 0.54 s (measured: 0.557-0.569 s,
    benchmarks/cpython_facts/gil_convoy.py), not after the CPU thread's 2 s."""
    sim, result = run(CONVOY)
    assert task(result, "fetch")["started"] == pytest.approx(0.01)
    assert task(result, "fetch")["ended"] == pytest.approx(0.54)
    assert task(result, "spin")["ended"] == pytest.approx(2.005)
    # Each of the five returns from I/O waits exactly one interval, then takes the GIL.
    taken = [e.t for e in sim.events if isinstance(e, GilChanged) and e.holder == "thread-2"]
    assert [round(t * 1000) for t in taken] == [10, 115, 221, 327, 433, 539]


def test_each_waiter_has_its_own_interval() -> None:
    """CPython (take_gil): a waiter whose interval ends after a switch it did not cause
    sees a new switch number and waits another interval; three CPU-bound threads take turns
    in 5 ms slices, in the order they began to wait, once all three have started."""
    sim, _ = run("""
name: three
program: {model: threads, executor: false}
tasks:
  - {name: cpu, repeat: 3, steps: [{cpu: 40ms}]}
""")
    holders = [
        (round(e.t * 1000), e.holder)
        for e in sim.events
        if isinstance(e, GilChanged) and e.holder and e.holder.startswith("thread")
    ]
    after_starts = [(t, holder) for t, holder in holders if t > 45]
    assert after_starts[:6] == [
        (55, "thread-2"),
        (60, "thread-1"),
        (65, "thread-3"),
        (70, "thread-2"),
        (75, "thread-1"),
        (80, "thread-3"),
    ]


# --- asyncio: done-callbacks are scheduled, not called ------------------------------------


def test_taskgroup_children_failing_at_the_same_instant_are_both_in_the_group() -> None:
    """CPython (Lib/asyncio/futures.py, Future.__schedule_callbacks; Lib/asyncio/taskgroups.py,
    TaskGroup._on_task_done): a task's done-callbacks go through loop.call_soon, so when two
    children wake at the same instant and both raise, the second has raised before the group
    hears of the first and cancels it: 'unhandled errors in a TaskGroup (2 sub-exceptions)'
    (benchmarks/cpython_facts/taskgroup_simultaneous.py)."""
    sim, result = run("""
name: tg
program: {model: asyncio, collect: taskgroup}
tasks:
  - {name: a, steps: [{sleep: 100ms}, {raise: ValueError, message: a}]}
  - {name: b, steps: [{sleep: 100ms}, {raise: ValueError, message: b}]}
""")
    assert [(t["name"], t["outcome"], t["error"]) for t in result["tasks"]] == [
        ("a", "failed", "ValueError"),
        ("b", "failed", "ValueError"),
    ]
    ended = next(e for e in sim.events if isinstance(e, MainEnded))
    assert (ended.error, ended.message) == (
        "ExceptionGroup",
        "unhandled errors in a TaskGroup (2 sub-exceptions)",
    )


def test_a_task_created_just_before_main_returns_still_starts_and_cleans_up() -> None:
    """CPython (Lib/asyncio/base_events.py, run_until_complete and _run_until_complete_cb;
    Lib/asyncio/runners.py, _cancel_all_tasks): the loop stops one turn after main()'s task
    is done, and that turn runs the new task's first step (Task.__init__ scheduled it with
    call_soon). Only then does asyncio.run() cancel it, at its first await, and its finally
    runs. CPython prints: main returns, worker started, worker finally
    (benchmarks/cpython_facts/create_task_before_return.py)."""
    _, result = run("""
name: ct
program:
  model: asyncio
  main: [{submit: [worker]}, {print: main returns}]
tasks:
  - name: worker
    steps: [{print: worker started}, {sleep: 1s}, {print: worker finished}]
    cleanup: [{print: worker finally}]
""")
    assert result["output"] == ["main returns", "worker started", "worker finally"]
    worker = task(result, "worker")
    assert (worker["outcome"], worker["error"], worker["cleanup"]) == (
        "cancelled",
        "CancelledError",
        "ran",
    )
    assert result["main"] == {"outcome": "ok", "error": None}


# --- concurrent.futures: a new worker takes its item before submit returns ----------------


def test_shutdown_cancel_futures_right_after_submits_cancels_only_the_queued() -> None:
    """CPython (Lib/concurrent/futures/thread.py, ThreadPoolExecutor._adjust_thread_count;
    Lib/threading.py, Thread.start waits for the thread to start): each submit that starts
    a worker returns after that worker has taken its item. With max_workers=2, five tasks
    submitted and then shutdown(cancel_futures=True): two run, three are cancelled
    (measured 50 of 50 times: benchmarks/cpython_facts/pool_startup_cancel.py)."""
    _, result = run("""
name: cancel-right-away
program:
  model: threads
  max_workers: 2
  context_manager: false
  main: [submit, {shutdown: {wait: true, cancel_futures: true}}]
tasks:
  - {name: job, repeat: 5, steps: [{io: 50ms}]}
""")
    assert [(t["name"], t["outcome"]) for t in result["tasks"]] == [
        ("job-1", "ok"),
        ("job-2", "ok"),
        ("job-3", "cancelled"),
        ("job-4", "cancelled"),
        ("job-5", "cancelled"),
    ]
    assert result["elapsed"] == pytest.approx(0.05)


# --- plain threads: what threading.excepthook prints ---------------------------------------

PLAIN_THREADS = """
name: plain
program: {model: threads, executor: false}
tasks:
  - {name: warm-up, steps: [{io: 10ms}]}
  - name: fetch-page
    steps: [{io: 20ms}, {raise: ValueError, message: bad page}]
"""


def test_an_uncaught_exception_in_a_thread_prints_what_excepthook_prints() -> None:
    """CPython (Lib/threading.py, excepthook; Thread.__init__ names a thread "Thread-N
    (target)" since 3.10): "Exception in thread Thread-2 (fetch_page):", the traceback,
    then "ValueError: bad page" (benchmarks/cpython_facts/thread_excepthook.py)."""
    _, result = run(PLAIN_THREADS)
    assert result["output"] == [
        "Exception in thread Thread-2 (fetch_page):",
        "Traceback (most recent call last):",
        "  ...",
        "ValueError: bad page",
    ]


def test_excepthook_ignores_system_exit_in_a_thread() -> None:
    """CPython (Lib/threading.py, excepthook): SystemExit in a thread is silently ignored."""
    _, result = run(PLAIN_THREADS.replace("ValueError, message: bad page", "SystemExit"))
    assert result["output"] == []
    assert task(result, "fetch-page")["error"] == "SystemExit"


# --- process pools: what pickling an unsendable function raises ---------------------------

UNPICKLABLE = """
name: pk
program: {model: processes, max_workers: 1, collect: result}
tasks:
  - {name: square-it, picklable: HOW, steps: [{cpu: 10ms}]}
"""


@pytest.mark.parametrize(
    ("how", "error", "message"),
    [
        ("false", "AttributeError", "Can't pickle local object 'main.<locals>.square_it'"),
        ("nested", "AttributeError", "Can't pickle local object 'main.<locals>.square_it'"),
        ("lambda", "AttributeError", "Can't pickle local object 'main.<locals>.<lambda>'"),
        (
            "module-lambda",
            "PicklingError",
            "Can't pickle <function <lambda> at 0x...>: attribute lookup <lambda> on __main__ "
            "failed",
        ),
    ],
)
def test_an_unpicklable_function_fails_with_cpythons_error(
    how: str, error: str, message: str
) -> None:
    """CPython (Modules/_pickle.c, save_global; Lib/concurrent/futures/process.py,
    _SafeQueue._on_queue_feeder_error): a function or lambda defined inside main() fails
    with AttributeError "Can't pickle local object 'main.<locals>.NAME'"; a lambda at module
    level is looked up as __main__.<lambda> and fails with PicklingError (CPython shows the
    lambda's address where concsim writes 0x...; benchmarks/cpython_facts/pickling_errors.py).
    """
    sim, result = run(UNPICKLABLE.replace("HOW", how))
    failed = next(e for e in sim.events if isinstance(e, PicklingFailed))
    assert (failed.error, failed.message) == (error, message)
    assert result["main"] == {"outcome": "raised", "error": error}


def test_picklable_accepts_booleans_and_the_three_ways_only() -> None:
    """A value that is not a boolean nor a known way says what is expected, in one line."""
    with pytest.raises(ScenarioError) as raised:
        load_scenario_text(UNPICKLABLE.replace("HOW", "maybe"), "pk.yaml")
    assert [str(p) for p in raised.value.problems] == [
        "pk.yaml:5:34: tasks[0].picklable: expected true, false, `nested`, `lambda` or "
        "`module-lambda`, got 'maybe'"
    ]


# --- SystemExit in main -------------------------------------------------------------------

SYSTEM_EXIT = """
name: se
program:
  model: threads
  executor: false
  main: [submit, {print: main exits}, {raise: SystemExit, message: "CODE"}]
tasks:
  - name: worker
    steps: [{io: 300ms}, {print: worker finished}]
    cleanup: [{print: worker finally}]
"""


def test_sys_exit_prints_nothing_sets_the_status_and_still_joins_threads() -> None:
    """CPython (Python/pythonrun.c, _Py_HandleSystemExit; Python/pylifecycle.c, Py_FinalizeEx
    -> wait_for_thread_shutdown): sys.exit(3) prints no traceback, the exit status is 3, and
    the interpreter still waits for the non-daemon thread, whose finally runs
    (benchmarks/cpython_facts/system_exit.py)."""
    _, result = run(SYSTEM_EXIT.replace("CODE", "3"))
    assert result["main"] == {"outcome": "raised", "error": "SystemExit"}
    assert result["exit_code"] == 3
    assert result["output"] == ["main exits", "worker finished", "worker finally"]
    assert result["elapsed"] == pytest.approx(0.3, abs=0.001)


@pytest.mark.parametrize(
    ("code", "status", "printed"),
    [("", 0, []), ("0", 0, []), ("-1", 255, []), ("256", 0, []), ("bye", 1, ["bye"])],
)
def test_system_exit_codes_as_cpython_reads_them(
    code: str, status: int, printed: list[str]
) -> None:
    """CPython (_Py_HandleSystemExit): an int code is the status modulo 256; no code is 0;
    any other code is printed to stderr and the status is 1
    (benchmarks/cpython_facts/system_exit_message.py)."""
    _, result = run(SYSTEM_EXIT.replace("CODE", code))
    assert result["exit_code"] == status
    assert result["output"] == ["main exits", *printed, "worker finished", "worker finally"]


def test_exit_status_of_other_endings() -> None:
    """CPython: a program that returns exits 0; an uncaught exception prints its traceback
    and exits 1; an uncaught KeyboardInterrupt kills the process with SIGINT (status -2)."""
    ok = """
name: ok
program: {model: threads}
tasks: [{name: a, steps: [{io: 10ms}]}]
"""
    assert run(ok)[1]["exit_code"] == 0
    raised = ok.replace("io: 10ms", "raise: ValueError")
    assert run(raised)[1]["exit_code"] == 1
    interrupted = ok.replace("io: 10ms", "io: 1s")
    assert run(interrupted, injections=[Injection(0.5, "interrupt", "main")])[1]["exit_code"] == -2


# --- names: a lane is called the same everywhere ------------------------------------------


@pytest.mark.parametrize("model", ["threads", "processes"])
def test_a_plain_thread_or_process_is_called_by_its_lane_everywhere(model: str) -> None:
    """A lane's row, its events and the GIL row name it alike: plain threads and processes
    are thread-N / process-N (CPython's Thread-N, as excepthook prints it), and the task they
    run is said on the row, not as the row's name."""
    sim, _ = run(f"""
name: names
program: {{model: {model}, executor: false}}
tasks:
  - {{name: a-to-b, steps: [{{io: 10ms}}]}}
  - {{name: b-to-a, steps: [{{io: 10ms}}]}}
""")
    prefix = "thread" if model == "threads" else "process"
    created = {e.lane: e.name for e in sim.events if isinstance(e, LaneCreated)}
    assert {lane: name for lane, name in created.items() if lane != "main"} == {
        f"{prefix}-1": f"{prefix}-1",
        f"{prefix}-2": f"{prefix}-2",
    }
    started = {e.task: e.lane for e in sim.events if isinstance(e, TaskStarted)}
    assert started == {"a-to-b": f"{prefix}-1", "b-to-a": f"{prefix}-2"}


def test_a_waiters_interval_timer_stops_when_it_stops_waiting() -> None:
    """A waiter's timed wait ends when it takes the GIL, and no timer outlives the run: a
    CPU-bound pair of threads leaves nothing scheduled once both are done."""
    sim, _ = run(CONVOY)
    assert not sim.world.clock
    gil = sim.world.main_proc.gil
    assert gil is not None and gil.holder is None and not gil.waiters


def test_a_traceback_names_a_class_by_its_module() -> None:
    """Lib/traceback.py (format_exception_only) prefixes the class's module unless it is
    builtins or __main__: ``_pickle.PicklingError``, ``concurrent.futures.process.
    BrokenProcessPool``, and two different CancelledError classes (measured on 3.11)."""
    from concsim.engine.exits import traceback_line

    assert traceback_line("PicklingError", "x", in_asyncio=False) == "_pickle.PicklingError: x"
    assert traceback_line("ValueError", "bad", in_asyncio=False) == "ValueError: bad"
    assert traceback_line("TimeoutError", "", in_asyncio=False) == "TimeoutError"
    assert (
        traceback_line("BrokenProcessPool", "", in_asyncio=False)
        == "concurrent.futures.process.BrokenProcessPool"
    )
    assert (
        traceback_line("CancelledError", "", in_asyncio=True) == "asyncio.exceptions.CancelledError"
    )
    assert (
        traceback_line("CancelledError", "", in_asyncio=False)
        == "concurrent.futures._base.CancelledError"
    )
