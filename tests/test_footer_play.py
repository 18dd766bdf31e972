"""The footer's play/pause key says what it does now: ``Play`` while paused, ``Pause``
while the run plays."""

from __future__ import annotations

from pathlib import Path

from appkit import Clock, sync
from textual.widgets._footer import FooterKey

from concsim.ui.app import ConcsimApp, make_app


def _play_word(app: ConcsimApp) -> str:
    keys = app.run_screen.query(FooterKey)
    return next(key.description for key in keys if key.action == "toggle_play")


@sync
async def test_the_play_key_reads_pause_while_playing(tmp_path: Path) -> None:
    """space plays (the footer then says Pause), space again pauses (Play)."""
    app = make_app(
        run="io-threads",
        paused=True,
        keymap={},
        theme="textual-dark",
        replay_dir=tmp_path,
        clock=Clock(),
    )
    assert isinstance(app, ConcsimApp)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        assert _play_word(app) == "Play"
        await pilot.press("space")
        await pilot.pause()
        assert app.run_screen.playing
        assert _play_word(app) == "Pause"
        await pilot.press("space")
        await pilot.pause()
        assert not app.run_screen.playing
        assert _play_word(app) == "Play"
