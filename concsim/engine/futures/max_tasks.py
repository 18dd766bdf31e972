"""``ProcessPoolExecutor(max_tasks_per_child=N)`` (Lib/concurrent/futures/process.py, 3.11
to 3.13.0 and 3.14.0): the start method it implies, and what the manager thread does when
a worker exits after its N-th call.

Measured on 3.11.7, 3.12.1 and 3.13.0 (tests/test_max_tasks_per_child.py): two workers,
``max_tasks_per_child=2``, six 50 ms calls submitted at once: four results, then the
program hangs in ``result()``; ``max_tasks_per_child=1`` runs all six."""

from __future__ import annotations

from collections import deque
from typing import Protocol

from concsim.events import WorkerRetired
from concsim.scenario.model import Machine, StartMethod

from ..runtime import Lane
from ..world import World
from .executor import Job


class _Manager(Protocol):
    feeding: deque[Job]


class ProcessPool(Protocol):
    """What these functions read and call of the pool (process_pool.py)."""

    max_workers: int
    max_tasks: int | None
    retired: int
    idle_workers: int
    broken: bool
    queue: deque[Job]
    call_queue: deque[Job]

    @property
    def manager(self) -> _Manager: ...

    @property
    def world(self) -> World: ...

    def alive(self) -> int: ...

    def spawn_process(self) -> str: ...


def pool_start_method(machine: Machine, max_tasks: int | None) -> StartMethod:
    """``ProcessPoolExecutor.__init__`` with no ``mp_context``: with ``max_tasks_per_child``
    it takes ``mp.get_context("spawn")`` whatever ``set_start_method`` chose (a ``fork``
    context given explicitly raises ValueError, which the format cannot write); without it,
    the default context."""
    if max_tasks is not None:
        return StartMethod.SPAWN
    return machine.resolved_start_method


def pool_process_start(machine: Machine, max_tasks: int | None) -> int:
    """The cost of starting one worker: spawn's when ``max_tasks_per_child`` makes the pool
    spawn, unless the file wrote ``process_start`` (a cost other than its method's)."""
    method = pool_start_method(machine, max_tasks)
    written = machine.process_start != machine.resolved_start_method.process_start
    if written or method is machine.resolved_start_method:
        return machine.process_start
    return method.process_start


def after_exit(pool: ProcessPool, lane: Lane, calls: int) -> None:
    """The manager read a result whose ``exit_pid`` is set: it pops that process, joins it
    and calls ``executor._adjust_process_count()``. That first tries
    ``_idle_worker_semaphore.acquire(blocking=False)``: the semaphore counts results
    (released after each one that was not a worker's last), not idle workers, so a token
    left by an earlier result is taken and no process is started (gh-115634, fixed by
    GH-140900 in later patch releases). Only with no token does it start a replacement."""
    pool.retired += 1
    replacement: str | None = None
    if pool.idle_workers:
        pool.idle_workers -= 1
    elif pool.alive() < pool.max_workers:
        replacement = pool.spawn_process()
    pool.world.emit(WorkerRetired, lane=lane.id, calls=calls, replacement=replacement)


def stranded(pool: ProcessPool) -> int:
    """Calls queued (or in the call queue) while no worker process is left to run them: the
    manager then waits for a result that can never come."""
    if pool.max_tasks is None or pool.broken or pool.alive():
        return 0
    jobs = [*pool.queue, *pool.call_queue, *pool.manager.feeding]
    return sum(len(job.runs) for job in jobs)
