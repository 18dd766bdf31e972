"""A task that returned in a worker process, whose future failed all the same: the outcome
says so (``tasks[].future``), in the simulator and live alike, and ``concsim check``
compares it."""

from __future__ import annotations

import subprocess
import textwrap

import pytest
from rich.console import Console

from concsim.engine import Simulation
from concsim.events import Event, ResultPicklingFailed
from concsim.export.outcome import outcome
from concsim.export.text import summary
from concsim.live.compare import compare
from concsim.live.interpreters import interpreter_for
from concsim.live.session import LiveSession
from concsim.replay import open_scenario
from concsim.scenario.loader import load_scenario_text
from concsim.scenario.model import Python

LOCK = "TypeError(\"cannot pickle '_thread.lock' object\")"
FAILED = {"outcome": "failed", "error": "TypeError", "repr": LOCK}

CPYTHON = """\
import threading
from concurrent.futures import ProcessPoolExecutor

def connect():
    return threading.Lock()

if __name__ == "__main__":
    with ProcessPoolExecutor(max_workers=1) as pool:
        future = pool.submit(connect)
        print(repr(future.exception()))
        print(pool.submit(abs, -3).result())
"""


def _unpicklable_result() -> tuple[object, list[Event]]:
    scenario = open_scenario("unpicklable-values").variant("unpicklable-result")
    return scenario, Simulation(scenario).run()


@pytest.mark.parametrize("version", [Python.PY311, Python.PY312, Python.PY313])
def test_cpython_fails_the_future_with_the_pickling_error_and_the_pool_goes_on(
    version: Python, tmp_path: object
) -> None:
    """CPython 3.11, 3.12 and 3.13 (``_sendback_result``: the value cannot be pickled, the
    worker sends ``_ExceptionWithTraceback`` of the error instead): the function returned,
    its future holds ``TypeError("cannot pickle '_thread.lock' object")``, and the pool
    takes the next task. The outcome's ``repr`` is that one, character for character."""
    python = interpreter_for(version)
    if python is None:
        pytest.skip(f"no CPython {version.value} on this machine")
    ran = subprocess.run(
        [python, "-c", CPYTHON], capture_output=True, text=True, timeout=60, check=True
    )
    assert ran.stdout.splitlines() == [LOCK, "3"]


def test_the_outcome_says_the_future_failed_though_the_task_returned() -> None:
    """unpicklable-result: connect is ``ok`` (its function returned), and its future is
    ``failed`` with the pickling error as CPython's repr; no other task has ``future``."""
    _, events = _unpicklable_result()
    tasks = {task["name"]: task for task in outcome(events)["tasks"]}
    assert tasks["connect"]["outcome"] == "ok"
    assert tasks["connect"]["error"] is None
    assert tasks["connect"]["future"] == FAILED
    assert [name for name, task in tasks.items() if "future" in task] == ["connect"]


def test_the_text_summary_says_the_future_failed() -> None:
    _, events = _unpicklable_result()
    console = Console(width=120, record=True, color_system=None)
    console.print(summary(outcome(events)))
    lines = console.export_text().splitlines()
    connect = next(line for line in lines if line.startswith("  connect:"))
    assert connect == f"  connect: ok 10.2ms→60.2ms; its future failed: {LOCK}"


def test_both_futures_of_a_chunk_fail_with_the_one_pickling_error() -> None:
    """map(chunksize=2): ``_process_chunk``'s results are pickled as one list, so the
    chunk's other future, whose value pickles, fails with the same error."""
    text = textwrap.dedent(
        """\
        version: 2
        name: chunk
        program: {model: processes, max_workers: 2, collect: map, chunksize: 2}
        tasks:
          - {name: a, unpicklable_result: lock, steps: [{cpu: 10ms}]}
          - {name: b, steps: [{cpu: 10ms}]}
        """
    )
    events = Simulation(load_scenario_text(text, "s.yaml")).run()
    tasks = {task["name"]: task for task in outcome(events)["tasks"]}
    assert (tasks["a"]["future"], tasks["b"]["future"]) == (FAILED, FAILED)


def test_check_names_a_future_that_failed_after_its_task_returned() -> None:
    """A run whose worker sent the value back (no ResultPicklingFailed) disagrees."""
    scenario, events = _unpicklable_result()
    sent = [e for e in events if not isinstance(e, ResultPicklingFailed)]
    lines = [str(d) for d in compare(scenario, events, sent)]  # type: ignore[arg-type]
    assert lines == [
        f"connect future: simulator says failed: {LOCK}, CPython did as the task ended (ok)"
    ]


def test_live_observes_the_pickling_error_the_worker_sent_back() -> None:
    """Live: connect's end is reported by the worker, its future's failure by the parent:
    a future that failed after its task returned is the ResultPicklingFailed event, on the
    worker's lane, with CPython's message, and the outcome's ``future`` is the simulator's."""
    scenario, events = _unpicklable_result()
    live = LiveSession(scenario).run_to_end(limit=30)  # type: ignore[arg-type]
    (unsent,) = [e for e in live if isinstance(e, ResultPicklingFailed)]
    assert (unsent.task, unsent.error, unsent.message) == (
        "connect",
        "TypeError",
        "cannot pickle '_thread.lock' object",
    )
    assert unsent.lane.startswith("process-")
    tasks = {task["name"]: task for task in outcome(live)["tasks"]}
    assert tasks["connect"]["outcome"] == "ok"
    assert tasks["connect"]["future"] == FAILED
    assert not [d for d in compare(scenario, events, live) if not d.timing]  # type: ignore[arg-type]
