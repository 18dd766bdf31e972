"""Fuzzing the command line: generated scenario and replay files, valid, broken and hostile.

Used by the short fuzz test (tests/test_fuzz.py) and the long run (scripts/fuzz.py), with
the strategies of tests/fuzzgen.py. Each input is written to a file and given to ``concsim
validate`` and, when valid, to ``concsim run --headless`` (``run --replay`` for a replay),
in-process through click's CliRunner with a time limit. The only outcomes allowed: exit 0,
or exit 2 with lines that each name the file (``file:LINE:COL: ...`` for a problem in it)
-- never a traceback, an empty exit 2 or a hang.
"""

from __future__ import annotations

import re
import signal
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from concsim.cli import EXIT_FORBIDDEN, main

TIME_LIMIT = 20.0
"""Seconds one input may take, both commands together, however loaded the machine."""
MAX_EVENTS = "20000"
"""The run budget given to ``run --headless``: generated runs are small; a bigger one must
stop cleanly at the budget, which is one of the outcomes checked."""


# --- running one input ----------------------------------------------------------------------


class Hang(Exception):
    """An input took longer than the time limit."""


@dataclass(frozen=True)
class Verdict:
    """What one command did with one input; ``problem`` is None when the outcome is allowed."""

    command: str
    exit_code: int
    output: str
    problem: str | None


@contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """Raise Hang in this (main) thread after ``seconds`` of wall time."""

    def expire(signum: int, frame: Any) -> None:
        raise Hang(f"no answer in {seconds:g} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def invoke(
    args: list[str], path: Path, seconds: float = TIME_LIMIT, also: tuple[str, ...] = ()
) -> Verdict:
    """Run ``concsim ARGS`` in-process and judge the outcome for the file ``path`` (lines
    may also start with the names in ``also``)."""
    runner = CliRunner()
    command = "concsim " + " ".join(args)
    try:
        with time_limit(seconds):
            result = runner.invoke(main, args, catch_exceptions=True)
    except Hang as hang:
        return Verdict(command, -1, "", f"hang: {hang}")
    stderr = result.stderr
    if isinstance(result.exception, Hang):
        return Verdict(command, -1, stderr, f"hang: {result.exception}")
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        trace = "".join(traceback.format_exception(result.exception))
        return Verdict(command, result.exit_code, stderr, "traceback:\n" + trace)
    problem = judge(result.exit_code, stderr, f"{path}:", *also)
    if result.exit_code == EXIT_FORBIDDEN and FORBIDDEN_MATCHED.search(result.stdout):
        problem = None  # the file's own `expect:` graded this outcome forbidden: exit 1 says so
    return Verdict(command, result.exit_code, stderr, problem)


# ``run --headless`` exits 1 when a `forbidden` expectation of the file matched; its
# verdict lines say which (concsim/export/verdicts.py).
FORBIDDEN_MATCHED = re.compile(r"^  matched  forbidden ", re.MULTILINE)

_POSITIONED = re.compile(r"^(?P<file>.+?):(\d+):(\d+): \S")


def judge(exit_code: int, stderr: str, *names: str) -> str | None:
    """None if the outcome is allowed, else what is wrong with it. Each line of an exit 2
    must start with one of ``names`` (the file, or the scenario a replay names)."""
    if "Traceback" in stderr or "internal error" in stderr:
        return "traceback in the output"
    if exit_code == 0:
        return None
    if exit_code != 2:
        return f"exit {exit_code}"
    lines = stderr.splitlines()
    if not lines:
        return "exit 2 with nothing said"
    for line in lines:
        if not line.startswith(tuple(f"{name}" for name in names)):
            return f"a line that does not name the file: {line[:200]!r}"
        if len(line) > 10_000:
            return f"a line of {len(line)} characters"
    return None


def check_scenario_text(text: str, directory: Path, seconds: float = TIME_LIMIT) -> list[Verdict]:
    """``validate`` the text as a file, then ``run --headless`` it if it is valid."""
    path = directory / "fuzz.yaml"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    first = invoke(["validate", str(path)], path, seconds)
    verdicts = [first]
    if first.problem is None and first.exit_code == 0:
        args = ["run", str(path), "--headless", "--max-events", MAX_EVENTS]
        verdicts.append(invoke(args, path, seconds))
    return verdicts


def check_replay_text(
    suffix: str, text: str, directory: Path, scenario: str, seconds: float = TIME_LIMIT
) -> list[Verdict]:
    """``run --replay FILE --headless`` on the text saved as a replay file that names
    ``scenario`` (whose own problems, and those of the injections, name it or the fault)."""
    path = directory / f"fuzz{suffix}"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    args = ["run", "--replay", str(path), "--headless", "--max-events", MAX_EVENTS]
    return [invoke(args, path, seconds, also=(f"{scenario}:", "--inject "))]
