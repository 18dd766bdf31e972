"""Moving in time on the run screen: > and < land on marks, g and a click on the ruler seek,
shift+←/→ pan while paused, and the lessons' "before 0.3 s" can be done exactly."""

from __future__ import annotations

from pathlib import Path

import pytest
from appkit import build, sync
from textual.widgets import Input, Static

from concsim.durations import format_time
from concsim.engine import Injection, Simulation
from concsim.events import FaultInjected, ResultReceived, SharedWritten
from concsim.replay import open_scenario
from concsim.ui.screens.run import RunScreen
from concsim.ui.screens.seek import SeekScreen
from concsim.ui.seeking import read_time


@pytest.fixture(autouse=True)
def _quiet_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("TEXTUAL_ANIMATIONS", "none")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))


@sync
async def test_next_mark_lands_on_each_lost_update_and_back(tmp_path: Path) -> None:
    """race-lost-update: > shows events up to the first lost update's write (selected, its
    lane selected, its sentence said), > again the next mark, < back to the first."""
    app, notes = build("race-lost-update", tmp_path)
    async with app.run_test(size=(120, 36)) as pilot:
        screen = app.run_screen
        session = screen.session
        marks = []
        for _ in range(3):
            await pilot.press(">")
            marks.append(session.seen - 1)
        story = session.timeline.story
        first = story.moments[0]
        assert marks[0] == first.index and isinstance(session.events[first.index], SharedWritten)
        assert [m.index for m in story.moments[:3]] == marks
        assert screen.mark == 2 and screen.lanes.selected_track.row_id == story.moments[2].row
        await pilot.press("<", "<")
        assert session.seen == marks[0] + 1 and screen.mark == 0
        event = session.events[marks[0]]
        assert notes[-1] == f"{format_time(event.t)}: {event.why} (w: why)"
        await pilot.press("<")
        assert notes[-1] == "No mark before this one." and session.seen == marks[0] + 1
    assert app._exception is None


@sync
async def test_next_mark_counts_a_result_main_received(tmp_path: Path) -> None:
    """io-threads: the first mark is main receiving a result (a tick on main's row)."""
    app, notes = build("io-threads", tmp_path)
    async with app.run_test(size=(120, 36)) as pilot:
        session = app.run_screen.session
        await pilot.press(">")
        event = session.events[session.seen - 1]
        assert isinstance(event, ResultReceived) and notes[-1] == f"500ms: {event.why}"
        assert app.run_screen.lanes.selected_track.row_id == "main"
        await pilot.press("end", ">")
        assert notes[-1] == "The run has finished: < goes back to the previous mark."
    assert app._exception is None


@sync
async def test_g_puts_the_playhead_at_a_typed_time_and_says_what_is_wrong(tmp_path: Path) -> None:
    """g, "abc", enter: one line under the input says what to type, the line stays open;
    "350ms" then moves the playhead to 0.35 s; g, esc leaves it there."""
    app, _ = build("io-threads", tmp_path)
    async with app.run_test(size=(120, 36)) as pilot:
        screen = app.run_screen
        await pilot.press("g", *"abc", "enter")
        assert isinstance(app.screen, SeekScreen)
        error = app.screen.query_one("#seek-error", Static)
        assert str(error.render()) == "'abc' is not a time: type one such as 1.2s, 350ms or 0.35"
        app.screen.query_one(Input).value = ""
        await pilot.press(*"350ms", "enter")
        assert app.screen is screen and screen.session.now == 0.35
        await pilot.press("g", "escape")
        assert app.screen is screen and screen.session.now == 0.35
        await pilot.press("g", *"0.1", "enter")  # back: from a checkpoint of the history
        assert screen.session.now == 0.1
        assert all(e.t <= 0.1 for e in screen.session.events[: screen.session.seen])
    assert app._exception is None


@sync
async def test_a_click_on_the_ruler_seeks_to_its_column(tmp_path: Path) -> None:
    """A click on the ruler's 31st bar column puts the playhead at that column's time."""
    app, _ = build("io-threads", tmp_path)
    async with app.run_test(size=(120, 36)) as pilot:
        screen = app.run_screen
        lanes = screen.lanes
        await pilot.pause()
        columns, window = lanes.columns, lanes.window
        await pilot.click(lanes, offset=(columns.name + 30, 0))
        assert screen.session.now == pytest.approx(window.t0 + 30 * window.dt)
        await pilot.click(lanes, offset=(columns.name + 2, 0))  # back
        assert screen.session.now == pytest.approx(window.t0 + 2 * window.dt)
    assert app._exception is None


@sync
async def test_pan_and_zoom_while_paused_stay_off_the_playhead(tmp_path: Path) -> None:
    """Paused at 1 s of sequential-io (2.5 s), zoomed in twice: about the playhead, the middle of
    the whole run being still to come; shift+← pans a quarter of the bar earlier, and a
    zoom then keeps that window's middle, not the playhead; playing follows it again."""
    app, notes = build("sequential-io", tmp_path)
    async with app.run_test(size=(120, 36)) as pilot:
        screen = app.run_screen
        lanes = screen.lanes
        app.advance_to(1.0)
        await pilot.press("shift+right")
        assert notes[-1] == "The whole run is in view: + zooms in, then shift+←/→ pans."
        whole = lanes.window
        await pilot.press("+", "+")
        zoomed = lanes.window
        # About the playhead: within a column of it, and half a column more when the bar's
        # width is odd (its middle falls inside a column).
        near = (1.5 if zoomed.width % 2 else 1.0) * zoomed.dt + 1e-9
        assert zoomed.dt < whole.dt and abs(zoomed.t0 + zoomed.dt * zoomed.width / 2 - 1.0) <= near
        await pilot.press("shift+left")
        quarter = lanes.columns.bar // 4
        panned = lanes.window
        assert panned.t0 == pytest.approx(zoomed.t0 - quarter * zoomed.dt)
        middle = panned.t0 + panned.dt * panned.width / 2
        await pilot.press("+")
        closer = lanes.window
        assert closer.dt < panned.dt
        near = (1.5 if closer.width % 2 else 1.0) * closer.dt + 1e-9
        assert abs(closer.t0 + closer.dt * closer.width / 2 - middle) <= near
        await pilot.press("shift+right", "shift+left")
        assert lanes.window == closer
        await pilot.press("space")
        assert lanes.viewport.t0 is None  # following the playhead again
    assert app._exception is None


@pytest.mark.parametrize(
    ("name", "injection", "main", "tasks"),
    [
        (
            "wait-for-cleanup",
            Injection(0.8, "cancel", "query"),
            {"outcome": "raised", "error": "CancelledError"},
            {"query": ("cancelled", "ran")},
        ),
        (
            "taskgroup-cancels-siblings",
            Injection(0.2, "fail", "slow"),
            {"outcome": "raised", "error": "ExceptionGroup"},
            {"slow": ("failed", "ran"), "fails": ("cancelled", "none")},
        ),
    ],
)
def test_a_lessons_try_this_ends_as_its_notes_say(
    name: str, injection: Injection, main: dict[str, str], tasks: dict[str, tuple[str, str]]
) -> None:
    """wait-for-cleanup: a cancel before 0.9 s reaches main as CancelledError, the cleanup
    run; taskgroup-cancels-siblings: slow failing at 0.2 s cancels fails before it raises."""
    from concsim.export.outcome import outcome

    sim = Simulation(open_scenario(name), injections=(injection,))
    result = outcome(sim.run())
    assert result["main"] == main
    ended = {t["name"]: (t["outcome"], t["cleanup"]) for t in result["tasks"]}
    assert {name: ended[name] for name in tasks} == tasks


def _headless(name: str, injection: Injection, variant: str | None = None) -> list[dict]:
    sim = Simulation(open_scenario(name), variant=variant, injections=(injection,))
    return [event.to_dict() for event in sim.run()]


@pytest.mark.parametrize(
    ("name", "variant", "time", "lane", "key", "fault"),
    [
        ("taskgroup-cancels-siblings", None, "0.2s", "slow", "f", "fail"),
        ("wait-for-cleanup", None, "0.8s", "query", "c", "cancel"),
        ("shutdown-cancel-futures", None, "0.1", "thread-1", "f", "fail"),
        ("ctrl-c-shutdown", "asyncio", "0.5s", "main", "i", "interrupt"),
        ("ctrl-c-shutdown", "thread-pool", "0.5s", "main", "i", "interrupt"),
        ("ctrl-c-shutdown", "daemon-threads", "0.5s", "main", "i", "interrupt"),
        ("structured-logging", None, "0.2s", "thread-3", "f", "fail"),
        ("broken-process-pool", None, "0.29s", "process-1", "k", "kill"),
    ],
)
@sync
async def test_a_lessons_fault_lands_exactly_at_the_time_typed(
    tmp_path: Path, name: str, variant: str | None, time: str, lane: str, key: str, fault: str
) -> None:
    """The "Try this" of a lesson with a time: g TIME, select the lane, the fault key, end:
    the run is event for event the headless run with that fault injected at that time."""
    app, _ = build(name, tmp_path, variant=variant)
    async with app.run_test(size=(120, 36)) as pilot:
        screen = app.run_screen
        await pilot.press("g", *time, "enter")
        assert screen.lanes.select_row(lane)
        await pilot.press(key, "end")
        await screen.wait_idle()
        session = screen.session
        at = read_time(time)
        (landed,) = [e for e in session.events if isinstance(e, FaultInjected) and e.t == at]
        assert landed.fault == fault and session.finished
        shown = [event.to_dict() for event in session.events]
    assert shown == _headless(name, Injection(at, fault, landed.target), variant)
    assert app._exception is None


@sync
async def test_a_step_back_keeps_the_logs_wrapped_lines(tmp_path: Path) -> None:
    """io-threads at 0.5 s: a step back hides the newest event and wraps at most the one
    that comes into view at the top; the lines already wrapped are kept."""
    from concsim.ui.widgets.eventlog import EventLog

    app, _ = build("io-threads", tmp_path)
    async with app.run_test(size=(120, 36)) as pilot:
        screen = app.run_screen
        app.advance_to(0.4)
        await pilot.pause()
        log = screen.query_one(EventLog)
        wrapped, seen = log.wrapped, screen.session.seen
        await pilot.press(",")
        await pilot.pause()
        assert log.known == seen - 1 and log.wrapped - wrapped <= 1
    assert app._exception is None


@sync
async def test_moving_over_one_history_leaves_the_collector_alone(tmp_path: Path) -> None:
    """, . g over one engine's history drop no engine (nothing for a full collection to
    find); a new seed drops one."""
    app, _ = build("io-threads", tmp_path)
    async with app.run_test(size=(120, 36)) as pilot:
        screen = app.run_screen
        app.advance_to(0.4)
        await pilot.press(",", ",", ".", "g", *"0.1", "enter", "<")
        assert screen.heap.dropped_runs == 0
        await pilot.press("N")
        await screen.wait_idle()
        assert screen.heap.dropped_runs == 1
    assert app._exception is None


@sync
async def test_the_wheel_over_the_bars_pans_while_paused(tmp_path: Path) -> None:
    """sequential-io paused at 1 s, zoomed in: the wheel down over the bars pans 4 columns
    later, up 4 back; over the lanes' names it does not pan."""
    from textual.events import MouseScrollDown, MouseScrollUp

    app, _ = build("sequential-io", tmp_path)
    async with app.run_test(size=(120, 36)) as pilot:
        screen = app.run_screen
        lanes = screen.lanes
        app.advance_to(1.0)
        await pilot.press("+", "+")
        before = lanes.window
        over_bars = (lanes.columns.name + 10, 2)
        # Pilot has no wheel of its own: its mouse events helper sends one as a terminal would.
        await pilot._post_mouse_events([MouseScrollDown], lanes, offset=over_bars)
        await pilot.pause()
        assert lanes.window.t0 == pytest.approx(before.t0 + 4 * before.dt)
        await pilot._post_mouse_events([MouseScrollUp], lanes, offset=over_bars)
        await pilot.pause()
        assert lanes.window.t0 == pytest.approx(before.t0)
        await pilot._post_mouse_events([MouseScrollDown], lanes, offset=(2, 2))
        await pilot.pause()
        assert lanes.window.t0 == pytest.approx(before.t0)
    assert app._exception is None


class _Ticking:
    """A wall clock that moves a second at every look: every budget is spent at once."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        self.now += 1.0
        return self.now


@sync
async def test_a_far_mark_is_looked_for_frame_by_frame_until_found(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """> with the next mark beyond what one frame may simulate: the search goes on a frame
    at a time (keys are answered meanwhile) and lands on the mark; a step ends it."""
    # The test makes the frames itself: the screen's own timer makes none.
    tick = RunScreen.tick
    monkeypatch.setattr(RunScreen, "tick", lambda self: None)
    path = tmp_path / "far.yaml"
    path.write_text(
        "name: far\n"
        "tasks:\n"
        "  - {name: spin, steps: [{cpu: 8s}]}\n"
        "  - {name: late, steps: [{cpu: 4s}, {raise: ValueError, message: late}]}\n"
    )
    app, _ = build(str(path), tmp_path)  # a clock that never moves: one search finds it
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press(">")
        raised = app.run_screen.session.seen - 1
        assert type(app.run_screen.session.events[raised]).__name__ == "ExceptionRaised"
    app, notes = build(str(path), tmp_path, clock=_Ticking())
    async with app.run_test(size=(120, 36)) as pilot:
        screen = app.run_screen
        session = screen.session
        await pilot.press(">")
        assert notes[-1] == "Looking for the next mark… (any move stops)"
        assert screen._hunt is not None and session.seen < raised
        # A move of the playhead ends a search under way.
        await pilot.press(".")
        stepped = session.seen
        tick(screen)
        assert screen._hunt is None and session.seen == stepped
        await pilot.press(">")
        frames = 0
        while screen._hunt is not None:
            tick(screen)
            frames += 1
        assert frames > 1 and session.seen == raised + 1
        assert notes[-1].endswith("(w: why)") and "ValueError" in notes[-1]
    assert app._exception is None


@sync
async def test_page_down_and_up_scroll_the_notes_to_try_this(tmp_path: Path) -> None:
    """A lesson's "Try this" is often below the notes' fold: PgDn (what a terminal sends
    as ``pagedown``) scrolls the notes a page on, PgUp back; with the notes hidden it says
    how to show them."""
    from concsim.ui.widgets.panels import NotesPanel

    app, notes = build("lock-timeout-back-off", tmp_path)
    async with app.run_test(size=(120, 36)) as pilot:
        panel = app.run_screen.query_one(NotesPanel)
        await pilot.pause()
        assert panel.max_scroll_y > 0 and panel.scroll_y == 0
        await pilot.press("pagedown")
        await pilot.pause()
        assert panel.scroll_y > 0
        await pilot.press("pageup")
        await pilot.pause()
        assert panel.scroll_y == 0
        await pilot.press("o", "pagedown")  # the code in the notes' place
        assert notes[-1] == "The notes are not shown: n shows them."
    assert app._exception is None
