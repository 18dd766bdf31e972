"""The command line never opens the app by mistake: a mistyped command, no terminal."""

from __future__ import annotations

import subprocess
import sys

import pytest

from concsim.ui.launch import NO_TERMINAL


def concsim(*args: str) -> subprocess.CompletedProcess[str]:
    """Run concsim with no terminal: stdin empty, output captured."""
    return subprocess.run(
        [sys.executable, "-m", "concsim", *args],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_a_mistyped_command_is_no_such_command() -> None:
    """`concsim cod io-threads` is an error (exit 2), not the browser opening on two files."""
    done = concsim("cod", "io-threads")
    assert done.returncode == 2
    assert done.stderr.splitlines()[-1] == "Error: No such command 'cod'."
    assert done.stdout == ""


@pytest.mark.parametrize(
    "args",
    [(), ("run", "io-threads"), ("missing.yaml",), ("run", "io-threads", "--paused")],
    ids=["browser", "run", "file", "paused"],
)
def test_without_a_terminal_the_app_does_not_start(args: tuple[str, ...]) -> None:
    """Stdin and stdout not a terminal: one line on stderr, exit 2, never a wait."""
    done = concsim(*args)
    assert (done.returncode, done.stdout, done.stderr) == (2, "", NO_TERMINAL + "\n")


@pytest.mark.parametrize(
    ("speed", "error"),
    [
        ("-1", "-1.0 is not in the range 0.015625<=x<=64."),
        ("0", "0.0 is not in the range 0.015625<=x<=64."),
        ("inf", "inf is not in the range 0.015625<=x<=64."),
        ("1e308", "1e+308 is not in the range 0.015625<=x<=64."),
        ("nan", "nan is not a speed; give a number from 0.015625 to 64"),
    ],
)
def test_speed_is_a_positive_finite_number(speed: str, error: str) -> None:
    """--speed takes the range [ and ] move through; anything else is a usage error."""
    done = concsim("run", "io-threads", f"--speed={speed}")
    assert done.returncode == 2
    assert done.stderr.splitlines()[-1] == f"Error: Invalid value for '--speed': {error}"
