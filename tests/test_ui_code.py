"""The code view under Pilot: shown with o, kept at the playhead, its lines clicked."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from appkit import build, sync

from concsim.ui.app import ConcsimApp
from concsim.ui.codemap import lines_at
from concsim.ui.widgets import code as code_module
from concsim.ui.widgets.code import CodeView

THREADS = [f"thread-{n}" for n in range(1, 6)]


@pytest.fixture(autouse=True)
def _quiet_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("TEXTUAL_ANIMATIONS", "none")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))


def code_of(app: ConcsimApp) -> CodeView:
    return app.run_screen.query_one(CodeView)


def row_text(code: CodeView, y: int) -> str:
    return code.render_line(y).text


@sync
async def test_o_shows_the_program_with_each_lane_on_its_line(tmp_path: Path) -> None:
    """io-threads at 0.25 s: the five threads on time.sleep, main on as_completed."""
    app, _ = build("io-threads", tmp_path)
    async with app.run_test(size=(120, 36)) as pilot:
        app.advance_to(0.25)
        code = code_of(app)
        assert not code.display and code.cursor is None  # hidden: nothing folded
        await pilot.press("o")
        await pilot.pause()
        assert app.run_screen.code_on and code.display
        assert code.lanes_on(11) == THREADS
        assert code.line_of("main") == 19
        assert row_text(code, 10).startswith("11 ▶     time.sleep(0.5)")
        assert "◀ thread-1" in row_text(code, 10)
        assert row_text(code, 18).rstrip().endswith("◀ main")
        await pilot.press("o")
        await pilot.pause()
        assert not code.display
    assert app._exception is None


@sync
async def test_the_marks_follow_step_and_step_back(tmp_path: Path) -> None:
    """. moves one event at a time: the event that ends request-1 takes thread-1 off the
    code, the others still sleeping on line 11; , brings it back."""
    app, _ = build("io-threads", tmp_path)
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("o")
        await pilot.pause()
        code = code_of(app)
        assert code.lanes_on(11) == THREADS
        for _ in range(100):
            await pilot.press(".")
            await app.run_screen.wait_idle()
            if code.line_of("thread-1") is None:
                break
        assert app.run_screen.session.now == 0.5
        assert code.lanes_on(11) == THREADS[1:]  # thread-1 finished request-1
        await pilot.press(",")
        await app.run_screen.wait_idle()
        await pilot.pause()
        assert code.lanes_on(11) == THREADS
    assert app._exception is None


@sync
async def test_clicking_a_line_lights_its_lanes_and_selects_the_first(tmp_path: Path) -> None:
    """A click on line 11 lights the five threads since they came there, selects thread-1;
    a click on a line with no lane says so and puts the lights out."""
    app, notes = build("io-threads", tmp_path)
    async with app.run_test(size=(120, 36)) as pilot:
        app.advance_to(0.25)
        await pilot.press("o")
        await pilot.pause()
        code = code_of(app)
        top = code.region.y - code.content_region.y  # the border above the first line
        assert await pilot.click(CodeView, offset=(8, 10 - top))
        await pilot.pause()
        lanes = app.run_screen.lanes
        assert lanes.lit == {lane: [(0.0, 0.25)] for lane in THREADS}
        assert lanes.selected_id == "thread-1"
        assert notes[-1] == "Line 11 at 250ms: thread-1, thread-2, thread-3, thread-4, thread-5."
        assert code.picked == 11
        assert await pilot.click(CodeView, offset=(8, 1 - top))
        await pilot.pause()
        assert lanes.lit == {}
        assert notes[-1] == "No lane is on line 2 at 250ms."
    assert app._exception is None


@sync
async def test_the_selected_lanes_line_is_scrolled_into_view(tmp_path: Path) -> None:
    """At 80x24 the code takes the log's place and scrolls to main's with line at 0.3 s."""
    app, _ = build("failure-during-as-completed", tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("o")
        await pilot.pause()
        screen = app.run_screen
        assert screen.has_class("-code-below")
        assert not screen.query_one("#bottom").display  # the log makes room
        app.advance_to(0.3)
        await pilot.pause()
        await pilot.pause()
        code = code_of(app)
        assert code.line_of("main") == 42
        top, height = round(code.scroll_y), code.scrollable_content_region.height
        assert height > 5 and top <= 41 < top + height
        assert "◀ main" in row_text(code, 41 - top)
    assert app._exception is None


@sync
async def test_notes_and_code_take_turns_beside_the_lanes(tmp_path: Path) -> None:
    """At 160 columns the notes show; o puts the code in their place, n brings them back."""
    app, _ = build("io-threads", tmp_path)
    async with app.run_test(size=(160, 48)) as pilot:
        screen = app.run_screen
        notes = screen.query_one("#notes")
        assert notes.display
        await pilot.press("o")
        await pilot.pause()
        assert code_of(app).display and not notes.display
        await pilot.press("n")
        await pilot.pause()
        assert notes.display and not code_of(app).display
    assert app._exception is None


@sync
async def test_the_code_view_is_a_palette_command(tmp_path: Path) -> None:
    """The command palette lists it, with its key."""
    app, _ = build("io-threads", tmp_path)
    async with app.run_test(size=(120, 36)):
        commands = {c.title: c.help for c in app.get_system_commands(app.run_screen)}
        assert commands["Code"] == (
            "the program beside the lanes, each lane's current line marked (keys: o)"
        )
    assert app._exception is None


@sync
async def test_a_long_history_is_read_a_slice_a_turn(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Opened over many events, the view reads them a slice per turn (keys answered
    between), says how far it has read, then marks the lanes where a full fold puts them."""
    monkeypatch.setattr(code_module, "SLICE", 500)
    app, _ = build("process-overhead", tmp_path)
    async with app.run_test(size=(120, 36)) as pilot:
        app.advance_to(0.07)
        session = app.run_screen.session
        assert session.seen > 4 * 500
        code = code_of(app)
        said: list[str | None] = []
        follow = code.follow

        def told(*args: Any) -> None:
            follow(*args)
            said.append(None if code.border_subtitle is None else str(code.border_subtitle))

        code.follow = told  # type: ignore[method-assign]
        await pilot.press("o")
        for _ in range(100):
            await pilot.pause()
            if not code.behind and code.fold is not None:
                break
        seen = session.seen
        reading = [text for text in said if text is not None]
        assert reading == [f"reading the run {100 * k // seen}%" for k in range(500, seen, 500)]
        assert code.border_subtitle is None
        assert code.cursor is not None
        expected = lines_at(code.cursor.sites.program, session.events[: session.seen])
        assert code.fold is not None and code.fold.lines() == expected
        assert expected  # lanes are at work at 0.07 s
    assert app._exception is None


@sync
async def test_after_a_click_the_keys_still_move_the_lanes(tmp_path: Path) -> None:
    """The code view never takes the focus: ↓ after a click on a line selects the next lane."""
    app, _ = build("io-threads", tmp_path)
    async with app.run_test(size=(120, 36)) as pilot:
        app.advance_to(0.25)
        await pilot.press("o")
        await pilot.pause()
        code = code_of(app)
        top = code.region.y - code.content_region.y
        assert await pilot.click(CodeView, offset=(8, 10 - top))
        await pilot.press("down")
        await pilot.pause()
        assert app.run_screen.lanes.selected_id == "thread-2"
        assert [here.name for here in code.by_line[11] if here.selected] == ["thread-2"]
    assert app._exception is None


@sync
async def test_another_variant_shows_its_own_program(tmp_path: Path) -> None:
    """v switches to two-workers: its program, two threads on its time.sleep at 0.25 s."""
    app, _ = build("io-threads", tmp_path)
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("o", "v")
        await app.run_screen.wait_idle()
        app.advance_to(0.25)
        await pilot.pause()
        code = code_of(app)
        assert code.program is not None
        assert "with ThreadPoolExecutor(max_workers=2) as executor:" in code.program.source
        assert code.lanes_on(13) == ["thread-1", "thread-2"]  # a comment above: two lines on
        assert code.program.source.splitlines()[12] == "    time.sleep(0.5)  # requests.get(url)"
    assert app._exception is None
