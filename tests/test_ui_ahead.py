"""A big run plays over events a worker made ahead of the playhead; its trace is written on a
worker too. Both leave exactly what the synchronous path would."""

from __future__ import annotations

import json
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
async def test_a_big_run_plays_over_events_made_ahead(tmp_path: Path) -> None:
    """GIVEN process-overhead playing, WHEN a worker has run the engine ahead, THEN each
    frame shows exactly the events up to the playhead, equal to a fresh run's up to there."""
    clock = Clock()
    app, _ = build("process-overhead", tmp_path, clock=clock)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = app.run_screen
        session = screen.session
        await screen.wait_idle()
        await pilot.press("space")
        clock.now += 0.01
        screen.tick()  # starts the worker
        await _until(pilot, lambda: len(session.events) > session.seen + 2_000)
        for _ in range(3):
            clock.now += 0.01  # x1: 10 ms of virtual time per tick
            screen.tick()
        await pilot.press("space")
        now = session.now
        assert len(session.events) > session.seen  # the engine stands past the playhead
        assert all(event.t <= now for event in session.events[: session.seen])
        fresh = Simulation(open_scenario("process-overhead"))
        fresh.advance(now)
        assert [e.to_dict() for e in session.events[: session.seen]] == [
            e.to_dict() for e in fresh.events
        ]
    assert app._exception is None


@sync
async def test_a_big_runs_trace_is_written_on_a_worker(tmp_path: Path) -> None:
    """T on process-overhead at 50 ms: a note says it is being written, then where; the file
    holds the run as it stood when T was pressed."""
    from concsim.export.trace import chrome_trace

    app, notes = build("process-overhead", tmp_path)
    path = tmp_path / "process-overhead-seed0.trace.json"
    async with app.run_test(size=(100, 30)) as pilot:
        screen = app.run_screen
        await screen.wait_idle()
        app.advance_to(0.05)
        events = list(screen.session.events[: screen.session.seen])
        await pilot.press("T")
        await _until(pilot, lambda: notes[-1].startswith("Wrote"))
        assert notes[-2:] == [
            "Writing the trace up to 50ms…",
            f"Wrote {path} (up to 50ms); open it at ui.perfetto.dev.",
        ]
        assert json.loads(path.read_text(encoding="utf-8")) == chrome_trace(events, now=0.05)
    assert app._exception is None


@sync
async def test_a_key_claims_the_interpreter_for_the_view(tmp_path: Path) -> None:
    """Each key claims KEY_TURN (60 ms) from its arrival: workers sleep through it."""
    import time

    from concsim.ui.turns import KEY_TURN

    app, _ = build("io-threads", tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        before = time.perf_counter()
        await pilot.press(".")
        assert app.turns.until >= before + KEY_TURN
    assert app._exception is None
