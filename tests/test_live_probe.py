"""Live mode on a hand-written program: the probe's records become the simulator's events."""

from __future__ import annotations

import itertools
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from concsim.codegen import Program, Site, SiteKind, TaskSite
from concsim.events import (
    CleanupStarted,
    Event,
    ExceptionRaised,
    GilChanged,
    LaneCreated,
    OutputWritten,
    ResultReceived,
    TaskEnded,
    TaskStarted,
    TaskSubmitted,
)
from concsim.export.outcome import outcome
from concsim.live.session import LiveSession
from concsim.scenario.loader import load_scenario_text

SCENARIO = load_scenario_text(
    textwrap.dedent(
        """
        version: 1
        name: three-requests
        program: {model: threads, max_workers: 2, collect: as_completed}
        tasks:
          - name: request
            repeat: 3
            steps:
              - {io: 200ms, label: requests.get(url)}
            cleanup:
              - print: closed
            returns: "page {i}"
        """
    )
)

SOURCE = """\
import time
from concurrent.futures import ThreadPoolExecutor, as_completed


def request(i):
    try:
        time.sleep(0.2)  # requests.get(url)
        if i == 2:
            raise ValueError("bad page")
        return f"page {i}"
    finally:
        print("closed")


def main():
    results = []
    with ThreadPoolExecutor(max_workers=2) as executor:
        futures = [executor.submit(request, i) for i in range(1, 4)]
        for future in as_completed(futures):
            try:
                results.append(future.result())
            except ValueError:
                pass
    return results


if __name__ == "__main__":
    main()
"""

PROGRAM = Program(
    source=SOURCE,
    sites={
        7: Site("request", SiteKind.IO, "requests.get(url)", ("steps", 0)),
        11: Site("request", SiteKind.CLEANUP, "finally", ()),
        12: Site("request", SiteKind.PRINT, "print closed", ("cleanup", 0)),
        17: Site("main", SiteKind.EXECUTOR, "ThreadPoolExecutor", ()),
        18: Site("main", SiteKind.SUBMIT, "submit", ("main", 0)),
        19: Site("main", SiteKind.COLLECT, "collect", ("main", 1)),
        21: Site("main", SiteKind.RESULT, "result", ("main", 1)),
    },
    tasks={f"request-{i}": TaskSite("request", "request", i) for i in (1, 2, 3)},
)


@pytest.fixture(scope="module")
def events() -> list[Event]:
    """One live run shared by the tests of this module (each run costs a process)."""
    return LiveSession(SCENARIO, program=PROGRAM).run_to_end(limit=20)


def test_outcome_of_a_hand_written_thread_pool_program(events: list[Event]) -> None:
    """Results, each task's outcome and cleanup, main and output, as CPython ran them."""
    result = outcome(events)
    assert result["main"] == {"outcome": "ok", "error": None}
    assert result["results"] == ["page 1", "page 3"]
    tasks = {task["name"]: task for task in result["tasks"]}
    assert [tasks[f"request-{i}"]["outcome"] for i in (1, 2, 3)] == ["ok", "failed", "ok"]
    assert tasks["request-2"]["error"] == "ValueError"
    assert {task["cleanup"] for task in tasks.values()} == {"ran"}
    # Two threads print at the same instant; print() writes the text and the newline
    # separately, so CPython may run their lines together ("closedclosed", "").
    assert len(result["output"]) == 3
    assert "".join(result["output"]) == "closed" * 3
    assert result["warnings"] == []
    # Two workers: request-3 starts when the first of the others ends, at about 0.2 s.
    assert tasks["request-1"]["started"] < 0.1
    assert 0.19 <= tasks["request-3"]["started"] < 0.4
    assert 0.39 <= result["elapsed"] < 0.8


def test_a_failing_task_tells_its_story_in_order(events: list[Event]) -> None:
    """submitted, started, raised at its step, finally, ended failed; main re-raised it."""
    story = [
        e
        for e in events
        if getattr(e, "task", None) == "request-2"
        and isinstance(
            e, TaskSubmitted | TaskStarted | ExceptionRaised | CleanupStarted | TaskEnded
        )
    ]
    assert [type(e).__name__ for e in story] == [
        "TaskSubmitted",
        "TaskStarted",
        "ExceptionRaised",
        "CleanupStarted",
        "TaskEnded",
    ]
    raised = story[2]
    assert isinstance(raised, ExceptionRaised)
    assert (raised.error, raised.message) == ("ValueError", "bad page")
    received = [e for e in events if isinstance(e, ResultReceived)]
    assert ("request-2", "ValueError") in [(e.task, e.error) for e in received]
    assert [e.seq for e in events] == list(range(len(events)))
    assert all(a.t <= b.t for a, b in itertools.pairwise(events))


def test_lanes_are_named_as_the_simulator_names_them_and_the_gil_is_not_invented(
    events: list[Event],
) -> None:
    """main, thread-1, thread-2; no GilChanged event: who holds the GIL is not observed.

    The names are CPython's own (``ThreadPoolExecutor-0_0`` is thread-1); the order the two
    workers are first seen in is the OS's, which a busy machine may swap."""
    lanes = [e.lane for e in events if isinstance(e, LaneCreated)]
    assert lanes[0] == "main" and sorted(lanes[1:]) == ["thread-1", "thread-2"]
    assert not any(isinstance(e, GilChanged) for e in events)


RAISING = """\
import time


def main():
    time.sleep(0.01)
    raise ValueError("no such page")


if __name__ == "__main__":
    main()
"""


def test_a_traceback_reads_as_under_plain_python(tmp_path: Path) -> None:
    """The probe's own frames are left out of tracebacks: the same lines as python prints."""
    program = tmp_path / "program.py"
    program.write_text(RAISING)
    plain = subprocess.run(
        [sys.executable, str(program)], capture_output=True, text=True, check=False
    )
    scenario = load_scenario_text("version: 1\nname: raising\ntasks: []\n")
    live = Program(source=RAISING, sites={}, tasks={})
    events = LiveSession(scenario, program=live).run_to_end(limit=20)
    written = "".join(e.text for e in events if isinstance(e, OutputWritten))
    # Only the program's temporary path differs.
    assert re.sub(r'File ".*program.py"', "FILE", written) == re.sub(
        r'File ".*program.py"', "FILE", plain.stderr
    )
    assert outcome(events)["main"] == {"outcome": "raised", "error": "ValueError"}


def test_threads_are_named_as_cpython_numbered_them_whoever_is_heard_first() -> None:
    """Under load the second thread's first record can come before the first's: the lane
    follows CPython's own name (Thread-N, or a pool worker's _K), not the arrival order."""
    from concsim.live.lanes import LaneBook

    book = LaneBook()
    book.main_pid, book.main_tid = 1, 10
    second = {"pid": 1, "tid": 12, "thread": "Thread-2 (consumer)"}
    first = {"pid": 1, "tid": 11, "thread": "Thread-1 (producer)"}
    assert book.lane_of(second, 0.0) == "thread-2"
    assert book.lane_of(first, 0.0) == "thread-1"
    assert book.lane_of({"pid": 1, "tid": 10}, 0.0) == "main"
    pooled = LaneBook()
    pooled.main_pid, pooled.main_tid = 1, 10
    assert pooled.lane_of({"pid": 1, "tid": 13, "thread": "ThreadPoolExecutor-0_1"}, 0) == (
        "thread-2"
    )
    assert pooled.lane_of({"pid": 1, "tid": 14}, 0.0) == "thread-1"  # no name: the next free
