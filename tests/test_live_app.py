"""The app driven by a live run: the lanes and log read the real program's events."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from concsim.events import LaneCreated, RunEnded
from concsim.export.outcome import outcome
from concsim.live.app import live_factory
from concsim.ui.app import make_app


@pytest.fixture(autouse=True)
def _quiet_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("TEXTUAL_ANIMATIONS", "none")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))


async def _follow(tmp_path: Path, key: str | None = None) -> tuple[list, int]:
    app = make_app(
        run="io-threads",
        variant="two-workers",
        factory=live_factory,
        speed=1.0,
        keymap={},
        replay_dir=tmp_path,
        theme="textual-dark",
    )
    async with app.run_test(size=(120, 40)) as pilot:
        session = app.run_screen.session
        pid = session.sim.session.run.process.pid
        for _ in range(600):  # until the program has ended and its events are drawn
            await pilot.pause(0.02)
            if session.finished:
                break
        await pilot.pause()
        events = list(session.events)
    return events, pid


def test_the_app_follows_the_program_as_it_runs(tmp_path: Path) -> None:
    """Five downloads on two threads: the same lanes and results as the simulator's."""
    events, _ = asyncio.run(_follow(tmp_path))
    assert isinstance(events[-1], RunEnded)
    result = outcome(events)
    assert result["main"] == {"outcome": "ok", "error": None}
    assert sorted(result["results"]) == [f"page {i}" for i in range(1, 6)]
    assert [e.lane for e in events if isinstance(e, LaneCreated)] == [
        "main",
        "thread-1",
        "thread-2",
    ]
    assert 1.4 < result["elapsed"] < 3.0
