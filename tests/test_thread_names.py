"""Threads are named as CPython names them, in the simulator and in the generated program
alike (Lib/threading.py, ``_newname`` and ``Thread.__init__``: ``Thread-N (function)`` since
3.10; Lib/concurrent/futures/thread.py: ``ThreadPoolExecutor-0_N``), and the default
executor of ``asyncio.to_thread`` has ``min(32, cpus + 4)`` workers
(Lib/concurrent/futures/thread.py, ``ThreadPoolExecutor.__init__``)."""

from __future__ import annotations

import subprocess
import sys

from concsim.codegen import program
from concsim.engine import Simulation
from concsim.events import LaneCreated, OutputWritten
from concsim.export.outcome import outcome
from concsim.scenario.loader import load_scenario_text

PLAIN = """\
name: pt
program:
  model: threads
  executor: false
tasks:
  - name: fetch_page
    repeat: 2
    steps: [{io: 50ms}, {raise: ValueError, message: bad page}]
"""


def test_an_unnamed_thread_is_thread_n_of_its_function_in_both() -> None:
    """threading.excepthook prints 'Exception in thread Thread-1 (fetch_page):': the program
    creates its threads without a name, so CPython numbers them as the simulator does."""
    scenario = load_scenario_text(PLAIN, "s.yaml")
    sim = Simulation(scenario)
    sim.run()
    heads = [
        e.text.splitlines()[0]
        for e in sim.events
        if isinstance(e, OutputWritten) and e.text.startswith("Exception in thread")
    ]
    assert heads == [
        "Exception in thread Thread-1 (fetch_page):",
        "Exception in thread Thread-2 (fetch_page):",
    ]
    source = program(scenario).source
    assert "threading.Thread(target=fetch_page, args=(i,))" in source
    # a program of 50 ms: the limit only stops a hung run, so it is wide (a busy machine)
    ran = subprocess.run(
        [sys.executable, "-c", source], capture_output=True, text=True, timeout=300
    )
    # Both threads raise at once. threading.excepthook (_thread._excepthook) writes its first
    # line in three writes, "Exception in thread ", the name, ":\n"; with PYTHONUNBUFFERED
    # set (the environment is inherited) each is a system call, which lets the other thread
    # take the GIL: on a busy machine the two lines interleave ("Exception in thread
    # Exception in thread Thread-2 (fetch_page):\n...Thread-1 (fetch_page)"). Each name is
    # written whole.
    assert ran.stderr.count("Exception in thread ") == 2
    assert "Thread-1 (fetch_page)" in ran.stderr
    assert "Thread-2 (fetch_page)" in ran.stderr


def test_the_default_executor_of_to_thread_has_cpus_plus_4_workers() -> None:
    """With 2 cores, asyncio.to_thread runs on 6 threads: 8 calls of 0.1 s take two
    rounds, 0.2 s (as min(32, 2 + 4) workers would)."""
    scenario = load_scenario_text(
        """\
name: tt
machine: {cores: 2}
program: {model: asyncio}
tasks:
  - {name: call, repeat: 8, steps: [{to_thread: 100ms}]}
""",
        "s.yaml",
    )
    sim = Simulation(scenario)
    sim.run()
    threads = [e.lane for e in sim.events if isinstance(e, LaneCreated) and "thread" in e.lane]
    assert len(threads) == 6
    assert outcome(sim.events)["elapsed"] == 0.2
