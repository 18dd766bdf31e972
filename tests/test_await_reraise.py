"""``await task`` re-raises the awaited task's exception in the awaiter, and asyncio.run()
tears down before it raises what main() raised (Lib/asyncio/futures.py, ``__await__``;
Lib/asyncio/runners.py, ``Runner.run`` then ``Runner.close``)."""

from __future__ import annotations

from faultkit import run

from concsim.engine import Simulation
from concsim.events import (
    AwaitReraised,
    CancelRequested,
    Event,
    LaneState,
    LaneStateChanged,
    MainEnded,
    Phase,
    PhaseBegan,
    PhaseEnded,
)
from concsim.palette import Cue
from concsim.replay import open_scenario
from concsim.ui.timeline import Timeline
from concsim.ui.why import why_chain

AWAITS_A_FAILED_TASK = """
    version: 2
    name: awaits-a-failed-task
    summary: main awaits a task that raises.
    program:
      model: asyncio
      collect: none
      main:
        - create_task: job
        - await: job
    tasks:
      - name: job
        steps:
          - io: 100ms
          - {raise: ValueError, message: bad}
"""


def _index(events: list[Event], kind: type[Event], **fields: object) -> int:
    return next(
        k
        for k, e in enumerate(events)
        if isinstance(e, kind) and all(getattr(e, n) == v for n, v in fields.items())
    )


def test_await_of_a_failed_task_re_raises_its_error_in_the_awaiter() -> None:
    """CPython: ``await job`` raises the ValueError job stored (``Future.__await__``)."""
    r = run(AWAITS_A_FAILED_TASK)
    [event] = r.of(AwaitReraised)
    assert (event.t, event.lane, event.task, event.awaited, event.step) == (
        0.1,
        "main",
        None,
        "job",
        "await job",
    )
    assert (event.error, event.message) == ("ValueError", "bad")
    assert event.why == "await job in main() re-raised ValueError: bad, which job ended with."


def test_asyncio_run_tears_down_after_main_raised_and_only_then_raises() -> None:
    """CPython 3.11 (measured with Runner.close and _cancel_all_tasks wrapped): ``await job
    re-raised in main``, ``main task done: ValueError``, ``Runner.close begins``,
    ``_cancel_all_tasks``, ``Runner.close ends``, ``asyncio.run raised ValueError``."""
    events = run(AWAITS_A_FAILED_TASK).events
    reraised = _index(events, AwaitReraised)
    teardown = _index(events, PhaseBegan, phase=Phase.TEARDOWN)
    failed = _index(events, LaneStateChanged, lane="main", state=LaneState.FAILED)
    ended = _index(events, MainEnded)
    assert reraised < teardown < failed < ended
    assert events[teardown].why == (
        "main() is over: asyncio.run() cancels the pending tasks and waits for them, shuts "
        "the default executor down, then returns or raises what main() did."
    )
    assert events[failed].why == "main failed (asyncio.run() raised)."


def test_the_log_tells_the_end_of_main_in_cpython_s_order() -> None:
    """task-tree-cancelled: main's lines from its re-raise to the traceback, as the log
    shows them (other lanes' lines apart): main() raised, asyncio.run() closes the loop
    with nothing left to cancel, then raises; uncaught, the interpreter prints it."""
    events = run(open_scenario("task-tree-cancelled")).events
    start = _index(events, AwaitReraised, lane="main")
    said = [
        e.why
        for e in events[start:]
        if getattr(e, "lane", None) == "main" or isinstance(e, MainEnded)
    ]
    assert said[:7] == [
        "await server in main() re-raised CancelledError: shutting down, which server ended with.",
        "main() is over: asyncio.run() cancels the pending tasks and waits for them, shuts "
        "the default executor down, then returns or raises what main() did.",
        "main is blocked (asyncio.run(): closing the loop, no task left to cancel).",
        "main is done with asyncio.run() teardown.",
        "main failed (asyncio.run() raised).",
        "The main program ended with CancelledError: shutting down.",
        "main raised asyncio.exceptions.CancelledError: shutting down uncaught: the "
        "interpreter printed a traceback.",
    ]


def test_asyncio_run_returns_after_its_teardown() -> None:
    """main() returned: the lane's last words are asyncio.run()'s return, after Runner.close."""
    events = run(LEAVES_A_TASK).events
    ended = _index(events, PhaseEnded, phase=Phase.TEARDOWN)
    done = _index(events, LaneStateChanged, lane="main", state=LaneState.DONE)
    assert ended < done
    assert events[done].why == "main finished (asyncio.run() returned)."


LEAVES_A_TASK = """
    version: 2
    name: leaves-a-task
    summary: main returns while a task still sleeps.
    program:
      model: asyncio
      collect: none
      main:
        - create_task: job
        - sleep: 10ms
    tasks:
      - name: job
        steps:
          - io: 1s
"""


def _teardown_steps(scenario: str) -> list[str]:
    """What main's lane says it waits in between the teardown's begin and end."""
    events = run(scenario).events
    begin = _index(events, PhaseBegan, phase=Phase.TEARDOWN)
    return [
        e.why
        for e in events[begin:]
        if isinstance(e, LaneStateChanged) and e.lane == "main" and e.state is LaneState.BLOCKED
    ]


def test_the_teardown_says_whether_a_task_was_left_to_cancel() -> None:
    """``Runner.close`` calls ``_cancel_all_tasks``, which returns at once when no task is
    pending (Lib/asyncio/runners.py): after ``await job`` raised, nothing is left, and the
    lane does not say it cancels; when main() returns with job asleep, job is cancelled."""
    assert _teardown_steps(AWAITS_A_FAILED_TASK) == [
        "main is blocked (asyncio.run(): closing the loop, no task left to cancel)."
    ]
    assert _teardown_steps(LEAVES_A_TASK) == [
        "main is blocked (asyncio.run(): cancelling remaining tasks)."
    ]
    [cancelled] = run(LEAVES_A_TASK).of(CancelRequested)
    assert cancelled.why.endswith("asyncio.run() cancels the tasks still pending when main() ends.")


def _folded(name: str) -> tuple[Timeline, list[Event]]:
    sim = Simulation(open_scenario(name))
    sim.run()
    timeline = Timeline()
    timeline.feed(list(sim.events))
    return timeline, list(sim.events)


def test_an_await_re_raise_is_marked_on_the_awaiting_lane_and_linked_to_its_cause() -> None:
    """task-tree-cancelled: each handler's ``await query`` and main's ``await server``
    re-raise the CancelledError of the task they await: ↯ on their own rows, not ✗."""
    timeline, events = _folded("task-tree-cancelled")
    moments = timeline.story.moments
    reraised = [(m.t, m.row, m.task) for m in moments if m.cue is Cue.RERAISED]
    assert reraised == [
        (0.32, "handler-1", "handler-1"),
        (0.32, "handler-2", "handler-2"),
        (0.38, "main", "main"),
    ]
    last = len(moments) - 1
    chain = why_chain(timeline.story, timeline, events, last)
    told = [f"{events[link.index].t:g} {link.row}: {events[link.index].why}" for link in chain]
    assert told == [
        "0.3 main: cancel() on server returned True: main called server.cancel('shutting down').",
        "0.3 server: CancelledError was delivered at the await of TaskGroup.__aexit__ in server.",
        "0.38 main: await server in main() re-raised CancelledError: shutting down, "
        "which server ended with.",
    ]
