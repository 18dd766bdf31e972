"""``ProcessPoolExecutor`` (Lib/concurrent/futures/process.py), as CPython 3.11 runs it on
Linux; and what pickling a task's function raises."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from concsim.events import (
    CancelRequested,
    Cleanup,
    ExecutorShutdown,
    FutureState,
    LaneKind,
    LaneState,
    Outcome,
    PoolBroken,
    ProcessKilled,
    ResultPicklingFailed,
    ResultUnpicklingFailed,
)
from concsim.scenario.model import StartMethod

from ..interpreter import TaskResult
from ..runtime import Actor, Gil, Lane, Proc, SimError, TaskRun
from ..waits import Overhead
from .executor import Executor, Job
from .max_tasks import after_exit, pool_process_start, pool_start_method, stranded
from .pickling import result_error, unpicklable_errors, unpickling_error
from .process_manager import FEEDER_THREAD, ManagerThread, Returned

BROKEN_MESSAGE = (
    "A process in the process pool was terminated abruptly while the future was running or pending."
)
BROKEN_SUBMIT = "A child process terminated abruptly, the process pool is not usable anymore"


@dataclass(eq=False)
class ProcessPool(Executor):
    """CPython 3.11 on Linux forks all max_workers processes at the first submit, then
    starts the manager thread (process_manager.py), which moves work from the pending
    queue into a call queue of max_workers + 1 items when it wakes, pickles nothing
    itself (the queue's feeder thread does) and completes every future. Arguments are
    unpickled by the worker and results pickled on the way out. A process that dies
    breaks the pool: every running and pending future fails with BrokenProcessPool and
    the other workers are terminated."""

    how: str = "executor.submit (to a process)"
    call_queue: deque[Job] = field(default_factory=deque)  # pickled, in the pipe
    broken: bool = False
    _cannot_unpickle: frozenset[str] | None = None
    manager: ManagerThread = field(init=False)
    cancel_pending_futures: bool = False  # _cancel_pending_futures, read by the manager
    idle_workers: int = 0  # _idle_worker_semaphore: results since the last submits
    max_tasks: int | None = field(init=False)  # max_tasks_per_child
    retired: int = 0  # workers that exited after max_tasks_per_child calls

    def __post_init__(self) -> None:
        self.manager = ManagerThread(self)
        self.max_tasks = self.world.program.max_tasks_per_child

    def submit(self, job: Job) -> None:
        if self.broken:
            raise SimError("BrokenProcessPool", BROKEN_SUBMIT)
        super().submit(job)

    def _enqueue(self, job: Job) -> None:
        """``ProcessPoolExecutor.submit``: the work item is queued and the manager woken
        (the wakeup pipe); the first submit forks the processes and starts the manager."""
        self.queue.append(job)
        self.manager.wakeup = True
        method = pool_start_method(self.world.machine, self.max_tasks)
        dynamic = method is not StartMethod.FORK
        if dynamic:
            self._adjust_process_count()
        if self.manager.lane is not None:
            self.manager.wake()
            return
        if not dynamic:
            for _ in range(self.max_workers):
                self.spawn_process()
        self.manager.start()

    def spawn_process(self) -> str:
        """``_spawn_process``: one worker process, started (it pays ``process_start``)."""
        world = self.world
        gil = Gil() if world.machine.gil else None
        proc = Proc(f"process-{len(self.workers) + 1}", gil)
        lane = world.new_lane("process", LaneKind.PROCESS, proc)
        self.workers.append(lane)
        world.start(lane, self._worker(lane))
        return lane.id

    def alive(self) -> int:
        """``len(self._processes)``: the workers started and not retired."""
        return len(self.workers) - self.retired

    def _adjust_process_count(self) -> None:
        """Under ``spawn`` and ``forkserver`` (``_safe_to_dynamically_spawn_children``,
        Lib/concurrent/futures/process.py, 3.11) each ``submit`` calls
        ``_adjust_process_count``: an idle worker (``_idle_worker_semaphore``, released by
        the manager after each result) is used up, else one more process is started while
        there are fewer than ``max_workers``. Under ``fork`` all start at the first submit."""
        if self.idle_workers:
            self.idle_workers -= 1
        elif self.alive() < self.max_workers:
            self.spawn_process()

    def stranded(self) -> int:
        return stranded(self)

    def result_processed(self, returned: Returned) -> None:
        """After each result: ``executor._idle_worker_semaphore.release()``, or, when the
        worker exited after its last call (``max_tasks_per_child``), ``_adjust_process_count``."""
        if returned.calls is None:
            self.idle_workers += 1
        else:
            after_exit(self, returned.worker, returned.calls)

    def started_thread(self, workers: int) -> Lane | None:
        """The manager's lane while ``Thread.start()`` waits for it to run."""
        lane = self.manager.lane
        return lane if lane is not None and lane not in self.began else None

    def wake_idle_worker(self) -> bool:
        return self._wake_idle()

    def _on_shutdown(self) -> None:
        """``shutdown()`` and the interpreter's exit wake the manager (the wakeup pipe)."""
        self.manager.wakeup = True
        self.manager.wake()

    def shutdown(self, wait: bool, cancel_futures: bool) -> list[TaskRun]:
        """``ProcessPoolExecutor.shutdown``: it sets ``_cancel_pending_futures`` and
        ``_shutdown_thread`` and wakes the manager; it cancels nothing itself (the manager
        does, when it runs: ``flag_shutting_down``)."""
        self.cancel_pending_futures = cancel_futures
        self.world.emit(ExecutorShutdown, wait=wait, cancel_futures=cancel_futures)
        self.is_shutdown = True
        self._on_shutdown()
        return []

    def flag_shutting_down(self, lane: Lane) -> Actor:
        """``flag_executor_shutting_down``, in the manager thread: with
        ``_cancel_pending_futures`` it calls ``future.cancel()`` on every pending work
        item (the RUNNING ones, in the call queue, refuse) and drains the work-id queue,
        once. ``Future.cancel()`` notifies no ``wait()`` or ``as_completed()`` waiter and
        nobody will call ``set_running_or_notify_cancel()`` on them: those waiters never
        hear of these futures. Their done-callbacks run here, in the manager."""
        if not self.cancel_pending_futures:
            return
        self.cancel_pending_futures = False
        queued, self.queue = list(self.queue), deque()
        for job in queued:
            for run in job.runs:
                if run.future.state is not FutureState.PENDING:
                    continue
                self.world.emit(
                    CancelRequested,
                    task=run.name,
                    accepted=True,
                    reason="shutdown(cancel_futures=True): the pool's manager thread cancels "
                    "the futures still pending when it wakes",
                    by=lane.id,
                )
                self.runtime.cancel_pending(run, notified=False)
                if self.after_done is not None:
                    yield from self.after_done(lane, run)

    def pending(self) -> bool:
        """Whether ``pending_work_items`` still holds a future not done."""
        return any(run.submitted and not run.future.is_done for run in self.runtime.tasks)

    def workers_gone(self) -> bool:
        return all(lane.ended or lane.gen is None for lane in self.workers)

    def thread_name(self, lane: Lane) -> str:
        if lane is self.manager.lane:
            return FEEDER_THREAD if self.manager.in_feeder else self.manager.name
        return super().thread_name(lane)

    def _transfer(self, lane: Lane, kb: float, label: str) -> Actor:
        machine = self.world.machine
        cost = machine.pickle_overhead + round(kb * machine.pickle_per_kb)
        if cost:
            self.world.set_state(lane, LaneState.PICKLING, label)
            yield Overhead(self.world.clock.now + cost)

    def _worker(self, lane: Lane) -> Actor:
        """``_process_worker``: take a call, run it, put the result in the result queue
        (which wakes the manager); a ``None`` sentinel ends it."""
        world = self.world
        world.set_state(lane, LaneState.STARTING, "process start")
        yield Overhead(world.clock.now + pool_process_start(world.machine, self.max_tasks))
        calls = 0
        while True:
            while not self.call_queue:
                if self.manager.sentinels:
                    self._exit(lane)
                    return
                yield from self._wait_for_work(lane)
            job = self.call_queue.popleft()
            calls += 1
            yield from self._transfer(lane, sum(r.spec.arg_kb for r in job.runs), "unpickle args")
            results: list[tuple[TaskRun, TaskResult]] = []
            for run in job.runs:
                result: TaskResult = yield from self.runtime.execute(
                    lane, run, during_shutdown=self.is_shutdown
                )
                results.append((run, result))
                self.runtime.finish(lane, run, result, settle=False)
                if result.error is not None:
                    break
            results = self._pickle_results(lane, results)
            yield from self._transfer(
                lane, sum(r.spec.result_kb for r, _ in results), "pickle result"
            )
            last = self.max_tasks is not None and calls >= self.max_tasks
            refused = self._unpicklable(results)
            self.manager.results.append(
                Returned(lane, job, results, refused, calls if last else None)
            )
            self.manager.wake()
            if last:  # exit_pid was set: the worker returns once its result is sent
                world.release_gil(lane, "its process exited")
                world.set_state(lane, LaneState.DONE, f"exited after {calls} calls")
                lane.gen = None
                self.runtime.notify()
                return

    def _unpicklable(self, results: list[tuple[TaskRun, TaskResult]]) -> tuple[str, str] | None:
        """The task and exception class of a result the parent cannot unpickle, if any."""
        if self._cannot_unpickle is None:
            self._cannot_unpickle = unpicklable_errors(self.world.scenario)
        for run, res in results:
            if res.error is not None and res.error.error in self._cannot_unpickle:
                return run.name, res.error.error
        return None

    def _pickle_results(
        self, lane: Lane, results: list[tuple[TaskRun, TaskResult]]
    ) -> list[tuple[TaskRun, TaskResult]]:
        """``_sendback_result`` pickles the chunk's return values together; the first one
        pickle refuses is the error the worker sends back instead."""
        if any(res.error is not None for _, res in results):
            return results
        for run, _ in results:
            refused = result_error(run.spec, self.world.machine.python)
            if refused is not None:
                error, message = refused
                self.world.emit(
                    ResultPicklingFailed, lane=lane.id, task=run.name, error=error, message=message
                )
                failed = TaskResult(error=SimError(error, message))
                return [(r, failed) for r, _ in results]
        return results

    def kill(self, lane: Lane) -> None:
        """SIGKILL of one worker: it dies at once; the manager sees its sentinel and
        breaks the pool when it next runs."""
        world = self.world
        run = lane.task
        world.emit(ProcessKilled, lane=lane.id, task=run.name if run else None)
        world.kill(lane)
        if run is not None:
            self.runtime.kill_task(run, "its process was killed", "BrokenProcessPool")
        world.set_state(lane, LaneState.KILLED, run.name if run else None)
        self.manager.dead.append(lane)
        self.manager.wake()

    def terminate_broken(self, dead: Lane, refused: tuple[str, str] | None) -> None:
        """``terminate_broken``: the pool is marked broken, every pending future fails
        with BrokenProcessPool and every process still alive is terminated. ``refused``:
        the manager could not unpickle what that task raised (``cause``)."""
        world = self.world
        if refused is None:
            failed = self._break()
            world.emit(PoolBroken, lane=dead.id, failed=tuple(r.name for r in failed))
            return
        task, error = refused
        kind, message = unpickling_error(error)
        failed = self._break(cause=SimError(kind, message))
        world.emit(
            ResultUnpicklingFailed,
            lane=dead.id,
            task=task,
            error=kind,
            message=message,
            failed=tuple(r.name for r in failed),
        )

    def _break(self, cause: SimError | None = None) -> list[TaskRun]:
        world = self.world
        self.broken = True
        failed: list[TaskRun] = []
        error = SimError("BrokenProcessPool", BROKEN_MESSAGE)
        error.cause = cause  # the manager's _RemoteTraceback: what it could not unpickle
        # p.terminate() for every process still alive: their tasks die with them.
        for lane in self.workers:
            if lane.ended or lane.gen is None:
                continue
            run = lane.task
            world.kill(lane)
            if run is not None:
                self.runtime.kill_task(
                    run, "the broken pool terminated its process", "BrokenProcessPool"
                )
            world.set_state(lane, LaneState.KILLED, None)
        # every future still in pending_work_items fails
        for run in self.runtime.tasks:
            if run.submitted and not run.future.is_done:
                failed.append(run)
                self.runtime.settle(run, error=error)
                if not run.started:
                    self.runtime.end(run, Outcome.NEVER_STARTED, "BrokenProcessPool", Cleanup.NONE)
        self.queue.clear()
        self.call_queue.clear()
        self.manager.feeding.clear()
        return failed

    def finished(self) -> bool:
        """The manager thread has exited (``shutdown(wait=True)`` joins it), and so has
        every process."""
        lane = self.manager.lane
        manager_gone = lane is None or lane.ended or lane.gen is None
        return manager_gone and (self.broken or self.workers_gone())
