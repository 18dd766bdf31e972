"""The app driven by a live run: the lanes and log read the real program's events."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from concsim.events import (
    ExceptionRaised,
    FaultInjected,
    FaultRefused,
    LaneCreated,
    LaneState,
    LaneStateChanged,
    RunEnded,
    TimeoutExpired,
)
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


# main waits up to 120 s for a result that takes 60 s: the key lands mid-wait however long
# the app takes to start on a busy machine (seconds, at a load of 15 or more). The test
# ends once main has raised: leaving the app ends the program, no need to wait for slow.
PATIENT = """
version: 1
name: patient
program: {model: threads, collect: {pattern: result, timeout: 120s}}
tasks:
  - name: slow
    steps:
      - {io: 60s, label: download}
"""


async def _press_timeout(tmp_path: Path) -> list:
    path = tmp_path / "patient.yaml"
    path.write_text(PATIENT)
    app = make_app(
        run=str(path),
        factory=live_factory,
        speed=1.0,
        keymap={},
        replay_dir=tmp_path,
        theme="textual-dark",
    )
    async with app.run_test(size=(120, 40)) as pilot:
        session = app.run_screen.session
        for _ in range(1500):  # until main waits in slow.result() (main is selected)
            await pilot.pause(0.02)
            if any(_main_waits(e) for e in list(session.events)):
                break
        await pilot.pause(0.1)  # from the line of the wait into the wait itself
        await pilot.press("t")
        for _ in range(3000):  # until main has raised where it waited
            await pilot.pause(0.02)
            if any(isinstance(e, ExceptionRaised) for e in list(session.events)):
                break
        await pilot.pause()
        return list(session.events)


def _main_waits(event: object) -> bool:
    """main is blocked in its collect step: it has reached ``slow.result(timeout=...)``."""
    return (
        isinstance(event, LaneStateChanged)
        and event.lane == "main"
        and event.state is LaneState.BLOCKED
    )


def test_the_timeout_key_ends_mains_wait_in_the_real_program(tmp_path: Path) -> None:
    """t on main: slow.result() raises TimeoutError in the real program, as simulated."""
    events = asyncio.run(_press_timeout(tmp_path))
    assert [(e.fault, e.target) for e in events if isinstance(e, FaultInjected)] == [
        ("timeout", "main")
    ]
    assert [e for e in events if isinstance(e, FaultRefused)] == []
    assert [(e.waiter, e.on) for e in events if isinstance(e, TimeoutExpired)] == [
        ("main", "slow.result()")
    ]
    (expired,) = [e for e in events if isinstance(e, TimeoutExpired)]
    assert expired.t < 60.0  # at the key, not at the end of slow's download
    raised = [(e.lane, e.error) for e in events if isinstance(e, ExceptionRaised)]
    assert raised == [("main", "TimeoutError")]
