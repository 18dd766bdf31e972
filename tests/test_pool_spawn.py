"""``ProcessPoolExecutor`` under ``spawn`` and ``forkserver`` (``machine.start_method``).
Lib/concurrent/futures/process.py (3.11): with ``_safe_to_dynamically_spawn_children``
(any start method but fork) ``submit`` calls ``_adjust_process_count``, which uses up an idle
worker (``_idle_worker_semaphore``, released by the manager after each result) or else
starts one more process while there are fewer than ``max_workers``; under fork
``_start_executor_manager_thread`` launches all ``max_workers`` at the first submit. Each
new process pays its start method's start (130 ms spawn, 40 ms forkserver). Measured on
3.11.7 with ``len(executor._processes)``: max_workers=4, two submits: spawn 2, forkserver 2,
fork 4; a third submit after the results: still 2 under spawn."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from concsim.engine import Simulation
from concsim.events import LaneCreated, LaneKind, TaskStarted
from concsim.live.check import check_one
from concsim.scenario.loader import load_scenario_text
from concsim.scenario.model import Scenario

POOL = """
version: 2
name: pool
machine: {{cores: 2, start_method: {method}}}
program: {{model: processes, max_workers: 4}}
tasks:
  - name: work
    repeat: 2
    steps: [{{cpu: 50ms}}]
    returns: "work-{{i}} done"
"""

LATER = """
version: 2
name: later
machine: {cores: 2, start_method: spawn}
program:
  model: processes
  max_workers: 4
  main: [{submit: [work-1]}, {sleep: 300ms}, {submit: [work-2]}, collect]
tasks:
  - name: work
    repeat: 2
    steps: [{cpu: 50ms}]
    returns: "work-{i} done"
"""


def load(text: str) -> Scenario:
    return load_scenario_text(text, "p.yaml")


def run(text: str) -> Simulation:
    sim = Simulation(load(text))
    sim.run()
    return sim


def processes(sim: Simulation) -> list[str]:
    return [
        e.lane for e in sim.events if isinstance(e, LaneCreated) and e.lane_kind is LaneKind.PROCESS
    ]


def started(sim: Simulation) -> dict[str, float]:
    return {e.task: round(e.t, 4) for e in sim.events if isinstance(e, TaskStarted)}


@pytest.mark.parametrize(
    ("method", "workers", "start"),
    [("spawn", 2, 0.13), ("forkserver", 2, 0.04), ("fork", 4, 0.01)],
)
def test_spawn_and_forkserver_start_a_worker_per_submit(
    method: str, workers: int, start: float
) -> None:
    """Two submits to a pool of four: spawn and forkserver start two processes, one per
    submit, each paying its start; fork starts all four at the first submit."""
    sim = run(POOL.format(method=method))
    assert processes(sim) == [f"process-{n}" for n in range(1, workers + 1)]
    assert all(abs(t - start) < 0.0005 for t in started(sim).values())
    assert len(started(sim)) == 2


def test_a_submit_after_a_result_uses_the_idle_worker() -> None:
    """work-1's result releases the idle-worker semaphore; the submit at 0.3 s takes it and
    starts no process: work-2 runs at once in process-1."""
    sim = run(LATER)
    assert processes(sim) == ["process-1"]
    assert started(sim) == {"work-1": 0.1302, "work-2": 0.3002}


REAL = textwrap.dedent(
    """
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    def work(i):
        return i

    if __name__ == "__main__":
        for method in ("spawn", "forkserver", "fork"):
            context = multiprocessing.get_context(method)
            with ProcessPoolExecutor(4, mp_context=context) as executor:
                futures = [executor.submit(work, i) for i in range(2)]
                first = len(executor._processes)
                [future.result() for future in futures]
                executor.submit(work, 3).result()
                print(method, first, len(executor._processes))
    """
)


def test_cpython_starts_pool_workers_on_demand_unless_forking(tmp_path: object) -> None:
    """The tiny real check, on this interpreter: the counts the simulator gives."""
    from pathlib import Path

    path = Path(str(tmp_path), "pool_start.py")
    path.write_text(REAL)
    done = subprocess.run(
        [sys.executable, str(path)], capture_output=True, text=True, timeout=120, check=True
    )
    assert done.stdout.splitlines() == ["spawn 2 2", "forkserver 2 2", "fork 4 4"]


def test_a_shared_lock_is_still_refused_for_a_spawned_pool() -> None:
    """Each spawned worker imports the program and makes its own module-level lock."""
    text = POOL.format(method="spawn").replace(
        "steps: [{cpu: 50ms}]", "steps: [{with: db, steps: [{cpu: 5ms}]}]"
    )
    with pytest.raises(Exception) as error:
        load(text)
    assert str(error.value) == (
        "p.yaml:4:35: machine.start_method: under `spawn` each child imports the program "
        "again and makes its own lock `db`, so the processes would not share it; expected fork"
    )


@pytest.mark.parametrize("text", [POOL.format(method="spawn"), LATER], ids=["two", "later"])
def test_cpython_agrees_on_a_spawned_pool(text: str) -> None:
    check = check_one(load(text), None, loose=3.0)
    assert check.error is None
    assert [str(d) for d in check.disagreements] == []
