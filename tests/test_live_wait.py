"""Waiting for the program's process: an exit is seen when it happens, not at the next poll."""

from __future__ import annotations

import subprocess
import sys

from concsim.live.runner import _exited


def _child(code: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE)


def test_a_process_still_running_at_the_limit_is_not_exited() -> None:
    process = _child("import sys; sys.stdin.read()")
    try:
        assert _exited(process, 0.05) is False
        assert process.returncode is None
    finally:
        process.kill()
        process.wait()


def test_an_exit_is_seen_and_reaped_with_its_code() -> None:
    process = _child("import sys; sys.stdin.read(); sys.exit(3)")
    assert process.stdin is not None
    process.stdin.close()  # the child ends now
    assert _exited(process, 60.0) is True
    assert process.returncode == 3
    assert _exited(process, 0.0) is True  # reaped already: known at once


def test_a_wait_without_limit_waits_for_the_exit() -> None:
    process = _child("import sys; sys.stdin.read(); sys.exit(4)")
    assert process.stdin is not None
    process.stdin.close()
    assert _exited(process, float("inf")) is True
    assert process.returncode == 4
