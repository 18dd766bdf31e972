"""The work a key does on the UI thread follows what it changes on screen, not the run's
length: counted here (footer recompositions, engines built on the UI thread), never timed."""

from __future__ import annotations

import threading
from pathlib import Path

from appkit import Clock, build, sync
from textual.pilot import Pilot
from textual.widgets._footer import FooterKey

from concsim.ui.jobs import INLINE, JobKind
from concsim.ui.screens.help import HelpScreen
from concsim.ui.session import Session
from concsim.ui.widgets.footer import KeysFooter


def _play_key(footer: KeysFooter) -> FooterKey:
    return next(key for key in footer.query(FooterKey) if key.action == "toggle_play")


async def _composed(pilot: Pilot[int], footer: KeysFooter) -> None:
    """Wait for the footer's first keys (composed once the screen's bindings are known)."""
    while not footer.query(FooterKey):
        await pilot.pause()


@sync
async def test_play_and_pause_change_the_footer_key_in_place(tmp_path: Path) -> None:
    """space and space again: the footer's play key says Pause, then Play, the same
    widget each time; no key of the footer is mounted again."""
    app, _ = build("io-threads", tmp_path, clock=Clock())
    async with app.run_test(size=(100, 30)) as pilot:
        footer = app.run_screen.query_one(KeysFooter)
        await _composed(pilot, footer)
        key, keys, composed = _play_key(footer), list(footer.query(FooterKey)), footer.recomposed
        assert key.description == "Play"
        await pilot.press("space")
        await pilot.pause()
        assert key.description == "Pause" and _play_key(footer) is key
        await pilot.press("space")
        await pilot.pause()
        assert key.description == "Play"
        assert list(footer.query(FooterKey)) == keys and footer.recomposed == composed
    assert app._exception is None


@sync
async def test_the_footer_is_composed_anew_when_its_keys_change(tmp_path: Path) -> None:
    """Narrowed below 90 columns the footer leaves keys out: composed anew, once."""
    app, _ = build("io-threads", tmp_path, clock=Clock())
    async with app.run_test(size=(100, 30)) as pilot:
        footer = app.run_screen.query_one(KeysFooter)
        await _composed(pilot, footer)
        wide, composed = [key.action for key in footer.query(FooterKey)], footer.recomposed
        await pilot.resize_terminal(80, 30)
        await pilot.pause()
        narrow = [key.action for key in footer.query(FooterKey)]
        assert len(narrow) < len(wide) and footer.recomposed == composed + 1
    assert app._exception is None


@sync
async def test_a_refused_fault_on_a_big_run_is_taken_back_off_the_ui_thread(
    tmp_path: Path,
) -> None:
    """k on main of process-overhead at 40 ms (3,515 events shown) is refused at once; the
    history is made again without it on a worker (no engine built on the UI thread), and
    ends as it was: same playhead, same events, no injection."""
    app, notes = build("process-overhead", tmp_path, clock=Clock())
    built: list[bool] = []
    original = Session.fresh

    def fresh(self: Session, injections: object) -> object:
        built.append(threading.current_thread() is threading.main_thread())
        return original(self, injections)  # type: ignore[arg-type]

    Session.fresh = fresh  # type: ignore[method-assign,assignment]
    try:
        async with app.run_test(size=(120, 36)) as pilot:
            screen = app.run_screen
            app.advance_to(0.04)
            session = screen.session
            before = [event.to_dict() for event in session.events[: session.seen]]
            assert session.seen > INLINE and not session.run.ahead()
            screen.lanes.select_row("main")
            started: list[JobKind] = []
            start = screen._start
            screen._start = lambda job: (started.append(job.kind), start(job))[1]  # type: ignore[method-assign]
            await pilot.press("k")
            assert started == [JobKind.REFUSED]
            assert any("threads cannot be killed" in note for note in notes)
            await screen.wait_idle()
            await pilot.pause()
            assert built == [False]
            assert session.injections == () and session.now == 0.04
            assert [event.to_dict() for event in session.events[: session.seen]] == before
    finally:
        Session.fresh = original  # type: ignore[method-assign]
    assert app._exception is None


@sync
async def test_help_is_built_once_and_again_after_a_new_theme(tmp_path: Path) -> None:
    """? twice shows the same help screen (its table measured and drawn once); a new theme
    drops it: the next ? builds one in the new colours."""
    app, _ = build("io-threads", tmp_path, clock=Clock())
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("?")
        first = app.screen
        assert isinstance(first, HelpScreen)
        await pilot.press("escape", "?")
        assert app.screen is first
        await pilot.press("escape")
        app.theme = "textual-light"
        await pilot.pause()
        await pilot.press("?")
        assert isinstance(app.screen, HelpScreen) and app.screen is not first
        await pilot.press("escape")
        assert app.screen is app.run_screen
    assert app._exception is None
