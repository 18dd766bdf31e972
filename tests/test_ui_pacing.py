"""Playback keeps its speed by drawing less, and keys pressed while a run plays draw what
they changed, not the panels' backlog: the work per frame and per key follows what is on
screen, counted here in events fed to the log and panels drawn, not in wall time."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from appkit import Clock, build, sync
from textual.events import Key

from concsim.scenario.model import Scenario
from concsim.ui.jobs import INLINE
from concsim.ui.screens.run import frame_work
from concsim.ui.session import SimulationLike, engine_factory
from concsim.ui.widgets.eventlog import EventLog
from concsim.ui.widgets.panels import FuturesPanel


class SlowFrames(Clock):
    """A wall clock on which, while ``late``, every look after the first of a frame is a
    second later: the frame's budget runs out after its first slice of events."""

    def __init__(self) -> None:
        super().__init__()
        self.late = False
        self._looks = 0

    def __call__(self) -> float:
        self._looks += 1
        return self.now + (1.0 if self.late and self._looks > 1 else 0.0)

    def frame(self, at: float, *, late: bool = False) -> None:
        self.now, self.late, self._looks = at, late, 0


@sync
async def test_a_frame_out_of_time_owes_the_rest_to_the_next(tmp_path: Path) -> None:
    """A frame whose budget ran out stops the playhead short of where the speed would have
    it; the next frame makes up for it, so the speed is kept over the two."""
    clock = SlowFrames()
    app, _ = build("race-lost-update", tmp_path, clock=clock, speed=1.0)
    async with app.run_test(size=(120, 36)) as pilot:
        screen = app.run_screen
        await pilot.press("space")
        clock.frame(0.02, late=True)
        screen.tick()
        short = screen.session.now
        assert 0 < short < 0.02  # one slice of events fed, the playhead waits at its last
        clock.frame(0.04)
        screen.tick()
        assert screen.session.now == pytest.approx(0.04)  # 0.02 for this frame, and the rest
        clock.frame(0.06)
        screen.tick()
        assert screen.session.now == pytest.approx(0.06)  # nothing owed any more
    assert app._exception is None


class SteppingClock(Clock):
    """A wall clock on which, from ``frame``, every look after the first is ``step``
    seconds later (before it, the clock stands still)."""

    def __init__(self, step: float) -> None:
        super().__init__()
        self.step = step
        self._looks: int | None = None

    def __call__(self) -> float:
        if self._looks is None:
            return self.now
        self._looks += 1
        return self.now + self.step * (self._looks - 1)

    def frame(self, at: float) -> None:
        self.now, self._looks = at, 0


@sync
async def test_a_frame_catching_up_feeds_twice_as_long(tmp_path: Path) -> None:
    """On a clock where each look at it comes 6 ms after the last, over a history made
    already (end, then r: the frames only feed the views), a frame at 30 frames a second
    feeds the views for its 10 ms, falls short and draws nothing (the next has the time);
    the next, owing time, feeds for 20 ms and is drawn: never two frames in a row undrawn."""
    clock = SteppingClock(0.006)
    app, _ = build("race-with-lock", tmp_path, clock=clock, speed=1.0)
    async with app.run_test(size=(120, 36)) as pilot:
        screen = app.run_screen
        await pilot.press("end", "r", "space")
        lanes, session = screen.lanes, screen.session
        start = session.seen
        clock.frame(1 / 30)
        screen.tick()
        first = session.seen - start
        assert 0 < session.now < 1 / 30 and lanes.now == 0.0  # short, not drawn
        clock.frame(2 / 30)
        screen.tick()
        second = session.seen - start - first
        assert second > 1.5 * first  # twice the time: 1,040 events fed, after 518
        assert session.now < 2 / 30 and lanes.now == session.now  # short again, and drawn
    assert app._exception is None


@sync
async def test_a_late_frame_feeds_for_the_wall_time_it_covers(tmp_path: Path) -> None:
    """A busy machine draws fewer frames: a frame 100 ms after the last (three frames' wall
    time) feeds the views for 20 ms, not 10, so fewer frames still keep the speed."""
    clock = SteppingClock(0.006)
    app, _ = build("race-with-lock", tmp_path, clock=clock, speed=1.0)
    async with app.run_test(size=(120, 36)) as pilot:
        screen = app.run_screen
        await pilot.press("end", "r", "space")
        session = screen.session
        start = session.seen
        clock.frame(0.1)
        screen.tick()
        late = session.seen - start
        assert late > 1.5 * 518  # 1,038 events fed: twice a frame at 30 frames a second
    assert app._exception is None


def test_the_work_of_a_frame_follows_the_wall_time_it_covers() -> None:
    """10 ms a frame at 30 frames a second, more for a later frame up to 20 ms; a frame
    catching up twice that, up to 30 ms (a key pressed meanwhile waits for the frame)."""
    assert frame_work(1 / 30, False) == pytest.approx(0.01)
    assert frame_work(0.0, False) == pytest.approx(0.01)
    assert frame_work(0.05, False) == pytest.approx(0.015)
    assert frame_work(0.5, False) == pytest.approx(0.02)
    assert frame_work(1 / 30, True) == pytest.approx(0.02)
    assert frame_work(0.5, True) == pytest.approx(0.03)


@sync
async def test_a_key_moving_the_playhead_cancels_what_was_owed(tmp_path: Path) -> None:
    """Owed time belongs to where the short frame left the playhead: a step back (or any
    move) since makes the next frame play on from the new place at the speed alone."""
    clock = SlowFrames()
    app, _ = build("race-lost-update", tmp_path, clock=clock, speed=1.0)
    async with app.run_test(size=(120, 36)) as pilot:
        screen = app.run_screen
        await pilot.press("space")
        clock.frame(0.02, late=True)
        screen.tick()
        clock.frame(0.02)
        await pilot.press(",")  # pauses and steps back one event
        back = screen.session.now
        await pilot.press("space")
        clock.frame(0.04)
        screen.tick()
        assert screen.session.now == pytest.approx(back + 0.02)
    assert app._exception is None


@sync
async def test_keys_while_playing_leave_the_panels_to_the_frames(tmp_path: Path) -> None:
    """While the run plays, a speed, a zoom or a lane changes draw nothing in the log or the
    futures panel: the next frame due draws one of the two, the one after the other; a
    pause draws both up to the playhead."""
    clock = Clock()
    app, _ = build("race-lost-update", tmp_path, clock=clock, speed=1 / 8)
    async with app.run_test(size=(120, 36)) as pilot:
        screen = app.run_screen
        log, futures = screen.query_one(EventLog), screen.query_one(FuturesPanel)
        await pilot.press("space")
        # Called directly, with no await between: no timer tick of the app's own runs.
        clock.now += 0.2
        screen.tick()  # plays 25 ms: events to show
        shown = (log.known, futures._shown)
        clock.now += 0.01  # a frame with events, before a panel is due
        screen.tick()
        assert (log.known, futures._shown) == shown
        assert screen.session.seen > log.known
        screen.action_speed(2.0)
        screen.action_zoom("in")
        screen.action_select(1)
        assert (log.known, futures._shown) == shown
        clock.now += 0.2
        screen.tick()  # due: one panel of the two
        assert (log.known != shown[0]) != (futures._shown != shown[1])
        clock.now += 0.2
        screen.tick()  # due again: the other (with what the first drew, if it is behind)
        assert log.known != shown[0] and futures._shown != shown[1]
        await pilot.press("space")  # paused: both, up to the playhead
        assert log.known == screen.session.seen
        assert not futures.behind(screen.session.ledger, "threads")
    assert app._exception is None


@sync
async def test_a_new_seed_on_a_big_run_builds_no_engine_on_the_view_thread(
    tmp_path: Path,
) -> None:
    """N on process-overhead past its first thousand events: the new run and each variant's
    length are made on workers (a big scenario's engine takes tens of milliseconds to build)."""
    threads: list[str] = []

    def factory(
        scenario: Scenario, variant: str | None, seed: int | None, injections: Sequence[Any]
    ) -> SimulationLike:
        threads.append(threading.current_thread().name)
        return engine_factory(scenario, variant, seed, injections)

    app, _ = build("process-overhead", tmp_path, factory=factory)
    async with app.run_test(size=(160, 48)) as pilot:
        screen = app.run_screen
        await screen.wait_idle()
        app.advance_to(0.05)
        assert screen.session.seen > INLINE
        del threads[:]
        await pilot.press("N")
        assert screen.session.seed == 1
        assert threading.main_thread().name not in threads
        await screen.wait_idle()
        assert threads and threading.main_thread().name not in threads
        assert screen.session.now == 0.0
    assert app._exception is None


@sync
async def test_a_playback_frame_waits_for_the_frame_of_a_key(tmp_path: Path) -> None:
    """A key pressed while the run plays is answered first: a playback frame that comes
    before the key's frame is drawn feeds nothing (for 60 ms at most); the next one plays
    the wall time of both, so the speed is kept."""
    clock = Clock()
    app, _ = build("race-lost-update", tmp_path, clock=clock, speed=1.0)
    async with app.run_test(size=(120, 36)) as pilot:
        screen = app.run_screen
        await pilot.press("space")
        session = screen.session
        screen.on_key(Key("+", "+"))  # as Textual calls it: its frame is drawn after
        clock.now = 0.02
        seen = session.seen
        screen.tick()
        assert session.seen == seen and session.now == 0.0 and screen.answering == 1
        clock.now = 0.07  # 60 ms on at most: a frame never waits longer for a key's
        screen.tick()
        assert session.now == pytest.approx(0.07)
        screen.on_key(Key("+", "+"))
        clock.now = 0.09
        screen.tick()
        assert session.now == pytest.approx(0.07)
        await pilot.pause()
        assert screen.answering == 0
        screen.tick()
        assert session.now == pytest.approx(0.09)
    assert app._exception is None
