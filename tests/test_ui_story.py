"""The story on the run screen: m selects a lane's marks, w lights the why chain and the log
tells it; the legend names what the lanes on screen show."""

from __future__ import annotations

from pathlib import Path

import pytest
from appkit import build, sync

from concsim.palette import CUE_LOOKS, Cue
from concsim.ui.legend import legend_of
from concsim.ui.widgets.eventlog import EventLog
from concsim.ui.widgets.panels import Legend


@pytest.fixture(autouse=True)
def _quiet_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("TEXTUAL_ANIMATIONS", "none")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))


@sync
async def test_m_selects_the_raise_and_w_lights_its_chain(tmp_path: Path) -> None:
    """On thread-2, m picks job-2's raise; w lights the chain on three rows and the log
    shows its events only; w again puts it out and every event is back."""
    app, notes = build("failure-during-as-completed", tmp_path)
    async with app.run_test(size=(120, 36)) as pilot:
        screen = app.run_screen
        app.advance_to(2.0)
        assert screen.lanes.select_row("thread-2")
        await pilot.press("m")
        assert screen.mark == 0
        assert (
            notes[-1]
            == "200ms: ConnectionError was raised in job-2 at raise ConnectionError. (w: why)"
        )
        assert screen.lanes.lit == {"thread-2": [(0.2, 0.2)]}
        await pilot.press("w")
        await pilot.pause()
        assert screen.chain is not None
        assert sorted(screen.lanes.lit) == ["main", "thread-1", "thread-2"]
        log = screen.query_one(EventLog)
        while log.is_scanning:
            await pilot.pause()
        shown = [screen.session.events[k] for k in log.entries]
        assert [e.seq for e in shown] == [
            screen.session.events[link.index].seq for link in screen.chain
        ]
        assert log.border_title == "why · w again for the story"
        await pilot.press("w")
        assert screen.chain is None and screen.lanes.lit == {"thread-2": [(0.2, 0.2)]}
        assert log.border_title == "events · story · E every event"
        await pilot.press("E")
        assert len(log.entries) == screen.session.seen  # every event, one row each
    assert app._exception is None


@sync
async def test_the_legend_is_what_the_lanes_on_screen_show(tmp_path: Path) -> None:
    """race-lost-update: ≠ appears in the legend once a lost update is on screen, not before."""
    app, _ = build("race-lost-update", tmp_path)
    async with app.run_test(size=(120, 36)) as pilot:
        screen = app.run_screen
        lost = CUE_LOOKS[Cue.LOST_UPDATE]
        app.advance_to(0.01)
        await pilot.pause()
        await pilot.pause()
        legend = screen.query_one(Legend)
        assert f"{lost.mark} {lost.words}" not in str(legend.render())
        app.advance_to(0.03)
        await pilot.pause()
        await pilot.pause()
        width = legend.content_size.width
        assert str(legend.render()) == legend_of(screen.lanes.drawn(), width).plain
        assert f"{lost.mark} {lost.words}" in str(legend.render())
    assert app._exception is None
