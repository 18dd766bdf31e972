"""S saves an SVG of the screen where replays go, under a new name, and says where."""

from __future__ import annotations

from pathlib import Path

import pytest
from appkit import build, sync


@pytest.fixture(autouse=True)
def _quiet_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("TEXTUAL_ANIMATIONS", "none")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))


@sync
async def test_s_saves_an_svg_of_the_screen_under_a_new_name(tmp_path: Path) -> None:
    """Twice S: io-threads-seed0.svg, then io-threads-seed0-2.svg, each named in a note."""
    app, notes = build("io-threads", tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        app.advance_to(0.2)
        await pilot.press("S")
        await pilot.press("S")
    first, second = tmp_path / "io-threads-seed0.svg", tmp_path / "io-threads-seed0-2.svg"
    assert notes[-2:] == [f"Saved a screenshot to {first}.", f"Saved a screenshot to {second}."]
    svg = first.read_text(encoding="utf-8")
    assert svg.startswith("<svg") and "thread-1" in svg
    assert app._exception is None
