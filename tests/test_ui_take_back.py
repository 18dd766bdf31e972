"""A refused fault on a big run is taken back out on a worker: meanwhile the engine still
holds it, and neither a replay saved nor a rewind may keep it."""

from __future__ import annotations

import threading
from pathlib import Path

from appkit import Clock, build, sync

from concsim.replay import load_replay
from concsim.ui.jobs import INLINE, JobKind
from concsim.ui.session import Session


@sync
async def test_saving_while_a_refused_fault_is_taken_back_leaves_it_out(tmp_path: Path) -> None:
    """k on main of process-overhead at 40 ms is refused; s pressed while the history is
    made again without it saves no injection, and the replay saved after the job is the same."""
    app, notes = build("process-overhead", tmp_path, clock=Clock())
    release = threading.Event()
    original = Session.fresh

    def fresh(self: Session, injections: object) -> object:
        if threading.current_thread() is not threading.main_thread():
            release.wait(60)  # the job stays under way until the test has pressed s
        return original(self, injections)  # type: ignore[arg-type]

    Session.fresh = fresh  # type: ignore[method-assign,assignment]
    try:
        async with app.run_test(size=(120, 36)) as pilot:
            screen = app.run_screen
            app.advance_to(0.04)
            session = screen.session
            assert session.seen > INLINE
            screen.lanes.select_row("main")
            await pilot.press("k")
            assert screen.job is not None and screen.job.kind is JobKind.REFUSED
            assert [fault.fault for fault in session.injections] == ["kill"]  # still in it
            assert session.kept == () and session.taking_back
            await pilot.press("s")
            assert screen.job is not None  # s answered while the job runs
            release.set()
            await screen.wait_idle()
            await pilot.pause()
            assert not session.taking_back and session.injections == ()
            await pilot.press("s")
    finally:
        release.set()
        Session.fresh = original  # type: ignore[method-assign]
    assert app._exception is None
    assert any("threads cannot be killed" in note for note in notes)
    first = load_replay(tmp_path / "process-overhead-seed0.replay.yaml")
    second = load_replay(tmp_path / "process-overhead-seed0-2.replay.yaml")
    assert first.injections == () and first == second


@sync
async def test_a_rewind_while_a_refused_fault_is_taken_back_leaves_it_out(tmp_path: Path) -> None:
    """r pressed while the refused kill is taken back out cancels that job and starts the
    history anew without the kill, not over the engine that still holds it."""
    app, _ = build("process-overhead", tmp_path, clock=Clock())
    release = threading.Event()
    original = Session.fresh

    def fresh(self: Session, injections: object) -> object:
        if threading.current_thread() is not threading.main_thread() and not release.is_set():
            release.wait(60)
        return original(self, injections)  # type: ignore[arg-type]

    Session.fresh = fresh  # type: ignore[method-assign,assignment]
    try:
        async with app.run_test(size=(120, 36)) as pilot:
            screen = app.run_screen
            app.advance_to(0.04)
            session = screen.session
            screen.lanes.select_row("main")
            await pilot.press("k")
            held = screen.job
            assert held is not None and held.kind is JobKind.REFUSED
            await pilot.press("r")
            release.set()
            await screen.wait_idle()
            await pilot.pause()
            assert held.cancelled.is_set()
            assert session.now == 0.0 and session.injections == ()
    finally:
        release.set()
        Session.fresh = original  # type: ignore[method-assign]
    assert app._exception is None
