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
    assert done.stderr == "concsim: No such command 'cod'. Did you mean 'code'?\n"
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


def test_bad_usage_is_one_line() -> None:
    """Like every other input error, bad usage is one line naming the command, exit 2."""
    done = concsim("run", "io-threads", "--speed=-1")
    assert (done.returncode, done.stderr) == (
        2,
        "concsim run: Invalid value for '--speed': expected a speed from 1/64 to 64, got -1\n",
    )
    done = concsim("run", "io-threads", "--seed", "-3")
    assert done.stderr == (
        "concsim run: Invalid value for '--seed': -3 is not in the range "
        "0<=x<=18446744073709551615.\n"
    )
