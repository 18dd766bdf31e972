"""The thread a ``ProcessPoolExecutor`` runs in the parent (Lib/concurrent/futures/process.py,
``_ExecutorManagerThread``), and the call queue's feeder thread that pickles what it puts
(Lib/multiprocessing/queues.py, ``Queue._feed``; ``_SafeQueue._on_queue_feeder_error``)."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from concsim.events import LaneKind, LaneState, PicklingFailed

from ..interpreter import TaskResult
from ..runtime import Actor, Lane, SimError, TaskRun
from ..runtime_core import Runtime
from ..waits import WORK_WAIT, Overhead
from ..world import World
from .executor import Job
from .pickling import cannot_send_call, pickling_error

EXTRA_QUEUED_CALLS = 1
"""Calls queued beyond the processes (``EXTRA_QUEUED_CALLS``): the call queue holds
``max_workers + 1`` items, and a future in it cannot be cancelled."""

FEEDER_THREAD = "QueueFeederThread"
"""The call queue's feeder thread (``Queue._start_thread`` names it)."""


class Pool(Protocol):
    """What the manager reads and calls of its ``ProcessPoolExecutor`` (process_pool.py)."""

    runtime: Runtime
    max_workers: int
    queue: deque[Job]  # work_ids_queue: submitted, not yet in the call queue
    call_queue: deque[Job]  # pickled calls in the pipe
    is_shutdown: bool
    began: set[Lane]
    after_done: Callable[[Lane, TaskRun], Actor] | None

    @property
    def world(self) -> World: ...

    def wake_idle_worker(self) -> bool: ...

    def terminate_broken(self, dead: Lane, refused: tuple[str, str] | None) -> None: ...

    def flag_shutting_down(self, lane: Lane) -> Actor: ...

    def pending(self) -> bool: ...

    def workers_gone(self) -> bool: ...

    def result_processed(self, returned: Returned) -> None: ...

    def stranded(self) -> int: ...


@dataclass(eq=False)
class Returned:
    """A ``_ResultItem`` in the result queue: a worker's results for one job."""

    worker: Lane
    job: Job
    results: list[tuple[TaskRun, TaskResult]]
    refused: tuple[str, str] | None = None  # (task, exception class) the parent cannot unpickle
    calls: int | None = None  # exit_pid set: the worker's last call (max_tasks_per_child)


@dataclass(eq=False)
class ManagerThread:
    """What the manager thread waits on and does when it wakes: ``run()``'s loop.

    It wakes on a result, on the wakeup pipe (a submit, a shutdown, or the feeder failing
    to pickle a call) or on a worker's death; each time, with the GIL, it handles one
    result, then moves queued calls into the call queue while it is not full
    (``add_call_item_to_queue``): ``set_running_or_notify_cancel()`` makes each future
    RUNNING as it goes in. The feeder pickles the calls put when the manager blocks
    again; it is not drawn: its work shows on the manager's lane."""

    pool: Pool
    lane: Lane | None = None
    results: deque[Returned] = field(default_factory=deque)
    wakeup: bool = False
    dead: list[Lane] = field(default_factory=list)
    feeding: deque[Job] = field(default_factory=deque)  # put, not yet pickled by the feeder
    feeder_started: bool = False
    in_feeder: bool = False  # the feeder's work runs now (callbacks print its name)
    sentinels: bool = False  # shutdown_workers(): every idle worker exits
    waiting: bool = False
    name: str = ""  # threading.current_thread().name, once started

    def start(self) -> Lane:
        """``_start_executor_manager_thread()``: the thread starts after the processes.
        ``_ExecutorManagerThread`` calls ``Thread.__init__()`` without a name, so it is
        ``Thread-N``, N the next number of the counter every unnamed thread shares
        (benchmarks/cpython_facts/process_shutdown_cancel.py); the feeder is named."""
        world = self.pool.world
        self.name = world.unnamed_thread()
        lane = world.new_lane("thread", LaneKind.THREAD, world.main_proc, name=self.name)
        self.lane = lane
        world.start(lane, self.run(lane))
        return lane

    def wake(self) -> None:
        """Something the manager waits on happened: it runs again (once it has the GIL)."""
        lane = self.lane
        if lane is not None and self.waiting:
            self.waiting = False
            self.pool.world.clock.soon(self.pool.world.wake, lane, lane.epoch)

    def run(self, lane: Lane) -> Actor:
        """``_ExecutorManagerThread.run``."""
        pool = self.pool
        world = pool.world
        yield from world.ensure_gil(lane)  # Thread._bootstrap runs Python code
        pool.began.add(lane)
        pool.runtime.notify()
        while True:
            yield from self.add_call_items(lane)
            yield from self.wait_result_broken_or_wakeup(lane)
            if self.dead:
                pool.terminate_broken(self.dead[0], None)
                break
            if self.results:
                returned = self.results.popleft()
                if returned.refused is not None:
                    pool.terminate_broken(returned.worker, returned.refused)
                    break
                yield from self.process_result(lane, returned)
            if pool.is_shutdown:
                yield from pool.flag_shutting_down(lane)
                yield from self.add_call_items(lane)
                if not pool.pending():
                    yield from self.join_executor_internals(lane)
                    break
        self.pool.world.release_gil(lane, "its thread exited")
        world.set_state(lane, LaneState.DONE, "exited")
        lane.gen = None
        pool.runtime.notify()

    def add_call_items(self, lane: Lane) -> Actor:
        """``add_call_item_to_queue``: while the call queue is not full, the next queued
        call goes in, its future made RUNNING; a cancelled one is dropped. The first put
        starts the feeder thread, and ``Thread.start()`` waits for it: the GIL goes to
        any thread waiting for it meanwhile."""
        pool = self.pool
        runtime = pool.runtime
        while pool.queue and self.queued() < pool.max_workers + EXTRA_QUEUED_CALLS:
            job = pool.queue.popleft()
            live = [run for run in job.runs if runtime.set_running(run)]
            for run in job.runs:
                if run not in live:
                    runtime.release_cancelled(run)
            if not live:
                continue
            self.feeding.append(job)
            if not self.feeder_started:
                self.feeder_started = True
                world = pool.world
                world.release_gil(lane, "Thread.start() waits for QueueFeederThread")
                yield Overhead(world.clock.now)  # a thread woken meanwhile asks first
                yield from world.ensure_gil(lane)

    def queued(self) -> int:
        """Calls put in the call queue and not yet taken by a worker (its semaphore)."""
        return len(self.feeding) + len(self.pool.call_queue)

    def wait_result_broken_or_wakeup(self, lane: Lane) -> Actor:
        """Block (the GIL released) until a result, a wakeup or a dead worker; the feeder
        pickles what was put meanwhile. Then take the GIL again and clear the wakeup."""
        world = self.pool.world
        yield from self.feed(lane)
        while not (self.results or self.wakeup or self.dead):
            world.release_gil(lane, "it waits for results")
            stranded = self.pool.stranded()
            detail = "waiting for results"
            if stranded:
                # What matters first: a lane's status shows about 27 characters.
                detail = f"{stranded} calls queued, no worker left to run them (gh-115634)"
            world.set_state(lane, LaneState.IDLE, detail)
            self.waiting = True
            try:
                yield WORK_WAIT
            finally:
                self.waiting = False
        self.wakeup = False
        yield from world.ensure_gil(lane)

    def feed(self, lane: Lane) -> Actor:
        """``Queue._feed``: each call put is pickled into the pipe, where a worker can take
        it. One that cannot be pickled never arrives: ``_on_queue_feeder_error`` sets the
        exception on its future (in the feeder thread), frees its place and wakes the
        manager; the pool stays usable."""
        pool = self.pool
        world = pool.world
        while self.feeding:
            job = self.feeding.popleft()
            refused = next((run for run in job.runs if cannot_send_call(run.spec)), None)
            if refused is None:
                pool.call_queue.append(job)
                pool.wake_idle_worker()
                continue
            error, message = pickling_error(refused.spec, world.machine.python)
            self.wakeup = True
            self.in_feeder = True
            try:
                for run in job.runs:
                    world.emit(PicklingFailed, task=run.name, error=error, message=message)
                    pool.runtime.settle(run, error=SimError(error, message))
                    if pool.after_done is not None:
                        yield from pool.after_done(lane, run)
            finally:
                self.in_feeder = False

    def process_result(self, lane: Lane, returned: Returned) -> Actor:
        """``process_result_item``: the future gets its result or exception here, in the
        manager thread, and so do its done-callbacks run."""
        pool = self.pool
        job, results = returned.job, returned.results
        error = next((res.error for _, res in results if res.error is not None), None)
        for run in job.runs:  # a chunk's results travel together; an error fails it all
            if error is not None:
                pool.runtime.settle(run, error=error)
            else:
                value = next(res.value for r, res in results if r is run)
                pool.runtime.settle(run, value=value)
        if pool.after_done is not None:
            for run in job.runs:
                yield from pool.after_done(lane, run)
        pool.result_processed(returned)

    def join_executor_internals(self, lane: Lane) -> Actor:
        """``shutdown_workers()`` puts one ``None`` per process: each exits once the call
        queue is empty; then the manager joins them."""
        pool = self.pool
        self.sentinels = True
        while pool.wake_idle_worker():
            pass
        yield from pool.runtime.wait_until(lane, pool.workers_gone, "join_executor_internals()")
