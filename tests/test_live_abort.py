"""Stopping a live run at any instant leaves no process, thread or temporary file behind."""

from __future__ import annotations

import random
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from concsim.live import runner
from concsim.live.session import LiveSession
from concsim.scenario.loader import load_scenario_text

INSTANTS = 40
AT_ONCE = 4

# Worker processes and threads that would outlive the test by far if nothing ended them.
LONG_RUNNING = load_scenario_text(
    """
version: 1
name: long-running
program: {model: processes, max_workers: 2}
tasks:
  - name: wait
    repeat: 3
    steps:
      - io: 30s
"""
)


def _group(pgid: int) -> list[int]:
    """Live (not zombie) processes of a process group, from /proc."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[2]) == pgid and fields[0] != "Z":
            found.append(int(entry.name))
    return found


@pytest.fixture
def private_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The temporary directory, and the shared logs' one (``/dev/shm``) inside it."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    (tmp_path / "shm").mkdir()
    monkeypatch.setattr(runner, "MEMORY_DIR", str(tmp_path / "shm"))
    return tmp_path


def test_abort_at_random_instants_leaves_nothing(private_tmp: Path) -> None:
    """GIVEN a program with a process pool; WHEN its run is closed at a random instant,
    from before start-up to after the end; THEN no process of its group, no reader
    thread and no temporary file remain."""
    scenario = LONG_RUNNING
    rng = random.Random(2024)
    instants = [rng.uniform(0.0, 1.2) for _ in range(INSTANTS)]
    groups: list[int] = []
    lock = threading.Lock()

    def abort_at(instant: float) -> None:
        session = LiveSession(scenario)
        session.start()
        assert session.run.process is not None
        with lock:
            groups.append(session.run.process.pid)
        # The instant itself is what is tested, so this waits on the clock on purpose.
        time.sleep(instant)
        session.close()

    with ThreadPoolExecutor(max_workers=AT_ONCE) as pool:
        list(pool.map(abort_at, instants))
    assert [pid for pgid in groups for pid in _group(pgid)] == []
    assert [t.name for t in threading.enumerate() if t.name.startswith("concsim-live")] == []
    assert list((private_tmp / "shm").iterdir()) == []
    assert [p.name for p in private_tmp.iterdir()] == ["shm"]
    assert len(groups) == INSTANTS
