"""x on a run past ``INLINE`` events shown looks for the next decision point on a worker:
the history is run again from the start there, never on the UI thread."""

from __future__ import annotations

import threading
from pathlib import Path

from appkit import Clock, build, sync

from concsim.engine import Simulation
from concsim.ui.jobs import INLINE
from concsim.ui.screens.choose import ChoiceScreen


async def _until(pilot, condition, tries: int = 3000) -> None:  # type: ignore[no-untyped-def]
    for _ in range(tries):
        if condition():
            return
        await pilot.pause(0.01)
    raise AssertionError("the condition never held")


def _counting_steps(on_ui: list[str]) -> tuple[object, object]:
    step = Simulation.step

    def counting(self: Simulation) -> object:
        if threading.current_thread() is threading.main_thread():
            on_ui.append("step")
        return step(self)

    return step, counting


@sync
async def test_x_on_a_big_run_probes_on_a_worker(tmp_path: Path) -> None:
    """cpu-threads-gil at 1.7 s (1,053 events shown): x says it is looking, steps no engine
    on the UI thread, then offers the decision at 1.705 s: three threads wait for the GIL."""
    app, notes = build("cpu-threads-gil", tmp_path, clock=Clock())
    on_ui: list[str] = []
    step, counting = _counting_steps(on_ui)
    try:
        async with app.run_test(size=(110, 32)) as pilot:
            screen = app.run_screen
            app.advance_to(1.7)
            assert screen.session.seen == 1_053 > INLINE
            Simulation.step = counting  # type: ignore[method-assign,assignment]
            await pilot.press("x")
            assert notes[-1] == "Looking for the next decision point…"
            await _until(pilot, lambda: isinstance(app.screen, ChoiceScreen))
            Simulation.step = step  # type: ignore[method-assign]
            choice = app.screen
            assert isinstance(choice, ChoiceScreen)
            assert (choice.decision.number, choice.decision.at) == (340, 1_705_000)
            assert choice.decision.waiting == ("thread-4", "thread-3", "thread-2")
            assert on_ui == []
    finally:
        Simulation.step = step  # type: ignore[method-assign]
    assert app._exception is None


@sync
async def test_x_found_after_the_run_moved_offers_nothing(tmp_path: Path) -> None:
    """A probe that ends after the playhead moved (a step meanwhile) opens no choice: it
    says so, and x again looks from the new place."""
    app, notes = build("cpu-threads-gil", tmp_path, clock=Clock())
    async with app.run_test(size=(110, 32)):
        screen = app.run_screen
        app.advance_to(1.7)
        where = (screen.session.generation, screen.session.seen)
        app.advance_to(1.8)
        screen._offer(None, where)
        assert notes[-1] == (
            "The run moved on while the next decision point was looked for: x again."
        )
        assert app.screen is screen
    assert app._exception is None
