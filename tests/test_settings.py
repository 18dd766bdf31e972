"""The theme chosen in the app is remembered in settings.toml beside the keymap."""

from __future__ import annotations

from pathlib import Path

import pytest
from appkit import Clock, sync

from concsim.ui.app import make_app
from concsim.ui.settings import load_theme, save_theme, settings_path


@pytest.fixture(autouse=True)
def _config_home(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("TEXTUAL_ANIMATIONS", "none")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))


def test_the_settings_file_sits_beside_the_keymap(tmp_path: Path) -> None:
    """$XDG_CONFIG_HOME/concsim/settings.toml; a saved theme reads back; junk reads as None."""
    assert settings_path() == tmp_path / "config" / "concsim" / "settings.toml"
    assert load_theme() is None
    save_theme("textual-light")
    assert settings_path().read_text() == 'theme = "textual-light"\n'
    assert load_theme() == "textual-light"
    settings_path().write_text("theme = [")
    assert load_theme() is None


@sync
async def test_a_theme_changed_in_the_app_is_used_next_time(tmp_path: Path) -> None:
    """GIVEN no settings; WHEN the theme changes; THEN a new app starts with it."""
    app = make_app(run="io-threads", paused=True, keymap={}, clock=Clock(), replay_dir=tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        app.theme = "textual-light"
        await pilot.pause()
    assert load_theme() == "textual-light"
    again = make_app(run="io-threads", paused=True, keymap={}, clock=Clock(), replay_dir=tmp_path)
    async with again.run_test(size=(100, 30)):
        assert again.theme == "textual-light"


@sync
async def test_a_theme_given_is_not_saved(tmp_path: Path) -> None:
    """An app started with a theme (a test, a flag) leaves the user's settings alone."""
    app = make_app(run="io-threads", paused=True, keymap={}, clock=Clock(), theme="textual-dark")
    async with app.run_test(size=(100, 30)) as pilot:
        app.theme = "nord"
        await pilot.pause()
    assert not settings_path().exists()
