"""Each lane's line in the program at the playhead, folded from the events (ui/codemap.py)."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache

import pytest

from concsim.codegen import Program, program
from concsim.codegen.barriers import ACTION_OWNER
from concsim.engine import Simulation
from concsim.events import (
    CleanupStarted,
    Event,
    ExecutorShutdown,
    LaneCreated,
    LaneKind,
    LaneState,
    LaneStateChanged,
    ResultReceived,
)
from concsim.replay import open_scenario
from concsim.scenario.library import bundled_scenarios
from concsim.ui.codemap import SiteIndex, Whereabouts, guard_line, lines_at


@cache
def finished(name: str, variant: str | None = None) -> tuple[Program, tuple[Event, ...]]:
    """The program of a bundled scenario and every event of its run (seed as written)."""
    scenario = open_scenario(name)
    sim = Simulation(scenario, variant=variant)
    sim.run()
    return program(scenario, variant), tuple(sim.events)


def until(events: tuple[Event, ...], t: float) -> list[Event]:
    return [event for event in events if event.t <= t]


def through(events: tuple[Event, ...], found: Callable[[Event], bool]) -> list[Event]:
    """The events up to and including the first that ``found`` picks."""
    k = next(k for k, event in enumerate(events) if found(event))
    return list(events[: k + 1])


def text(prog: Program, line: int) -> str:
    return prog.source.splitlines()[line - 1].strip()


def test_io_threads_at_a_quarter_second() -> None:
    """At 0.25 s the five threads are in time.sleep, main in the as_completed loop."""
    prog, events = finished("io-threads")
    lines = lines_at(prog, until(events, 0.25))
    assert lines == {"main": 19, **{f"thread-{n}": 11 for n in range(1, 6)}}
    assert text(prog, 11) == "time.sleep(0.5)  # requests.get(url)"
    assert text(prog, 19) == "for future in as_completed(futures):"


def test_failure_during_as_completed_re_raises_on_the_result_line() -> None:
    """At the re-raise main is on `.result()`; then on the with line, leaving it waits."""
    prog, events = finished("failure-during-as-completed")
    raised = through(events, lambda e: isinstance(e, ResultReceived) and e.error is not None)
    assert lines_at(prog, raised) == {"main": 52, "thread-1": 11, "thread-2": 21}
    assert text(prog, 52) == "results.append(future.result())"
    assert text(prog, 21) == "time.sleep(0.5)  # fetch page 3"  # job-3 took job-2's thread
    shutdown = through(events, lambda e: isinstance(e, ExecutorShutdown))
    assert lines_at(prog, shutdown)["main"] == 42
    assert text(prog, 42) == "with ThreadPoolExecutor(max_workers=2) as executor:"
    assert lines_at(prog, until(events, 1.2)) == {"main": 42, "thread-1": 36}  # job-6
    assert lines_at(prog, events) == {}  # everything has ended: no lane is in the code


def test_the_raise_line_while_the_exception_is_raised() -> None:
    """Between its raise and its end, job-2's thread is on its `raise` line."""
    prog, events = finished("failure-during-as-completed")
    fold = Whereabouts(SiteIndex(prog))
    k = next(k for k, e in enumerate(events) if type(e).__name__ == "ExceptionRaised")
    fold.feed(events[: k + 1])
    assert fold.lines()["thread-2"] == 17
    assert text(prog, 17) == 'raise ConnectionError("server closed the connection")'


def test_a_resumed_coroutine_moves_to_its_next_await_of_the_same_label() -> None:
    """The heartbeat's five identical sleeps: the loop resuming it moves it one line on."""
    prog, events = finished("to-thread-fix")
    assert [text(prog, n) for n in range(11, 16)] == ["await asyncio.sleep(0.1)"] * 5
    for t, line in ((0.05, 11), (0.15, 12), (0.25, 13), (0.35, 14), (0.45, 15)):
        assert lines_at(prog, until(events, t))["heartbeat"] == line, t
    lines = lines_at(prog, until(events, 0.25))
    # The fetches wait in to_thread; the pool threads run time.sleep for them on that line.
    assert {lane: lines[lane] for lane in lines if lane != "heartbeat"} == {
        "main": 25,
        **{f"fetch-{n}": 20 for n in range(1, 4)},
        **{f"thread-{n}": 20 for n in range(1, 4)},
    }
    assert text(prog, 20) == "await asyncio.to_thread(time.sleep, 0.5)"


def test_a_sequential_main_runs_each_task_on_its_own_lane() -> None:
    """Without concurrency main is inside each function in turn, then on its append line."""
    prog, events = finished("asyncio-gather", "sequential")
    assert lines_at(prog, until(events, 0.05)) == {"main": 12}
    assert lines_at(prog, until(events, 0.15)) == {"main": 17}
    first = through(events, lambda e: isinstance(e, ResultReceived))
    assert lines_at(prog, first) == {"main": 28}
    assert text(prog, 28) == "results.append(short())"


def test_a_deadlock_leaves_each_thread_on_its_second_acquire() -> None:
    """Hung lanes keep their line: each thread waits in the lock the other holds."""
    prog, events = finished("deadlock-lock-order")
    lines = lines_at(prog, events)
    assert [text(prog, lines[lane]) for lane in ("thread-1", "thread-2", "main")] == [
        "lock_b.acquire()  # with lock_b",
        "lock_a.acquire()  # with lock_a",
        "thread.join()",
    ]


def test_cleanup_runs_on_the_finally_lines() -> None:
    """A cancelled worker runs its finally block: the line of its cleanup step."""
    prog, events = finished("cooperative-thread-cancel")
    cleanup = through(events, lambda e: isinstance(e, CleanupStarted))
    lane = next(e for e in cleanup if isinstance(e, CleanupStarted)).lane
    fold = Whereabouts(SiteIndex(prog))
    fold.feed(cleanup)
    states = [e for e in events[len(cleanup) :] if isinstance(e, LaneStateChanged)]
    fold.feed(events[len(cleanup) : events.index(next(e for e in states if e.lane == lane)) + 1])
    assert text(prog, fold.lines()[lane]) == "time.sleep(0.02)  # out.close()"


def test_main_in_asyncio_run_teardown_is_on_the_guard_line() -> None:
    """asyncio.run cancelling the remaining tasks: past main(), in the guard's call."""
    prog, events = finished("ctrl-c-shutdown")
    teardown = through(
        events,
        lambda e: (
            isinstance(e, LaneStateChanged)
            and e.lane == "main"
            and (e.step or "").startswith("asyncio.run()")
        ),
    )
    line = lines_at(prog, teardown)["main"]
    assert line == guard_line(prog.source)
    assert text(prog, line) == "asyncio.run(main())"


_WORKING = frozenset(LaneState) - {
    LaneState.IDLE,
    LaneState.QUEUED,
    LaneState.STARTING,
    LaneState.PICKLING,
    LaneState.DONE,
    LaneState.FAILED,
    LaneState.CANCELLED,
    LaneState.STOPPED,
    LaneState.KILLED,
}
_MACHINERY = (
    "created",
    "shutdown_default_executor()",
    "main() ended",
    "asyncio.run() returned",
    "asyncio.run() raised",
)


def _programs() -> list[tuple[str, str | None]]:
    found = []
    for path in bundled_scenarios():
        scenario = open_scenario(path.stem)
        found += [(path.stem, variant) for variant in (None, *scenario.variant_names)]
    return found


@pytest.mark.parametrize(("name", "variant"), _programs())
def test_every_working_lane_is_on_a_line_of_its_own_function(
    name: str, variant: str | None
) -> None:
    """In every bundled program, a lane running a step of a task is on a line of that
    task's function; main, waiting or running its own steps, on a line of main()."""
    prog, events = finished(name, variant)
    fold = Whereabouts(SiteIndex(prog))
    kinds: dict[str, LaneKind] = {}
    checked = 0
    for event in events:
        fold.feed([event])
        if isinstance(event, LaneCreated):
            kinds[event.lane] = event.lane_kind
        if not isinstance(event, LaneStateChanged) or event.state not in _WORKING:
            continue
        if kinds.get(event.lane) is LaneKind.LOOP or event.step in (None, *_MACHINERY):
            continue
        line = fold.lanes[event.lane].line
        if event.task is not None:
            assert line is not None, event
            owner = prog.tasks[event.task].spec
            # a barrier's action runs in the task that trips the barrier
            assert prog.sites[line].owner in (owner, ACTION_OWNER), (event, line)
            checked += 1
        elif kinds.get(event.lane) is LaneKind.MAIN:
            assert line is not None, event
            site = prog.sites.get(line)
            assert (site is not None and site.owner == "main") or line == guard_line(prog.source), (
                event,
                line,
            )
            checked += 1
    assert checked > 0
