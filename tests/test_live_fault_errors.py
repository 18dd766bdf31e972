"""A ``fail`` fault names the exception class it raises; live, the class must behave as the
simulator says even when its constructor wants more than a message (``unpicklable: true``:
``def __init__(self, message, code)``) or when the program has no such class.

CPython 3.11: an exception pickles as ``(type(e), e.args)`` (``BaseException.__reduce__``);
a process pool's parent that cannot rebuild it (``QuotaError('injected')`` misses ``code``)
breaks the pool (Lib/concurrent/futures/process.py, ``wait_result_broken_or_wakeup``):
every future fails with ``BrokenProcessPool``. On threads nothing is pickled: the task
raises ``QuotaError: injected``."""

from __future__ import annotations

import pickle
import textwrap
from typing import Any

from concsim.engine import Simulation
from concsim.events import FaultRefused
from concsim.export.outcome import outcome
from concsim.live.compare import compare
from concsim.live.control import _error
from concsim.live.session import LiveSession
from concsim.scenario.loader import load_scenario_text

LOOSE = 3.0

PROGRAM = """\
version: 2
name: fault-errors
program: {{model: {model}, max_workers: 2}}
tasks:
  - name: charge
    steps:
      - {{io: 600ms}}
      - {{raise: QuotaError, message: over quota, unpicklable: true}}
  - name: square
    steps:
      - {{io: 400ms}}
    returns: done
faults:
  - {{fault: fail, target: square, at: 100ms, error: {error}}}
"""


def both(model: str, error: str) -> tuple[list[Any], list[Any], Any]:
    scenario = load_scenario_text(textwrap.dedent(PROGRAM.format(model=model, error=error)))
    simulation = Simulation(scenario)
    simulation.run()
    live = LiveSession(scenario).run_to_end(limit=20)
    assert not [e for e in live if isinstance(e, FaultRefused)]
    return list(simulation.events), live, scenario


def test_a_class_the_parent_cannot_unpickle_breaks_the_pool_live_too() -> None:
    """QuotaError('injected') raised in a worker: the parent cannot rebuild it, the pool
    breaks and main raises BrokenProcessPool, as simulated."""
    simulated, live, scenario = both("processes", "QuotaError")
    main = outcome(live)["main"]
    assert (main["outcome"], main["error"]) == ("raised", "BrokenProcessPool")
    assert "QuotaError.__init__() missing 1 required positional argument" in main["cause"]
    assert [d for d in compare(scenario, simulated, live, loose=LOOSE) if not d.timing] == []


def test_the_same_class_on_a_thread_raises_with_the_message_injected() -> None:
    """On a thread pool the task fails with QuotaError('injected'), as simulated."""
    simulated, live, scenario = both("threads", "QuotaError")
    assert outcome(live)["main"] == {"outcome": "raised", "error": "QuotaError"}
    assert outcome(simulated)["main"] == outcome(live)["main"]
    assert outcome(live)["output"][-1] == "QuotaError: injected"
    assert [d for d in compare(scenario, simulated, live, loose=LOOSE) if not d.timing] == []


def test_a_class_the_program_does_not_define_travels_back_from_a_worker() -> None:
    """LedgerError, no class of the program's: the task fails with it and the pool goes
    on (charge still raises its QuotaError), as simulated."""
    simulated, live, scenario = both("processes", "LedgerError")
    tasks = {task["name"]: task for task in outcome(live)["tasks"]}
    assert (tasks["square"]["outcome"], tasks["square"]["error"]) == ("failed", "LedgerError")
    assert [d for d in compare(scenario, simulated, live, loose=LOOSE) if not d.timing] == []


def test_the_injected_error_pickles_as_cpython_pickles_its_class() -> None:
    """A made class is rebuilt by name in another process; a builtin keeps its own."""
    made = pickle.loads(pickle.dumps(_error("LedgerError")))
    assert (type(made).__name__, made.args) == ("LedgerError", ("injected",))
    assert repr(pickle.loads(pickle.dumps(_error("KeyError")))) == "KeyError('injected')"
