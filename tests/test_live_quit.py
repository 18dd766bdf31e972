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

# 100 instants, as four tests of 25 that pytest-xdist spreads over its workers, five apps
# at a time. Each quit costs about 0.5 s of CPU, most of it Textual mounting the app; the
# program is a small process pool (two workers, six 0.1 s waits: it ends about 0.3 s after
# it starts), so the instants fall in start-up, in the run and after its end. On 2 cores
# with a load average of 15 the four tests take about 2 minutes; on idle ones about 30 s.
INSTANTS = 100
CHUNKS = 4
AT_ONCE = 5  # apps quit side by side in one event loop
POOL = """\
version: 1
name: quit-pool
program: {model: processes, max_workers: 2, collect: map}
tasks:
  - name: wait
    repeat: 6
    steps:
      - io: 100ms
    returns: "{name} done"
"""


@pytest.fixture(autouse=True)
def _quiet_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("TEXTUAL_ANIMATIONS", "none")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))


async def _quit_at(instant: float, tmp_path: Path, scenario: Path) -> int | None:
    """Run the live app on a process pool, press q after ``instant`` seconds; the pid of the
    program's process group (None if it had not started)."""
    app = make_app(
        run=str(scenario),
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


async def _together(instants: list[float], tmp_path: Path, scenario: Path) -> list[int | None]:
    """Several apps at once in one event loop, each quit at its own instant."""
    return list(await asyncio.gather(*(_quit_at(t, tmp_path, scenario) for t in instants)))


@pytest.mark.parametrize("chunk", range(CHUNKS))
def test_quitting_the_live_app_at_random_instants_leaves_nothing(
    chunk: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """GIVEN the app running a process pool's program live; WHEN q is pressed at a random
    instant, from start-up to after the end; THEN no process of the program's group, no
    live-mode thread and no temporary directory remain (100 instants in all)."""
    private = tmp_path / "tmp"
    private.mkdir()
    scenario = tmp_path / "quit-pool.yaml"
    scenario.write_text(POOL)
    monkeypatch.setattr(tempfile, "tempdir", str(private))
    rng = random.Random(10 + chunk)
    instants = [rng.uniform(0.0, 0.8) for _ in range(INSTANTS // CHUNKS)]
    groups: list[int | None] = []
    for start in range(0, len(instants), AT_ONCE):  # their waits overlap; the CPU does not
        batch = instants[start : start + AT_ONCE]
        groups += asyncio.run(_together(batch, tmp_path, scenario))
    assert None not in groups
    assert [pid for pgid in groups if pgid is not None for pid in _group(pgid)] == []
    assert [t.name for t in threading.enumerate() if t.name.startswith("concsim-live")] == []
    assert list(private.iterdir()) == []
