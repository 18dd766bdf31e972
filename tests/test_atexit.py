"""``program.atexit`` (format version 2): handlers run at a normal interpreter exit, after
the non-daemon threads are joined, last registered first (Modules/atexitmodule.c)."""

from __future__ import annotations

import textwrap

import pytest

from concsim.codegen import program
from concsim.engine import Simulation
from concsim.events import OutputWritten
from concsim.export.outcome import outcome
from concsim.scenario.errors import ScenarioError
from concsim.scenario.loader import load_scenario_text

THREADS = """
version: 2
name: handlers
program:
  model: threads
  executor: false
  collect: none
  atexit:
    - {print: first registered}
    - {raise: ValueError, message: oops}
    - {io: 50ms, label: flush}
    - {print: last registered}
tasks:
  - name: job
    steps: [{sleep: 200ms}, {print: job done}]
  - name: background
    daemon: true
    steps: [{sleep: 220ms}, {print: daemon done}]
"""


def run(text: str) -> dict:
    sim = Simulation(load_scenario_text(text, "test.yaml"))
    sim.run()
    return outcome(sim.events)


def test_handlers_run_after_threads_are_joined_last_registered_first() -> None:
    """Py_FinalizeEx: threading._shutdown joins the non-daemon threads, then atexit runs
    the handlers in reverse order of registration; an exception in one is printed
    ("Exception ignored in atexit callback") and the others still run; the exit status
    stays 0. Daemon threads run on meanwhile (measured on 3.11: "thread done", "h2", the
    ignored exception, "h1", status 0)."""
    result = run(THREADS)
    assert result["output"] == [
        "job done",
        "last registered",
        "daemon done",  # at 0.22 s, during the 50 ms handler: daemon threads still run
        "Exception ignored in atexit callback: <function at_exit_2 at 0x...>",
        "Traceback (most recent call last):",
        "  ...",
        "ValueError: oops",
        "first registered",
    ]
    assert result["elapsed"] == pytest.approx(0.2503, abs=1e-6)
    assert result["exit_code"] == 0
    assert result["main"] == {"outcome": "ok", "error": None}


def test_handlers_run_after_an_uncaught_exception_is_printed() -> None:
    """An exception that leaves main() is printed first, then the handlers run; the exit
    status is 1 (measured on 3.11)."""
    text = THREADS.replace("  atexit:", "  main: [submit, {raise: KeyError}]\n  atexit:")
    result = run(text)
    traceback = result["output"].index("KeyError")
    assert result["output"].index("last registered") > traceback
    assert result["exit_code"] == 1


def test_the_program_registers_each_handler_as_main_starts() -> None:
    prog = program(load_scenario_text(THREADS, "test.yaml"))
    lines = prog.source.splitlines()
    assert "def at_exit_1():" in lines and "def at_exit_4():" in lines
    start = lines.index("def main():")
    assert lines[start + 1 : start + 5] == [
        "    atexit.register(at_exit_1)",
        "    atexit.register(at_exit_2)",
        "    atexit.register(at_exit_3)",
        "    atexit.register(at_exit_4)",
    ]
    assert "import atexit" in lines


def _error(text: str) -> str:
    with pytest.raises(ScenarioError) as info:
        load_scenario_text(textwrap.dedent(text), "t.yaml")
    return str(info.value)


def test_atexit_is_version_2() -> None:
    assert _error(THREADS.replace("version: 2", "version: 1")) == (
        "t.yaml:8:3: program.atexit: `atexit` is a version-2 key; expected `version: 2` at "
        "the top of the file"
    )


def test_atexit_handlers_take_no_main_only_steps() -> None:
    text = THREADS.replace("{print: first registered}", "submit")
    assert _error(text) == (
        "t.yaml:9:5: program.atexit: 'submit' belongs in program.main, not in a handler "
        "(on_result, on_error, atexit)"
    )


def test_atexit_with_asyncio_is_refused_in_one_line() -> None:
    text = THREADS.replace(
        "model: threads\n  executor: false\n  collect: none", "model: asyncio"
    ).replace("    daemon: true\n", "")
    assert _error(text) == (
        "t.yaml:5:3: program: atexit handlers are modelled for sequential, threads and "
        "processes, not asyncio"
    )


def test_no_output_event_comes_from_a_handler_that_never_runs() -> None:
    """A program that hangs never reaches interpreter exit: no handler runs."""
    text = THREADS.replace("steps: [{sleep: 200ms}, {print: job done}]", "steps: [{get: q}]")
    text += "queues:\n  q: {}\n"
    sim = Simulation(load_scenario_text(text, "test.yaml"))
    sim.run()
    assert not [e for e in sim.events if isinstance(e, OutputWritten) and e.task is None]
