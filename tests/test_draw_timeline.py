"""The timeline index: rows in display order, GIL rows, intervals and the event-log filter."""

from __future__ import annotations

from concsim.events import (
    Event,
    GilChanged,
    LaneCreated,
    LaneKind,
    LaneState,
    LaneStateChanged,
    RunEnded,
    RunStarted,
    TaskStarted,
)
from concsim.ui.timeline import CODE, GIL_FREE, Timeline


class Script:
    """Hand-built events with increasing seq numbers."""

    def __init__(self) -> None:
        self.events: list[Event] = []

    def add(self, cls: type[Event], t: float, **fields: object) -> Script:
        self.events.append(cls(t=t, seq=len(self.events), **fields))  # type: ignore[arg-type]
        return self

    def lane(self, t: float, lane: str, kind: LaneKind, process: str = "main") -> Script:
        return self.add(LaneCreated, t, lane=lane, lane_kind=kind, name=lane, process=process)

    def state(self, t: float, lane: str, state: LaneState, **fields: object) -> Script:
        return self.add(LaneStateChanged, t, lane=lane, state=state, **fields)


def start(gil: bool = True) -> Script:
    return Script().add(
        RunStarted, 0.0, scenario="s", variant=None, seed=0, model="threads", gil=gil
    )


def test_rows_put_main_first_then_each_process_with_its_gil_row_second() -> None:
    """Main process first (main, its GIL, threads), then each worker process and its GIL."""
    script = (
        start()
        .lane(0, "process-1", LaneKind.PROCESS, process="process-1")
        .lane(0, "main", LaneKind.MAIN)
        .lane(0, "thread-1", LaneKind.THREAD)
        .add(GilChanged, 0.1, process="process-1", holder="process-1", reason="start")
        .add(GilChanged, 0.1, process="main", holder="thread-1", reason="start")
    )
    timeline = Timeline()
    timeline.feed(script.events)
    assert [t.row_id for t in timeline.rows] == [
        "main",
        "gil:main",
        "thread-1",
        "process-1",
        "gil:process-1",
    ]


def test_no_gil_rows_for_a_free_threaded_run() -> None:
    """RunStarted.gil false: GilChanged events (if any) draw no row."""
    script = start(gil=False).lane(0, "main", LaneKind.MAIN)
    script.add(GilChanged, 0.1, process="main", holder="main", reason="x")
    timeline = Timeline()
    timeline.feed(script.events)
    assert [t.row_id for t in timeline.rows] == ["main"]


def test_intervals_answer_state_at_any_time_and_same_instant_changes_collapse() -> None:
    """A state entered and left at one instant takes no time; the later one stands."""
    script = (
        start()
        .lane(0, "main", LaneKind.MAIN)
        .state(0.0, "main", LaneState.RUNNING)
        .state(0.5, "main", LaneState.IO, step="io 500ms")
        .state(1.0, "main", LaneState.RUNNING)
        .state(1.0, "main", LaneState.BLOCKED)
    )
    timeline = Timeline()
    timeline.feed(script.events)
    track = timeline.tracks["main"]
    assert track.code_at(-1) == 0
    assert track.code_at(0.25) == CODE[LaneState.RUNNING]
    assert track.code_at(0.5) == CODE[LaneState.IO]
    assert track.code_at(2.0) == CODE[LaneState.BLOCKED]
    assert list(track.starts) == [0.0, 0.5, 1.0]


def test_final_states_and_cleanup_leave_marks_even_when_instant() -> None:
    """A task failing and its worker going idle at once still marks the failure."""
    script = (
        start()
        .lane(0, "thread-1", LaneKind.THREAD)
        .state(0.0, "thread-1", LaneState.RUNNING, task="a")
        .state(0.2, "thread-1", LaneState.CLEANUP, task="a")
        .state(0.3, "thread-1", LaneState.FAILED, task="a")
        .state(0.3, "thread-1", LaneState.IDLE)
    )
    timeline = Timeline()
    timeline.feed(script.events)
    track = timeline.tracks["thread-1"]
    assert list(track.mark_times) == [0.2, 0.3]
    assert track.mark_codes == [CODE[LaneState.CLEANUP], CODE[LaneState.FAILED]]
    assert track.code_at(0.3) == CODE[LaneState.IDLE]


def test_gil_row_records_holders() -> None:
    """The GIL row knows who held it when, and when it was free."""
    script = (
        start()
        .lane(0, "main", LaneKind.MAIN)
        .add(GilChanged, 0.0, process="main", holder="thread-1", reason="a")
        .add(GilChanged, 0.1, process="main", holder=None, reason="b")
        .add(GilChanged, 0.2, process="main", holder="thread-2", reason="c")
    )
    timeline = Timeline()
    timeline.feed(script.events)
    gil = timeline.tracks["gil:main"]
    assert gil.code_at(0.05) == 2 and gil.code_at(0.15) == GIL_FREE and gil.code_at(0.3) == 3
    assert gil.holders == ["thread-1", "thread-2"] and gil.gil_holder == "thread-2"


def test_a_process_has_its_gil_row_free_from_its_first_lane() -> None:
    """CPython: a process's GIL exists from interpreter start; until some thread takes it
    (threads that only wait on I/O never do), it is free, and the row says so from the start
    instead of appearing, and pushing the rows below it down, when first taken."""
    script = (
        start()
        .lane(0, "main", LaneKind.MAIN)
        .lane(0, "thread-1", LaneKind.THREAD)
        .lane(0.2, "process-1", LaneKind.PROCESS, process="process-1")
    )
    timeline = Timeline()
    timeline.feed(script.events)
    rows = {t.row_id: t for t in timeline.rows}
    assert list(rows) == ["main", "gil:main", "thread-1", "process-1", "gil:process-1"]
    assert rows["gil:main"].code_at(0.0) == GIL_FREE and rows["gil:main"].gil_holder is None
    assert rows["gil:process-1"].code_at(0.1) != GIL_FREE  # not before the process exists
    assert rows["gil:process-1"].code_at(0.2) == GIL_FREE


def test_involves_filters_events_by_lane_and_by_the_tasks_it_ran() -> None:
    """The event log's filter: the lane's own events, its tasks' events, run-wide for main."""
    script = (
        start()
        .lane(0, "main", LaneKind.MAIN)
        .lane(0, "thread-1", LaneKind.THREAD)
        .add(TaskStarted, 0.0, task="a", lane="thread-1")
        .add(RunEnded, 1.0, elapsed=1.0)
    )
    timeline = Timeline()
    timeline.feed(script.events)
    started, ended = script.events[-2], script.events[-1]
    assert timeline.involves(started, "thread-1") and not timeline.involves(started, "main")
    assert timeline.involves(ended, "main") and not timeline.involves(ended, "thread-1")
    assert timeline.elapsed == 1.0
