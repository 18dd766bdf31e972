"""Smoke test of the real app in a real terminal: tmux runs it, we press keys, read the screen."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")

TIMEOUT = 30.0  # generous: two busy cores can take seconds to start Python and draw


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
        """Send keys in one go: the app reads them in order, so no pause is needed between
        them (a lone Escape is the exception: see ``test_the_real_app...``)."""
        self.tmux("send-keys", "-t", self.name, *keys)

    def until(self, done: Callable[[str], bool], what: str, timeout: float = TIMEOUT) -> str:
        """Poll the screen until ``done(screen)``; fail naming ``what`` and showing the screen."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            screen = self.screen()
            if done(screen):
                return screen
            time.sleep(0.05)
        raise AssertionError(f"{what} never happened; the screen was:\n{self.screen()}")

    def wait_for(self, text: str) -> str:
        return self.until(lambda screen: text in screen, f"{text!r} appearing")

    def wait_gone(self, text: str) -> str:
        return self.until(lambda screen: text not in screen, f"{text!r} going away")

    def alive(self) -> bool:
        return self.name in self.tmux("list-sessions", "-F", "#{session_name}")

    def wait_ended(self) -> None:
        deadline = time.monotonic() + TIMEOUT
        while self.alive() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not self.alive(), f"the app is still running:\n{self.screen()}"


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
    """GIVEN `concsim run io-threads --paused` in a 100x30 terminal, WHEN the keys of the
    footer and help are pressed as a terminal sends them (g with a time typed), THEN each
    acts and q quits."""
    terminal.wait_for("paused")
    terminal.wait_for("thread-1")
    terminal.press(".")  # one event on: the first after t = 0 is at 500 ms
    terminal.wait_for("t 500ms")
    terminal.press(",")
    terminal.wait_for("t 0 ·")
    terminal.press(">")  # the first mark: main receives request-1's result
    terminal.wait_for("t 500ms")
    terminal.press("g")
    terminal.wait_for("Go to a time")
    terminal.press("0.25s", "Enter")
    terminal.wait_for("t 250ms")
    terminal.wait_for("\N{MULTIPLICATION SIGN}1/8")  # 0.5 s of virtual time plays in 4 s
    terminal.press("]")
    terminal.wait_for("\N{MULTIPLICATION SIGN}1/4")
    terminal.press("[", "[")
    terminal.wait_for("\N{MULTIPLICATION SIGN}1/16")
    terminal.press("Down", "f")  # ↓ passes over the GIL row, to thread-1
    terminal.wait_for("Injected fail on request-1")
    terminal.wait_for("faults · del removes")
    terminal.press("s")
    terminal.wait_for("Saved")
    assert (tmp_path / "io-threads-seed0.replay.yaml").exists()
    terminal.press("?")
    terminal.wait_for("esc closes")
    # A lone Escape is a prefix of many keys' sequences: Textual waits a moment for more
    # bytes, and a q sent in that moment would read as alt+q. Wait for the help to close.
    terminal.press("Escape")
    terminal.wait_gone("esc closes")
    terminal.press("q")
    terminal.wait_ended()


def test_the_real_ctrl_c_quits(terminal: Terminal) -> None:
    """Ctrl-C in a real terminal ends the app (i is the simulated one)."""
    terminal.wait_for("thread-1")
    terminal.press("C-c")
    terminal.wait_ended()
