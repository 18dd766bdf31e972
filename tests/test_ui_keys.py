"""The app under Pilot pressing what a terminal sends: quitting, key display, keymap, tiny sizes."""

from __future__ import annotations

from pathlib import Path

import pytest
from appkit import build, sync
from textual.content import Content
from textual.widgets import Footer
from textual.widgets._footer import FooterKey, FooterLabel

from concsim.ui.screens.browser import BrowserScreen


@pytest.fixture(autouse=True)
def _quiet_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.delenv("TEXTUAL_THEME", raising=False)
    monkeypatch.setenv("TEXTUAL_ANIMATIONS", "none")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))


def write_keymap(tmp_path: Path, text: str) -> Path:
    folder = tmp_path / "config" / "concsim"
    folder.mkdir(parents=True)
    (folder / "keymap.toml").write_text(text)
    return folder / "keymap.toml"


@sync
async def test_the_real_ctrl_c_quits(tmp_path: Path) -> None:
    """Ctrl-C ends the app at once, as in most terminal tools (i is the simulated one)."""
    app, _ = build("io-threads", tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("ctrl+c")
        await pilot.pause()
        assert not app.is_running
    assert app.return_code == 0 and app._exception is None


@sync
async def test_ctrl_c_quits_from_the_command_palette_too(tmp_path: Path) -> None:
    app, _ = build("io-threads", tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press("ctrl+c")
        await pilot.pause()
        assert not app.is_running
    assert app._exception is None


@sync
async def test_no_notification_shows_raw_markup(tmp_path: Path) -> None:
    """Textual's own notifications keep their markup; ours are plain text, brackets kept."""
    app, _ = build("io-threads", tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        app.notify("Press [b]ctrl+q[/b] to quit the app")  # as Textual's help_quit sends it
        app.run_screen.say("open [Errno 2] failed")
        await pilot.pause()
        shown = [
            Content.from_markup(note.message).plain if note.markup else note.message
            for note in app._notifications
        ]
    assert shown == ["Press ctrl+q to quit the app", "open [Errno 2] failed"]


@sync
async def test_footer_and_palette_show_keys_as_a_person_reads_them(tmp_path: Path) -> None:
    """The footer and the palette show . , ? (Textual's key display), never full_stop."""
    app, _ = build("io-threads", tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        footer = app.screen.query_one(Footer)
        keys = {key.action: key.key_display for key in footer.query(FooterKey)}
        words = [str(label.render()) for label in footer.query(FooterLabel)]
        helps = {c.title: c.help for c in app.get_system_commands(app.screen)}
    # ". , > < step": the four keys that move the playhead, grouped under one word
    assert keys["step"] == "." and keys["step_back"] == "," and keys["help"] == "?"
    assert keys["jump(1)"] == ">" and keys["jump(-1)"] == "<" and words[0] == "step"
    assert helps["Step"] == "the playhead on one event (keys: . →)"
    assert helps["Back"] == "the playhead back one event (keys: , ←)"
    assert helps["Next mark"] == (
        "on to the next mark of any lane (raised, re-raised, fault, cancel, lost update, "
        "result), and select it (keys: >)"
    )
    assert helps["Slower"] == "Slower (keys: [)"
    assert helps["Faster"] == "Faster (keys: ])"
    assert helps["Zoom in"] == "Zoom in (keys: + =)"
    assert helps["Help"] == "Help (keys: ?)"
    assert helps["Remove fault"] == (
        "take back the highlighted injected fault: re-simulates to now without it (keys: del ⌫)"
    )
    assert helps["Schedule"].startswith("be the scheduler: at the next point where")
    assert helps["Schedule"].endswith("(keys: x)")


@sync
async def test_the_readme_keymap_steps_with_period_and_l(tmp_path: Path) -> None:
    """step = "period,l" from the README: both . and l step, and the palette says so."""
    write_keymap(tmp_path, 'fail = "F"\nstep = "period,l"\nstep_back = "comma,j"\n')
    app, notes = build("io-threads", tmp_path, keymap=None)
    async with app.run_test(size=(100, 30)) as pilot:
        session = app.run_screen.session
        seen = session.seen
        await pilot.press("l")
        first = session.events[: session.seen]
        assert session.seen == seen + 1 and session.now == 0.5
        await pilot.press("j")
        assert session.seen == seen and session.now == 0.0
        await pilot.press(".")
        assert session.events[: session.seen] == first
        helps = {c.title: c.help for c in app.get_system_commands(app.screen)}
    assert helps["Step"] == "the playhead on one event (keys: . l)"
    assert notes == []  # no warning about the file
    assert app._exception is None


@sync
async def test_a_bad_keymap_is_reported_and_the_defaults_work(tmp_path: Path) -> None:
    """fail = 5: one warning naming the file; f still fails the selected task."""
    path = write_keymap(tmp_path, "fail = 5\n")
    app, notes = build("io-threads", tmp_path, keymap=None)
    async with app.run_test(size=(100, 30)) as pilot:
        app.advance_to(0.2)
        app.run_screen.lanes.select_row("thread-1")
        await pilot.press("f")
        assert [i.fault for i in app.run_screen.session.injections] == ["fail"]
    assert notes[0] == f'{path}: fail = 5 ignored: expected a string of keys, e.g. fail = "F"'
    assert app._exception is None


@sync
async def test_a_keymap_that_is_not_a_table_opens_the_app(tmp_path: Path) -> None:
    path = write_keymap(tmp_path, 'keymap = "F"\n')
    app, notes = build("io-threads", tmp_path, keymap=None)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press(".")
        assert app.run_screen.session.now == 0.5
    assert notes[0].startswith(f"{path}: ignored, keymap must be a [keymap] table")
    assert app._exception is None


@pytest.mark.parametrize("size", [(34, 12), (20, 6), (10, 3), (3, 2), (1, 1)])
@sync
async def test_the_browser_survives_tiny_terminals(tmp_path: Path, size: tuple[int, int]) -> None:
    """Below 35 columns, down to 1x1: drawn, keys answered, no crash."""
    app, _ = build(None, tmp_path)
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, BrowserScreen)
        await pilot.press("down", "?")
        await pilot.pause()
        await pilot.press("escape")
        await pilot.resize_terminal(2, 1)
        await pilot.pause()
        await pilot.resize_terminal(*size)
        await pilot.pause()
    assert app._exception is None
