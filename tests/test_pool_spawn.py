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

from concsim.codegen import program
from concsim.engine import Simulation
from concsim.events import LaneCreated, LaneKind, TaskEnded, TaskStarted
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


SHARED = """
version: 2
name: pool
machine: {{cores: 2, start_method: {method}}}
program: {{model: processes, max_workers: 4}}
tasks:
  - name: first
    steps: [{{with: db, steps: [{{io: 150ms}}]}}]
  - name: second
    steps: [{{io: 80ms}}, {{with: db, steps: [{{io: 150ms}}]}}]
"""


def test_a_pool_sharing_a_lock_under_spawn_is_accepted() -> None:
    """No refusal: main makes the lock and the pool's initializer hands it over. Each
    write waits for the other's: the lock is one lock in both workers."""
    sim = run(SHARED.format(method="spawn"))
    assert started(sim) == {"first": 0.1302, "second": 0.1302}
    ended = {e.task: round(e.t, 4) for e in sim.events if isinstance(e, TaskEnded)}
    assert ended == {"first": 0.2802, "second": 0.4302}  # second waits 70 ms for the lock


@pytest.mark.parametrize("method", ["spawn", "forkserver", "fork"])
def test_the_program_hands_the_lock_to_each_worker_by_the_initializer(method: str) -> None:
    """``concsim code``: no module-level lock (a spawned worker would make its own, and
    ``set_start_method`` would raise RuntimeError('context has already been set')); main
    makes it and ``initializer``/``initargs`` give it to each worker as it starts."""
    source = program(load(SHARED.format(method=method))).source
    assert "\ndb = " not in source
    assert (
        "def init_worker(shared_db):\n"
        '    """Runs in each worker process as it starts (the pool\'s initializer): the\n'
        '    locks, queues and events main made become this process\'s globals."""\n'
        "    global db\n"
        "    db = shared_db\n"
    ) in source
    assert (
        "def main():\n"
        "    db = multiprocessing.Lock()\n"
        "    results = []\n"
        "    with ProcessPoolExecutor(max_workers=4, initializer=init_worker, initargs=(db,)) "
        "as executor:\n"
    ) in source


def test_a_pool_forking_by_default_keeps_its_module_level_lock() -> None:
    """No ``set_start_method``: the workers fork and inherit the module-level lock."""
    text = SHARED.format(method="fork").replace(", start_method: fork", "")
    source = program(load(text)).source
    assert "\ndb = multiprocessing.Lock()\n" in source
    assert "initializer" not in source


@pytest.mark.parametrize("method", ["spawn", "forkserver", "fork"])
def test_cpython_agrees_on_a_pool_sharing_a_lock(method: str) -> None:
    """``concsim check`` runs the program under each start method and agrees: who takes the
    lock first, results in order. Only fork's times are compared, and its workers' start,
    10 ms in the simulator, takes far longer on a loaded machine: wide margins."""
    check = check_one(load(SHARED.format(method=method)), None, loose=10.0)
    assert check.error is None
    assert [str(d) for d in check.disagreements] == []


SHARING = textwrap.dedent(
    """
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    def held(lock):
        return lock.acquire(block=False)

    def held_global():
        return db.acquire(block=False)

    def init_worker(shared_db):
        global db
        db = shared_db

    if __name__ == "__main__":
        for method in ("spawn", "forkserver", "fork"):
            context = multiprocessing.get_context(method)
            lock = context.Lock()
            lock.acquire()
            with ProcessPoolExecutor(1, mp_context=context) as executor:
                try:
                    executor.submit(held, lock).result()
                except RuntimeError as error:
                    print(method, "submit:", error)
            with ProcessPoolExecutor(
                1, mp_context=context, initializer=init_worker, initargs=(lock,)
            ) as executor:
                print(method, "initializer:", executor.submit(held_global).result())
    """
)


def test_cpython_shares_a_lock_with_pool_workers_only_through_the_initializer(
    tmp_path: object,
) -> None:
    """Measured on 3.11.7, 3.12.1 and 3.13.0 alike: ``submit(f, lock)`` fails to pickle the
    lock under every start method; handed over by ``initializer``/``initargs`` it is main's
    lock in the worker (main holds it: the worker's ``acquire(block=False)`` is False)."""
    from pathlib import Path

    path = Path(str(tmp_path), "pool_lock.py")
    path.write_text(SHARING)
    done = subprocess.run(
        [sys.executable, str(path)], capture_output=True, text=True, timeout=120, check=True
    )
    refused = "Lock objects should only be shared between processes through inheritance"
    assert done.stdout.splitlines() == [
        line
        for method in ("spawn", "forkserver", "fork")
        for line in (f"{method} submit: {refused}", f"{method} initializer: False")
    ]


CONTEXT_SET = textwrap.dedent(
    """
    import multiprocessing

    db = multiprocessing.Lock()

    if __name__ == "__main__":
        try:
            multiprocessing.set_start_method("fork")
        except RuntimeError as error:
            print(error)
    """
)


def test_cpython_refuses_set_start_method_after_a_module_level_lock(tmp_path: object) -> None:
    """Measured on 3.11.7, 3.12.1 and 3.13.0: ``multiprocessing.Lock()`` fixes the default
    context, and ``set_start_method`` then raises, even for the method already in use."""
    from pathlib import Path

    path = Path(str(tmp_path), "context_set.py")
    path.write_text(CONTEXT_SET)
    done = subprocess.run(
        [sys.executable, str(path)], capture_output=True, text=True, timeout=60, check=True
    )
    assert done.stdout == "context has already been set\n"
