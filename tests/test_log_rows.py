"""The event log tells the story and folds the routine: which events are routine, how
stretches grow at both ends, what a folded line says, and what it costs at 1M events."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from textual.app import App, ComposeResult

from concsim.engine import Simulation
from concsim.events import (
    Event,
    GilChanged,
    LaneState,
    LaneStateChanged,
    SharedRead,
    SharedWritten,
    TaskStarted,
)
from concsim.replay import open_scenario
from concsim.ui.logrows import LogKind, Routine, Rows, Stretch, routine
from concsim.ui.widgets.eventlog import _FOLD_SCAN, EventLog


@pytest.fixture(autouse=True)
def _quiet_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("TEXTUAL_ANIMATIONS", "none")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))


def state(k: int) -> LaneStateChanged:
    return LaneStateChanged(t=k / 1000, seq=k, lane="thread-1", state=LaneState.RUNNING)


def gil(k: int, holder: str | None = "thread-1") -> GilChanged:
    return GilChanged(t=k / 1000, seq=k, process="main", holder=holder, reason="switch")


def started(k: int) -> TaskStarted:
    return TaskStarted(t=k / 1000, seq=k, task=f"job-{k}", lane="thread-1")


def test_what_is_routine() -> None:
    """GIL hand-offs, lane states, future changes, shared reads and plain writes, queue
    puts and gets are routine; a write that lost an update is told, as is every start."""
    assert routine(gil(0)) is Routine.GIL
    assert routine(gil(0, None)) is Routine.RELEASE
    assert routine(state(0)) is Routine.STATE
    read = SharedRead(t=0, seq=0, lane="thread-1", task="t", name="counter", value=1)
    assert routine(read) is Routine.READ
    write = SharedWritten(t=0, seq=0, lane="thread-1", task="t", name="counter", value=2)
    assert routine(write) is Routine.WRITE
    assert routine(SharedWritten(t=0, seq=0, lane="l", task="t", name="c", value=2, lost=3)) is None
    assert routine(started(0)) is None


def fold(events: list[Event]) -> Rows:
    rows = Rows(fold=True)
    rows.feed(events, 0, len(events), None)
    return rows


def test_a_stretch_is_one_row_between_two_events_told() -> None:
    events: list[Event] = [started(0), *[gil(k) for k in range(1, 6)], state(6), started(7)]
    rows = fold(events)
    assert list(rows) == [0, ~0, 7]
    stretch = rows.stretch(~0)
    assert stretch is not None and (stretch.first, stretch.last) == (1, 6)
    assert stretch.words() == "the GIL changed hands 5 times, 1 lane state change"
    assert stretch.few is None  # more than a few: one line counts them


def test_a_few_routine_events_are_kept_as_themselves() -> None:
    rows = fold([started(0), gil(1), state(2), started(3)])
    stretch = rows.stretch(rows[1])
    assert stretch is not None and stretch.few == [1, 2]


def test_scanning_back_and_feeding_on_give_the_same_rows() -> None:
    """A view rebuilt over a long history scans it newest first; the stretch that spans
    where the scan began grows at both ends and stays one row."""
    events: list[Event] = [started(0), *[gil(k) for k in range(1, 9)], started(9), state(10)]
    rows = Rows(fold=True)
    rows.scan_back(events, 7, 0, None)  # scanned back from 7
    rows.feed(events, 7, len(events), None)  # then fed on
    assert list(rows) == [0, rows[1], 9, rows[3]]
    stretch = rows.stretch(rows[1])
    assert stretch is not None and (stretch.first, stretch.last) == (1, 8)
    assert stretch.counts == {Routine.GIL: 8}
    assert fold(events).stretch(fold(events)[1]) == Stretch(1, 8, {Routine.GIL: 8})


def test_the_gil_freed_is_said_only_without_hand_offs() -> None:
    assert Stretch(0, 1, {Routine.GIL: 2, Routine.RELEASE: 2}).words() == (
        "the GIL changed hands 2 times"
    )
    assert Stretch(0, 1, {Routine.RELEASE: 1}).words() == "the GIL released 1 time"


def test_E_cycles_through_every_kind_and_back() -> None:
    kinds = [LogKind.STORY]
    while (following := kinds[-1].next()) is not LogKind.STORY:
        kinds.append(following)
    assert kinds == list(LogKind)
    assert LogKind.STORY.folds and not LogKind.EVERY.folds
    assert LogKind.STORY.keeps() is None and LogKind.EVERY.keeps() is None
    gil_only = LogKind.GIL.keeps()
    assert gil_only is not None and gil_only(gil(0)) and not gil_only(state(0))


class LogApp(App[None]):
    def compose(self) -> ComposeResult:
        yield EventLog(id="log")


def test_the_story_of_cpu_threads_gil_folds_its_hand_offs() -> None:
    """Four CPU-bound threads: between the last start and 0.5 s, one line says the GIL
    changed hands 88 times, where every event would take 266 lines."""
    sim = Simulation(open_scenario("cpu-threads-gil"))
    sim.advance(0.5)
    events = sim.events

    async def lines() -> list[str]:
        app = LogApp()
        async with app.run_test(size=(100, 12)) as pilot:
            log = app.query_one(EventLog)
            log.rebuild(events, len(events), None, fold=True)
            while log.is_scanning:
                await pilot.pause()
            region = log.scrollable_content_region
            return [strip.text.rstrip() for strip in log._lines(region.width, region.height)]

    assert asyncio.run(lines())[-5:] == [
        "   45ms count-4 was handed over with executor.submit; its future is pending.",
        "   45ms A new thread: thread-4.",
        "   45ms ⋯ the GIL changed hands 4 times, 8 lane state changes, to 60ms",
        "   60ms count-4 started running on thread-4.",
        "   60ms ⋯ the GIL changed hands 88 times, 177 lane state changes, 1 future state"
        " change, to 500ms",
    ]


def test_folding_a_million_events_costs_what_is_visible() -> None:
    """1,000,000 GIL hand-offs with a start every 100,000: the first frame wraps a
    screen's rows, then each frame drawn folds one slice, newest first."""
    handed = gil(1)
    events: list[Event] = [started(k) if k % 100_000 == 0 else handed for k in range(1_000_000)]

    async def run() -> tuple[int, int, int]:
        app = LogApp()
        async with app.run_test(size=(100, 12)) as pilot:
            log = app.query_one(EventLog)
            log.rebuild(events, len(events), None, fold=True)
            first, left = log.wrapped, log.scanned
            turns = 0
            while log.is_scanning:
                await pilot.pause()
                turns += 1
            return first, left, len(log.entries), turns

    first, left, rows, turns = asyncio.run(run())
    assert first <= 2 * 12
    assert left == 1_000_000 - 1_000  # a screen's worth before the first frame, the rest after
    assert rows == 20  # 10 starts, each followed by its stretch
    assert turns <= left // _FOLD_SCAN + 1  # a slice of _FOLD_SCAN events per frame


def test_the_errors_view_keeps_a_re_raise_and_a_failed_end() -> None:
    """main's result() re-raising job-2's error is the lesson of an errors view."""
    from concsim.events import Outcome, ResultReceived, TaskEnded

    errors = LogKind.ERRORS.keeps()
    assert errors is not None
    raised = ResultReceived(t=0.2, seq=1, task="job-2", value=None, error="ConnectionError")
    assert errors(raised)
    assert not errors(ResultReceived(t=0.2, seq=1, task="job-1", value=1, error=None))
    failed = TaskEnded(t=0.2, seq=2, task="job-2", outcome=Outcome.FAILED, error="E")
    assert errors(failed)


def _shape(rows: Rows) -> list[object]:
    """The rows as what they show: an event's index, or a stretch's span and counts."""
    shown: list[object] = []
    for row in rows:
        stretch = rows.stretch(row)
        shown.append(row if stretch is None else (stretch.first, stretch.last, stretch.counts))
    return shown


@pytest.mark.parametrize("name", ["cpu-threads-gil", "race-lost-update", "process-overhead"])
def test_a_step_back_cuts_the_rows_it_has_as_a_fresh_fold_would(name: str) -> None:
    """A step back shows the same history to an earlier event: the rows are cut there, a
    stretch cut short counted again, never the whole run folded anew."""
    sim = Simulation(open_scenario(name))
    events = list(sim.run())
    for count in sorted({len(events) - 1, len(events) // 2, len(events) // 3, 7, 1}):
        rows = Rows(fold=True)
        rows.scan_back(events, len(events), len(events) // 2, None)  # a scan half done
        rows.scan_back(events, len(events) // 2, 0, None)
        rows.truncate(events, count, None)
        assert _shape(rows) == _shape(fold(events[:count])), count


def test_a_step_back_in_the_app_does_not_fold_the_run_again(tmp_path: Path) -> None:
    async def run() -> tuple[bool, int, int]:
        app = LogApp()
        async with app.run_test(size=(100, 12)) as pilot:
            sim = Simulation(open_scenario("cpu-threads-gil"))
            events = list(sim.run())
            log = app.query_one(EventLog)
            log.rebuild(events, len(events), None, fold=True)
            await pilot.pause()
            rows = log.rows
            log.rebuild(events, len(events) - 1, None, fold=True)  # the same list, one less
            return log.rows is rows and not log.is_scanning, log.known, len(events) - 1

    same, known, expected = asyncio.run(run())
    assert same and known == expected
