"""The app's behaviour under Pilot: selection, faults reaching the engine, stepping, replay."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from appkit import Clock, sync

from concsim.engine import Injection
from concsim.events import GilChanged
from concsim.replay import load_replay
from concsim.ui.app import ConcsimApp, make_app
from concsim.ui.launch import launch
from concsim.ui.screens.browser import BrowserScreen
from concsim.ui.screens.run import RunScreen

FIXTURES = Path(__file__).parent / "fixtures" / "ui"


@pytest.fixture(autouse=True)
def _quiet_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.delenv("TEXTUAL_THEME", raising=False)
    monkeypatch.setenv("TEXTUAL_ANIMATIONS", "none")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))


def build(target: str, tmp_path: Path, **options: Any) -> ConcsimApp:
    options.setdefault("keymap", {})
    app = make_app(
        run=target,
        paused=True,
        theme="textual-dark",
        replay_dir=tmp_path,
        clock=options.pop("clock", Clock()),
        **options,
    )
    app.notes: list[str] = []  # type: ignore[misc]
    original = app.notify

    def record(message: str, **kwargs: Any) -> None:
        app.notes.append(message)  # type: ignore[attr-defined]
        original(message, **kwargs)

    app.notify = record  # type: ignore[method-assign]
    return app


def screen_of(app: ConcsimApp) -> RunScreen:
    return app.run_screen


@sync
async def test_arrow_keys_and_clicks_select_lanes(tmp_path: Path) -> None:
    """↓ moves down a lane, ↑ back up, over the GIL rows (no fault key acts on one); a
    click on a row selects it, a GIL row too, and ↓ from there goes to the next lane."""
    app = build("io-threads", tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        lanes = screen_of(app).lanes
        rows = [track.row_id for track in lanes.timeline.rows]
        gil = [track.row_id for track in lanes.timeline.rows if track.is_gil]
        assert rows[:3] == ["main", gil[0], "thread-1"]
        assert lanes.selected_track.row_id == "main"
        await pilot.press("down", "down")
        assert lanes.selected_track.row_id == "thread-2"
        await pilot.press("up")
        assert lanes.selected_track.row_id == "thread-1"
        await pilot.press("up", "up")
        assert lanes.selected_track.row_id == "main"
        await pilot.click(lanes, offset=(2, 2))  # line 0 is the ruler
        assert lanes.selected_track.row_id == gil[0]
        await pilot.press("down")
        assert lanes.selected_track.row_id == "thread-1"
        await pilot.click(lanes, offset=(2, 5))
        assert lanes.selected_track.row_id == lanes.timeline.rows[4].row_id
    assert app._exception is None


@sync
async def test_a_fault_key_injects_into_the_selected_lanes_task(tmp_path: Path) -> None:
    """f on a busy worker records an injection on its task at the current time."""
    app = build("io-threads", tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        app.advance_to(0.2)
        screen = screen_of(app)
        screen.lanes.select_row("thread-2")
        task = screen.lanes.selected_track.task
        await pilot.press("f")
        assert screen.session.injections == (Injection(at=0.2, fault="fail", target=task),)
        await pilot.press("i")
        assert screen.session.injections[-1] == Injection(at=0.2, fault="interrupt", target="main")
    assert app._exception is None


@sync
async def test_a_fault_that_does_not_apply_explains_itself(tmp_path: Path) -> None:
    """k on a thread lane: a notification with CPython's reason, and the app carries on."""
    app = build("cpu-threads-gil", tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        app.advance_to(0.2)
        screen_of(app).lanes.select_row("thread-1")
        await pilot.press("k")
        screen_of(app).lanes.select_row("gil:main")
        await pilot.press("f")
    assert any("threads cannot be killed" in note for note in app.notes)  # type: ignore[attr-defined]
    assert any("GIL row" in note for note in app.notes)  # type: ignore[attr-defined]
    assert app._exception is None


@sync
async def test_step_back_and_rewind_resimulate_the_same_history(tmp_path: Path) -> None:
    """Step back lands on the previous event's time with the same events before it;
    rewind keeps the injections, so playing again repeats them."""
    app = build("io-threads", tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = screen_of(app)
        app.advance_to(0.25)
        await pilot.press("i")
        await pilot.press(".")  # the key a terminal sends for a step
        stepped_to = screen.session.now
        assert stepped_to > 0.25
        before = [e.to_dict() for e in screen.session.events]
        await pilot.press(",")
        after = [e.to_dict() for e in screen.session.events]
        assert screen.session.now < stepped_to and after == before[: len(after)]
        assert len(screen.session.injections) == 1
        await pilot.press("r")
        assert screen.session.now == 0.0 and len(screen.session.injections) == 1
    assert app._exception is None


@sync
async def test_playback_advances_by_speed_times_wall_time(tmp_path: Path) -> None:
    """The timer only asks for speed * wall dt of virtual time, read from the clock given."""
    clock = Clock()
    app = build("io-threads", tmp_path, clock=clock, speed=0.5)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = screen_of(app)
        await pilot.press("space")
        clock.now += 0.2
        screen.tick()
        assert screen.session.now == pytest.approx(0.1)
        await pilot.press("space")
        clock.now += 0.2
        screen.tick()
        assert screen.session.now == pytest.approx(0.1)
    assert app._exception is None


@sync
async def test_saved_replay_reopens_the_same_session(tmp_path: Path) -> None:
    """s writes a replay file; opening it replays the injections to the same events."""
    app = build("io-threads", tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = screen_of(app)
        app.advance_to(0.2)
        screen.lanes.select_row("thread-3")
        await pilot.press("h", "s")
        app.advance_to(10.0)
        events = [e.to_dict() for e in screen.session.events]
    saved = load_replay(tmp_path / "io-threads-seed0.replay.yaml")
    assert saved.scenario == "io-threads" and len(saved.injections) == 1
    again = make_app(replay=str(tmp_path / "io-threads-seed0.replay.yaml"), keymap={})
    assert again.session is not None
    again.session.advance_to(10.0)
    assert [e.to_dict() for e in again.session.events] == events


@sync
async def test_shift_t_exports_the_run_so_far_as_a_chrome_trace(tmp_path: Path) -> None:
    """T writes the run as it stands as a trace and says where; so does the palette command."""
    from concsim.export.trace import chrome_trace

    app = build("io-threads", tmp_path)
    path = tmp_path / "io-threads-seed0.trace.json"
    async with app.run_test(size=(100, 30)) as pilot:
        screen = screen_of(app)
        app.advance_to(0.2)
        await pilot.press("T")
        await pilot.pause()
        assert app.notes[-1] == f"Wrote {path} (up to 200ms); open it at ui.perfetto.dev."
        written = json.loads(path.read_text(encoding="utf-8"))
        assert written == chrome_trace(screen.session.events, now=0.2)
        commands = [c.title for c in app.get_system_commands(screen)]
        assert "Export trace" in commands
    assert app._exception is None


@sync
async def test_variants_switch_with_a_key(tmp_path: Path) -> None:
    """v cycles through the variants; each has its elapsed time measured."""
    app = build("cpu-threads-gil", tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = screen_of(app)
        assert set(screen.elapsed) == {None, "sequential", "processes", "gil-off"}
        await pilot.press("v")
        assert screen.session.variant == "sequential"
        await pilot.press("V", "V")
        assert screen.session.variant == "gil-off"
    assert app._exception is None


@sync
async def test_keys_can_be_remapped_from_the_keymap_file(tmp_path: Path) -> None:
    """fail = "x" in keymap.toml makes x inject a failure."""
    config = tmp_path / "config" / "concsim"
    config.mkdir(parents=True)
    (config / "keymap.toml").write_text('fail = "x"\n')
    app = build("io-threads", tmp_path, keymap=None)
    async with app.run_test(size=(100, 30)) as pilot:
        app.advance_to(0.2)
        screen_of(app).lanes.select_row("thread-1")
        await pilot.press("x")
        assert [i.fault for i in screen_of(app).session.injections] == ["fail"]


@sync
async def test_every_action_is_in_the_command_palette(tmp_path: Path) -> None:
    """Each binding of the run screen (but lane moves) is a palette command."""
    app = build("io-threads", tmp_path)
    async with app.run_test(size=(100, 30)):
        titles = {command.title for command in app.get_system_commands(app.screen)}
    for wanted in ("Play", "Step", "Back", "Fail", "Kill", "Ctrl-C", "Save replay", "Zoom in"):
        assert wanted in titles


@sync
async def test_browser_opens_a_scenario_and_escape_comes_back(tmp_path: Path) -> None:
    """Enter opens the highlighted scenario; esc returns to the list."""
    app = make_app([str(FIXTURES / "broken.yaml")], paused=True, keymap={}, clock=Clock())
    async with app.run_test(size=(100, 30)) as pilot:
        assert isinstance(app.screen, BrowserScreen)
        await pilot.press("enter")
        assert isinstance(app.screen, RunScreen)
        await pilot.press("escape")
        assert isinstance(app.screen, BrowserScreen)
        await pilot.press("end", "enter")  # the broken file: refused with a notification
        assert isinstance(app.screen, BrowserScreen)
    assert app._exception is None


def test_launch_reports_a_bad_file_and_returns_2(capsys: pytest.CaptureFixture[str]) -> None:
    """The positioned error lines go to stderr; no screen is opened."""
    code = launch(
        [],
        run=str(FIXTURES / "broken.yaml"),
        variant=None,
        seed=None,
        speed=1.0,
        paused=True,
        replay=None,
    )
    assert code == 2
    assert "broken.yaml:5:12: program.collect:" in capsys.readouterr().err


@sync
async def test_notes_follow_the_width_and_the_n_key(tmp_path: Path) -> None:
    """Notes sit beside the lanes from 120 columns, leaving them 80; below, n shows them in
    the place of the log, under lanes kept at full width; n hides them at any width."""
    app = build("io-threads", tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = screen_of(app)
        assert not screen.notes_shown and not screen.query_one("#notes").display
        assert not screen.query("NotesPanel Markdown")  # not built while hidden
        await pilot.press("n")
        await pilot.pause()
        notes, lanes = screen.query_one("#notes"), screen.query_one("#lanes")
        assert screen.notes_shown and screen.has_class("-narrow")
        assert not screen.query_one("#bottom").display  # the log's place is the notes'
        assert lanes.region.width == 80 and notes.region.width == 80
        assert notes.region.y > lanes.region.bottom and notes.region.height >= 8
        assert notes.border_title == "notes · n closes"
        await pilot.resize_terminal(120, 36)
        await pilot.pause()
        assert screen.notes_shown and not screen.has_class("-narrow")
        assert screen.query_one("#bottom").display
        assert lanes.region.width >= 80 and notes.region.x >= lanes.region.right
        assert notes.region.width >= 30
        assert screen.query("NotesPanel Markdown")
        await pilot.press("n")
        assert not screen.notes_shown and not notes.display
    assert app._exception is None


@sync
async def test_log_filter_and_zoom_keys(tmp_path: Path) -> None:
    """e keeps only the selected lane's events, E then only the GIL's among them; + zooms
    in and follows, 0 fits the run."""
    app = build("io-threads", tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        app.advance_to(0.3)
        screen = screen_of(app)
        screen.lanes.select_row("thread-2")
        await pilot.press("e")
        log = screen.query_one("#log")
        assert log.border_title == "events of thread-2 · story · E every event"
        kept = [e for e in screen.session.events if log.keep(e)]  # type: ignore[attr-defined]
        assert kept and len(kept) < len(screen.session.events)
        assert all("thread-2" in e.why or "request-2" in e.why for e in kept)
        await pilot.press("E", "E", "E", "E", "E")  # every event, errors, tasks, sync, GIL
        assert log.border_title == "events of thread-2 · GIL · E lane states"
        gil = [e for e in screen.session.events if log.keep(e)]  # type: ignore[attr-defined]
        assert gil and all(isinstance(e, GilChanged) and "thread-2" in e.why for e in gil)
        await pilot.press("+")
        assert not screen.lanes.viewport.fit
        await pilot.press("0")
        assert screen.lanes.viewport.fit
    assert app._exception is None


@sync
async def test_a_stalled_run_pauses_and_says_why(tmp_path: Path) -> None:
    """A deadlock leaves nothing to happen: playback stops with a note; end ends it as hung."""
    clock = Clock()
    app = build("deadlock-lock-order", tmp_path, clock=clock)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = screen_of(app)
        await pilot.press("space")
        for _ in range(5):
            clock.now += 0.05
            screen.tick()
        assert not screen.playing and screen.mode == "stalled"
        assert any("deadlocked or hung" in note for note in app.notes)  # type: ignore[attr-defined]
        await pilot.press("end")
        assert screen.session.finished and screen.mode == "finished"
    assert app._exception is None
