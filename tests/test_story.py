"""The story folded from events: moments, causes, lock spans, phases, waits and why chains."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from concsim.engine import Injection, Simulation
from concsim.events import (
    Event,
    GilChanged,
    LaneCreated,
    LaneKind,
    LaneState,
    LaneStateChanged,
    Phase,
    PhaseBegan,
    PhaseEnded,
    SharedRead,
    SharedWritten,
    TaskSubmitted,
)
from concsim.palette import MARK_RANK, Cue
from concsim.replay import open_scenario
from concsim.ui.cells import MARK, Window, lane_cells
from concsim.ui.draw import lane_label
from concsim.ui.timeline import CODE, CUE_CODE, Timeline
from concsim.ui.why import why_chain


def folded(name: str, *injections: Injection) -> tuple[Timeline, list[Event]]:
    sim = Simulation(open_scenario(name), injections=list(injections))
    sim.run()
    timeline = Timeline()
    timeline.feed(list(sim.events))
    return timeline, list(sim.events)


def moments(timeline: Timeline) -> list[tuple[float, str, Cue, str | None, int | None]]:
    return [(m.t, m.row, m.cue, m.task, m.cause) for m in timeline.story.moments]


def sentences(events: Sequence[Event], timeline: Timeline, number: int) -> list[str]:
    chain = why_chain(timeline.story, timeline, events, number)
    return [f"{events[link.index].t:g} {link.row}: {events[link.index].why}" for link in chain]


def test_a_raise_and_its_re_raise_in_main_are_linked() -> None:
    """job-2 raises on thread-2; main's as_completed loop re-raises it: the raise is its cause."""
    timeline, _ = folded("failure-during-as-completed")
    assert moments(timeline) == [
        (0.2, "thread-2", Cue.RAISED, "job-2", None),
        (0.2, "main", Cue.RERAISED, "job-2", 0),
    ]


def test_leaving_the_with_block_and_interpreter_exit_are_phases() -> None:
    """shutdown(wait=True) from 0.2 s to 1.5 s waits for every unfinished job; exit follows."""
    story = folded("failure-during-as-completed")[0].story
    spans = [
        (kind, s.name, s.t0, s.t1, s.waits_for)
        for kind, s in zip(story.phase_kinds, story.phases, strict=True)
    ]
    assert spans == [
        (
            Phase.SHUTDOWN,
            "shutdown(wait=True)",
            0.2,
            1.5,
            ("job-1", "job-3", "job-4", "job-5", "job-6"),
        ),
        (Phase.EXIT, "interpreter exit", 1.5, 1.5, ()),
    ]


def test_the_why_chain_runs_from_the_raise_to_main_s_end() -> None:
    """From job-2's raise: main re-raised it, left the with block, waited for the jobs."""
    timeline, events = folded("failure-during-as-completed")
    assert sentences(events, timeline, 0) == [
        "0.2 thread-2: ConnectionError was raised in job-2 at raise ConnectionError.",
        "0.2 main: Reading the result of job-2 re-raised its ConnectionError in the caller.",
        "0.2 main: shutdown(wait=True, cancel_futures=False) was called; it waits for running "
        "and queued tasks.",
        "0.5 thread-1: job-1 finished normally.",
        "0.7 thread-2: job-3 finished normally.",
        "1 thread-1: job-4 finished normally.",
        "1.2 thread-2: job-5 finished normally.",
        "1.5 thread-1: job-6 finished normally.",
        "1.5 main: The main program ended with ConnectionError: server closed the connection.",
        "1.5 main: Interpreter exit: threading._shutdown joins every non-daemon thread.",
    ]


def test_the_why_of_main_s_re_raise_is_its_cause_not_what_followed() -> None:
    """w on main's re-raise answers why it re-raised: job-2 raised. Leaving the with block
    and the jobs it waited for came after; they are the raise's story, not the re-raise's
    causes."""
    timeline, events = folded("failure-during-as-completed")
    assert sentences(events, timeline, 1) == [
        "0.2 thread-2: ConnectionError was raised in job-2 at raise ConnectionError.",
        "0.2 main: Reading the result of job-2 re-raised its ConnectionError in the caller.",
    ]


def test_lost_updates_derived_from_reads_and_writes_match_the_engine_s_count() -> None:
    """A write made after another lane wrote since this lane's read is a lost update: every
    write the engine says erased updates, and the stale writes that erased a write which
    had itself gone back (the engine counts what they erased as 0 more, not as none)."""
    timeline, events = folded("race-lost-update")
    derived = [m.index for m in timeline.story.moments if m.cue is Cue.LOST_UPDATE]
    engine = [k for k, e in enumerate(events) if isinstance(e, SharedWritten) and e.lost]
    read_at: dict[str, int] = {}
    written_at: dict[str, int] = {}  # lane of the latest write -> its index
    by_rule = []
    for k, event in enumerate(events):
        if isinstance(event, SharedRead):
            read_at[event.lane] = k
        elif isinstance(event, SharedWritten):
            since = read_at.pop(event.lane, k)
            if any(lane != event.lane and at > since for lane, at in written_at.items()):
                by_rule.append(k)
            written_at[event.lane] = k
    assert derived == by_rule
    assert set(engine) <= set(derived) and len(engine) >= 10
    first = timeline.story.moments[0]
    lost = events[derived[0]]
    assert isinstance(lost, SharedWritten)
    assert sentences(events, timeline, 0)[-1].endswith("since it read: a lost update.")
    assert (first.row, first.t) == (lost.lane, lost.t)


def test_ctrl_c_lands_on_main_and_cancels_the_downloads_through_gather() -> None:
    """i at 0.5 s: the fault on main, CancelledError in main, gather cancels each download."""
    timeline, events = folded(
        "ctrl-c-shutdown", Injection(at=0.5, fault="interrupt", target="main")
    )
    marks = moments(timeline)
    assert marks[:2] == [
        (0.5, "main", Cue.FAULT, "main", None),
        (0.5, "main", Cue.CANCEL_DELIVERED, "main", 0),
    ]
    asked = [m for m in marks if m[2] is Cue.CANCEL_ASKED]
    delivered = [m for m in marks[2:] if m[2] is Cue.CANCEL_DELIVERED]
    # gather, cancelled in main, asks each child's cancel there (_GatheringFuture.cancel)
    assert asked == [(0.5, "main", Cue.CANCEL_ASKED, f"download-{n}", 1) for n in (1, 2, 3)]
    assert [(m[1], m[4]) for m in delivered] == [
        ("download-1", 2),
        ("download-2", 3),
        ("download-3", 4),
    ]
    story = timeline.story
    assert [(k, s.t0, s.t1) for k, s in zip(story.phase_kinds, story.phases, strict=True)] == [
        (Phase.CANCELLING, 0.5, 0.55),
        (Phase.TEARDOWN, 0.55, 0.55),
    ]
    chain = sentences(events, timeline, 0)
    assert chain[0] == "0.5 main: Injected interrupt on main."
    assert chain[-1] == "0.55 main: The main program ended with KeyboardInterrupt."
    assert "0.55 download-3: download-3 ended cancelled with CancelledError." in chain


def test_a_deadlocked_lane_says_which_lock_it_waits_for_and_who_holds_it() -> None:
    """Both threads hold one lock (a span from 0 that never closes) and wait for the other."""
    timeline, _ = folded("deadlock-lock-order")
    story = timeline.story
    held = {lane: [(s.name, s.t0, s.t1) for s in spans] for lane, spans in story.locks.items()}
    assert held == {"thread-1": [("lock_a", 0.0, None)], "thread-2": [("lock_b", 0.0, None)]}
    one, two = timeline.tracks["thread-1"], timeline.tracks["thread-2"]
    assert lane_label(one, story.waits(timeline, one))[2] == "lock_b held by thread-2"
    assert lane_label(two, story.waits(timeline, two))[2] == "lock_a held by thread-1"


def test_main_in_a_phase_names_the_tasks_it_still_waits_for() -> None:
    """At 1.1 s main is in shutdown(wait=True), waiting for job-5 and job-6."""
    sim = Simulation(open_scenario("failure-during-as-completed"))
    sim.advance(1.1)
    timeline = Timeline()
    timeline.feed(list(sim.events))
    main = timeline.tracks["main"]
    assert timeline.story.waits(timeline, main) == "shutdown(wait=True) → job-5, job-6"
    assert lane_label(main, timeline.story.waits(timeline, main))[2] == (
        "shutdown(wait=True) → job-5, job-6"
    )


def test_a_lane_waiting_for_the_gil_names_the_holder() -> None:
    """A thread in GIL_WAIT says who holds its process's GIL."""
    sim = Simulation(open_scenario("cpu-threads-gil"))
    sim.advance(0.5)
    timeline = Timeline()
    timeline.feed(list(sim.events))
    waiting = [t for t in timeline.rows if t.state is LaneState.GIL_WAIT]
    holder = timeline.tracks["gil:main"].gil_holder
    assert waiting and holder
    for track in waiting:
        assert timeline.story.waits(timeline, track) == f"GIL held by {holder}"


def test_a_lane_handed_the_gil_is_not_said_to_wait_for_itself() -> None:
    """semaphore-limit at 102 ms, event by event: thread-3 is handed the GIL (GilChanged)
    before its own state changes; between the two its status says it took the GIL, never
    'GIL held by thread-3' on thread-3's own row."""
    sim = Simulation(open_scenario("semaphore-limit"))
    sim.run()
    events = list(sim.events)
    handed = next(
        k
        for k, e in enumerate(events)
        if isinstance(e, GilChanged) and e.holder == "thread-3" and e.t > 0.1
    )
    timeline = Timeline()
    timeline.feed(events[: handed + 1])
    thread_3 = timeline.tracks["thread-3"]
    assert thread_3.state is LaneState.GIL_WAIT
    assert timeline.story.waits(timeline, thread_3) == "took the GIL"


@pytest.mark.parametrize("dt", [0.0005, 0.002, 0.01, 0.05])
def test_a_lost_update_mark_survives_every_zoom(dt: float) -> None:
    """Each lost update's column shows ≠ unless a more alarming mark shares it."""
    timeline, _ = folded("race-lost-update")
    code = MARK + CUE_CODE[Cue.LOST_UPDATE]
    for moment in timeline.story.moments:
        track = timeline.tracks[moment.row]
        window = Window(0.0, dt, 400)
        cells = lane_cells(track, window, 0.2)
        col = window.column(moment.t)
        if col < window.width:
            assert cells[col] == code or _rank(cells[col] - MARK) > MARK_RANK[Cue.LOST_UPDATE]


def _rank(code: int) -> int:
    kinds = {**{c: k for k, c in CODE.items()}, **{c: k for k, c in CUE_CODE.items()}}
    return MARK_RANK[kinds[code]]  # type: ignore[index]  # a mark code is a state or a cue


def test_a_taskgroup_re_raises_its_child_s_error_where_main_ends() -> None:
    """No event tells TaskGroup.__aexit__ raising: the re-raise is marked at MainEnded."""
    timeline, events = folded("taskgroup-cancels-siblings")
    assert moments(timeline)[-1] == (0.35, "main", Cue.RERAISED, None, 0)
    assert sentences(events, timeline, len(timeline.story.moments) - 1) == [
        "0.3 fails: ValueError was raised in fails at raise ValueError.",
        "0.35 main: The main program ended with ExceptionGroup: unhandled errors in a TaskGroup "
        "(1 sub-exception).",
    ]
    # From the raise, a first cause: the siblings it had cancelled, and main's way out.
    assert sentences(events, timeline, 0) == [
        "0.3 fails: ValueError was raised in fails at raise ValueError.",
        "0.3 main: cancel() on fast returned True: TaskGroup cancels the other tasks "
        "because fails raised ValueError.",
        "0.3 main: cancel() on slow returned True: TaskGroup cancels the other tasks "
        "because fails raised ValueError.",
        # _on_task_done then cancels main, already in __aexit__ (3.11: never uncancelled)
        "0.3 main: cancel() on main returned True: TaskGroup cancels main, whose async with "
        "body has ended, because fails raised ValueError; __aexit__ drops the CancelledError "
        "but never uncancels it.",
        "0.3 fast: CancelledError was delivered at await download() in fast.",
        "0.3 slow: CancelledError was delivered at await download() in slow.",
        "0.35 main: main() is over: asyncio.run() cancels the pending tasks and waits for "
        "them, shuts the default executor down, then returns or raises what main() did.",
        "0.35 main: The main program ended with ExceptionGroup: unhandled errors in a TaskGroup "
        "(1 sub-exception).",
    ]


SHUTDOWN = "shutdown(wait=True)"


def test_phases_come_from_phase_events_not_from_step_names() -> None:
    """A main step named like a phase draws nothing; PhaseBegan / PhaseEnded draw the band,
    with the tasks unfinished when it began."""
    timeline = Timeline()
    timeline.feed(
        [
            LaneCreated(
                t=0.0, seq=0, lane="main", lane_kind=LaneKind.MAIN, name="main", process="main"
            ),
            TaskSubmitted(t=0.0, seq=1, task="job-1", how="submit"),
            LaneStateChanged(
                t=0.1, seq=2, lane="main", state=LaneState.BLOCKED, step="shutdown(wait=True)"
            ),
        ]
    )
    assert timeline.story.phases == []
    timeline.feed(
        [
            PhaseBegan(t=0.2, seq=3, lane="main", phase=Phase.SHUTDOWN, step=SHUTDOWN),
            PhaseEnded(t=0.5, seq=4, lane="main", phase=Phase.SHUTDOWN, step=SHUTDOWN),
        ]
    )
    story = timeline.story
    assert [(s.name, s.t0, s.t1, s.waits_for) for s in story.phases] == [
        ("shutdown(wait=True)", 0.2, 0.5, ("job-1",))
    ]
    assert story.phase_kinds == [Phase.SHUTDOWN]
