"""The command line's app makes a big run's history on a worker from the moment its screen
opens: playback from a fresh start then moves the playhead over events made, and runs no
engine on the UI thread."""

from __future__ import annotations

import threading
from pathlib import Path

from appkit import Clock, build, sync

from concsim.engine import Simulation
from concsim.replay import open_scenario


async def _until(pilot, condition, tries: int = 3000) -> None:  # type: ignore[no-untyped-def]
    for _ in range(tries):
        if condition():
            return
        await pilot.pause(0.01)
    raise AssertionError("the condition never held")


@sync
async def test_a_big_run_is_made_ahead_while_paused(tmp_path: Path) -> None:
    """process-overhead opened paused: a worker makes its whole history (11,318 events)
    with nothing shown; x1 frames from t = 0 then step no engine on the UI thread, and
    show exactly a fresh run's events up to the playhead."""
    clock = Clock()
    app, _ = build("process-overhead", tmp_path, clock=clock)
    app.prefetch = True
    on_ui: list[str] = []
    step, advance = Simulation.step, Simulation.advance

    def counting_step(self: Simulation) -> object:
        if threading.current_thread() is threading.main_thread():
            on_ui.append("step")
        return step(self)

    def counting_advance(self: Simulation, *args: object, **kwargs: object) -> object:
        if threading.current_thread() is threading.main_thread():
            on_ui.append("advance")
        return advance(self, *args, **kwargs)  # type: ignore[arg-type]

    Simulation.step = counting_step  # type: ignore[method-assign,assignment]
    Simulation.advance = counting_advance  # type: ignore[method-assign,assignment]
    try:
        async with app.run_test(size=(100, 30)) as pilot:
            screen = app.run_screen
            session = screen.session
            assert screen.ahead is not None and screen.ahead.run is session.run
            await _until(pilot, lambda: session.sim.finished)
            assert len(session.events) == 11_318 and session.now == 0.0
            await screen.wait_idle()
            await pilot.press("space")
            on_ui.clear()
            for _ in range(4):
                clock.now += 0.01  # x1: 10 ms of virtual time per frame
                screen.tick()
            await pilot.press("space")
            assert on_ui == [] and 0.0 < session.now <= 0.04
            now = session.now
            fresh = Simulation(open_scenario("process-overhead"))
            fresh.advance(now)
            assert [e.to_dict() for e in session.events[: session.seen]] == [
                e.to_dict() for e in fresh.events
            ]
    finally:
        Simulation.step = step  # type: ignore[method-assign]
        Simulation.advance = advance  # type: ignore[method-assign]
    assert app._exception is None


@sync
async def test_a_small_run_is_not_made_ahead(tmp_path: Path) -> None:
    """io-threads (measured at once on the UI thread): no worker is started for it."""
    app, _ = build("io-threads", tmp_path, clock=Clock())
    app.prefetch = True
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        assert app.run_screen.ahead is None
    assert app._exception is None


@sync
async def test_a_frame_waiting_for_a_core_still_plays_its_share(tmp_path: Path) -> None:
    """On the real clock a frame's budget is the UI thread's CPU time: a frame whose wall
    time runs out (a loaded machine: every look at the wall clock a second later) while it
    has hardly worked still plays the 20 ms its wall time asks for, where a wall-clock
    budget would stop after its first slice of events."""
    import time

    from concsim.ui.app import make_app

    app = make_app(run="race-lost-update", paused=True, keymap={}, theme="textual-dark")
    async with app.run_test(size=(120, 36)) as pilot:
        screen = app.run_screen
        assert screen.work_clock is time.thread_time
        wall = _LateWall()
        screen.clock = wall
        await pilot.press("space")
        await pilot.pause()
        wall.frame(0.02, late=True)
        screen.tick()
        assert screen.session.now == 0.02
    assert app._exception is None


class _LateWall(Clock):
    """A wall clock on which, while ``late``, every look after the first of a frame is a
    second later."""

    def __init__(self) -> None:
        super().__init__()
        self.late = False
        self._looks = 0

    def __call__(self) -> float:
        self._looks += 1
        return self.now + (1.0 if self.late and self._looks > 1 else 0.0)

    def frame(self, at: float, *, late: bool = False) -> None:
        self.now, self.late, self._looks = at, late, 0
