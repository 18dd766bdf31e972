"""The explore view: X runs many seeds as a live histogram; enter opens a bar's first seed."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from appkit import build, sync

from concsim.engine import Injection
from concsim.explore import explore
from concsim.scenario.library import find_scenario
from concsim.scenario.loader import load_scenario
from concsim.ui.screens import explore as explore_view
from concsim.ui.screens.explore import ExploreScreen
from concsim.ui.screens.run import RunScreen


async def _finished(app: object, screen: ExploreScreen) -> None:
    for _ in range(600):  # the runs go on in worker processes: wait for them, not a time
        if screen.found is not None and screen.found.histogram.runs == screen.runs:
            await asyncio.sleep(0.05)  # the last redraw
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the exploration did not finish in 30 s")


@sync
async def test_x_explores_and_enter_opens_the_chosen_outcome(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(explore_view, "RUNS", 24)
    app, notes = build("race-lost-update", tmp_path)
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("X")
        screen = app.screen
        assert isinstance(screen, ExploreScreen)
        await _finished(app, screen)
        expected = explore(load_scenario(find_scenario("race-lost-update")), runs=24)
        bars = expected.histogram.bars
        shown = screen.query_one("#explore-bars")
        assert shown.option_count == len(bars) >= 2  # type: ignore[attr-defined]
        await pilot.press("down", "enter")
        await pilot.pause()
        run = app.screen
        assert isinstance(run, RunScreen)
        assert run.session.seed == bars[1].seed
        assert notes[-1] == f"Restarted with seed {bars[1].seed}."
    assert app._exception is None


@sync
async def test_the_explored_runs_carry_the_faults_injected_so_far(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(explore_view, "RUNS", 4)
    app, _notes = build("io-threads", tmp_path)
    async with app.run_test(size=(120, 36)) as pilot:
        app.advance_to(0.2)
        app.run_screen.lanes.select_row("thread-2")
        await pilot.press("f")
        injected = app.run_screen.session.injections
        assert injected == (Injection(at=0.2, fault="fail", target="request-2"),)
        await pilot.press("X")
        screen = app.screen
        assert isinstance(screen, ExploreScreen)
        await _finished(app, screen)
        assert screen.found is not None
        (bar,) = screen.found.histogram.bars
        assert dict(bar.facets)["task request-2"].startswith("failed")
        await pilot.press("escape")
        assert isinstance(app.screen, RunScreen)
        assert app.run_screen.session.injections == injected
    assert app._exception is None
