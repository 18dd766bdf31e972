"""Smoke test of the real app in a real terminal: tmux runs it, we press keys, read the screen."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")


class Terminal:
    """A detached tmux session of a fixed size running one command."""

    def __init__(self, name: str) -> None:
        self.name = name

    def tmux(self, *args: str) -> str:
        done = subprocess.run(["tmux", *args], capture_output=True, text=True, check=False)
        return done.stdout

    def screen(self) -> str:
        return self.tmux("capture-pane", "-p", "-t", self.name)

    def press(self, *keys: str) -> None:
        for key in keys:
            self.tmux("send-keys", "-t", self.name, key)
            time.sleep(0.15)

    def wait_for(self, text: str, timeout: float = 15.0) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            screen = self.screen()
            if text in screen:
                return screen
            time.sleep(0.1)
        raise AssertionError(f"{text!r} never appeared; the screen was:\n{self.screen()}")

    def alive(self) -> bool:
        return self.name in self.tmux("list-sessions", "-F", "#{session_name}")


@pytest.fixture
def terminal(tmp_path: Path) -> Iterator[Terminal]:
    name = f"concsim-{uuid.uuid4().hex[:8]}"
    env = {
        "XDG_CONFIG_HOME": str(tmp_path),
        "TERM": "xterm-256color",
        "TEXTUAL_ANIMATIONS": "none",
    }
    exports = " ".join(f"{key}={value}" for key, value in env.items())
    command = f"cd {tmp_path} && env {exports} {sys.executable} -m concsim run io-threads --paused"
    subprocess.run(
        ["tmux", "new-session", "-d", "-s", name, "-x", "100", "-y", "30", command],
        check=True,
        env={**os.environ, "TMUX": ""},
    )
    term = Terminal(name)
    try:
        yield term
    finally:
        term.tmux("kill-session", "-t", name)


def test_the_real_app_steps_injects_saves_and_quits(terminal: Terminal, tmp_path: Path) -> None:
    """GIVEN `concsim run io-threads --paused` in a 100x30 terminal, WHEN keys are pressed,
    THEN the screen answers and q ends the process."""
    terminal.wait_for("io-threads")
    terminal.wait_for("paused")
    terminal.wait_for("thread-1")
    terminal.press(".", ".", ".")
    terminal.wait_for("started running on")
    terminal.press("Down", "Down", "f")
    terminal.wait_for("Injected fail")
    terminal.press("s")
    terminal.wait_for("Saved")
    assert (tmp_path / "io-threads-seed0.replay.yaml").exists()
    terminal.press("?")
    terminal.wait_for("esc closes")
    terminal.press("Escape", "q")
    deadline = time.monotonic() + 10
    while terminal.alive() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not terminal.alive()
