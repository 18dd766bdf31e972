"""Quitting the live app at any instant leaves no process, thread or temporary file."""

from __future__ import annotations

import asyncio
import random
import tempfile
import threading
from pathlib import Path

import pytest
from test_live_abort import _group

from concsim.live.app import live_factory
from concsim.ui.app import make_app

# Each quit costs about 6 s on a loaded 2-core machine (the app's mount about 3 s, the quit
# about 3 s), so 100 instants would add 10 minutes to the suite: 20, spread over start-up,
# the run and after its end (the program ends at about 0.5 s).
INSTANTS = 20


@pytest.fixture(autouse=True)
def _quiet_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("TEXTUAL_ANIMATIONS", "none")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))


async def _quit_at(instant: float, tmp_path: Path) -> int | None:
    """Run the live app on a process pool, press q after ``instant`` seconds; the pid of the
    program's process group (None if it had not started)."""
    app = make_app(
        run="process-overhead",
        factory=live_factory,
        speed=1.0,
        keymap={},
        replay_dir=tmp_path,
        theme="textual-dark",
    )
    async with app.run_test(size=(100, 30)) as pilot:
        process = app.run_screen.session.sim.session.run.process
        # The instant itself is what is tested, so this waits on the clock on purpose.
        await pilot.pause(instant)
        await pilot.press("q")
        await pilot.pause()
    return process.pid if process is not None else None


def test_quitting_the_live_app_at_random_instants_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """GIVEN the app running a process pool's program live; WHEN q is pressed at a random
    instant, from start-up to after the end; THEN no process of the program's group, no
    live-mode thread and no temporary directory remain."""
    private = tmp_path / "tmp"
    private.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(private))
    rng = random.Random(10)
    instants = [rng.uniform(0.0, 1.5) for _ in range(INSTANTS)]
    groups = [asyncio.run(_quit_at(instant, tmp_path)) for instant in instants]
    assert None not in groups
    assert [pid for pgid in groups if pgid is not None for pid in _group(pgid)] == []
    assert [t.name for t in threading.enumerate() if t.name.startswith("concsim-live")] == []
    assert list(private.iterdir()) == []
