"""``ProcessPoolExecutor`` (Lib/concurrent/futures/process.py), as CPython 3.11 runs it on
Linux; and what pickling a task's function raises."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from concsim.events import (
    Cleanup,
    LaneKind,
    LaneState,
    Outcome,
    PicklingFailed,
    PoolBroken,
    ProcessKilled,
    ResultPicklingFailed,
    ResultUnpicklingFailed,
)

from ..interpreter import TaskResult
from ..runtime import Actor, Gil, Lane, Proc, SimError, TaskRun
from ..waits import Overhead
from .executor import Executor, Job
from .pickling import (
    cannot_send_call,
    pickling_error,
    result_error,
    unpicklable_errors,
    unpickling_error,
)

BROKEN_MESSAGE = (
    "A process in the process pool was terminated abruptly while the future was running or pending."
)
BROKEN_SUBMIT = "A child process terminated abruptly, the process pool is not usable anymore"


@dataclass(eq=False)
class ProcessPool(Executor):
    """CPython 3.11 on Linux forks all max_workers processes at the first submit. Work moves
    from the pending queue to a call queue of max_workers + 1 items, and a future becomes
    RUNNING (so ``cancel()`` fails) as it enters the call queue, before any process takes
    it. Arguments are pickled on the way in and results on the way out. A process that
    dies breaks the pool: every running and pending future fails with BrokenProcessPool
    and the other workers are terminated."""

    how: str = "executor.submit (to a process)"
    _notifies_drained: bool = True
    call_queue: deque[Job] = field(default_factory=deque)
    broken: bool = False
    _cannot_unpickle: frozenset[str] | None = None
    started: bool = False

    def submit(self, job: Job) -> None:
        if self.broken:
            raise SimError("BrokenProcessPool", BROKEN_SUBMIT)
        super().submit(job)

    def _enqueue(self, job: Job) -> None:
        if not self.started:
            self.started = True
            world = self.world
            for _ in range(self.max_workers):
                gil = Gil() if world.machine.gil else None
                number = len(self.workers) + 1
                proc = Proc(f"process-{number}", gil)
                lane = world.new_lane("process", LaneKind.PROCESS, proc)
                self.workers.append(lane)
                world.start(lane, self._worker(lane))
        self.queue.append(job)
        self._fill_call_queue()

    def _fill_call_queue(self) -> None:
        world = self.world
        while self.queue and len(self.call_queue) < self.max_workers + 1:
            job = self.queue.popleft()
            live = [run for run in job.runs if self.runtime.set_running(run)]
            for run in job.runs:
                if run not in live:
                    self.runtime.release_cancelled(run)
            if not live:
                continue
            unpicklable = next((run for run in live if cannot_send_call(run.spec)), None)
            if unpicklable is not None:
                # The queue feeder thread fails to pickle the call and puts the error in
                # the future (3.11: _on_queue_feeder_error); the pool stays usable.
                error, message = pickling_error(unpicklable.spec, world.machine.python)
                for run in live:
                    world.emit(PicklingFailed, task=run.name, error=error, message=message)
                    self.runtime.settle(run, error=SimError(error, message))
                continue
            self.call_queue.append(job)
            self._wake_idle()

    def _transfer(self, lane: Lane, kb: float, label: str) -> Actor:
        machine = self.world.machine
        cost = machine.pickle_overhead + round(kb * machine.pickle_per_kb)
        if cost:
            self.world.set_state(lane, LaneState.PICKLING, label)
            yield Overhead(self.world.clock.now + cost)

    def _worker(self, lane: Lane) -> Actor:
        world = self.world
        world.set_state(lane, LaneState.STARTING, "process start")
        yield Overhead(world.clock.now + world.machine.process_start)
        while True:
            while not self.call_queue:
                if self.is_shutdown and not self.queue:
                    self._exit(lane)
                    return
                yield from self._wait_for_work(lane)
            job = self.call_queue.popleft()
            self._fill_call_queue()
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
            refused = self._unpicklable(results)
            if refused is not None:
                self._break_on_result(lane, *refused)
                return
            self._settle_chunk(job, results)

    def _unpicklable(self, results: list[tuple[TaskRun, TaskResult]]) -> tuple[str, str] | None:
        """The task and exception class of a result the parent cannot unpickle, if any."""
        if self._cannot_unpickle is None:
            self._cannot_unpickle = unpicklable_errors(self.world.scenario)
        for run, res in results:
            if res.error is not None and res.error.error in self._cannot_unpickle:
                return run.name, res.error.error
        return None

    def _break_on_result(self, lane: Lane, task: str, error: str) -> None:
        """3.11, ``_ExecutorManagerThread.wait_result_broken_or_wakeup``: unpickling the
        result raises, so the manager marks the pool broken and ``terminate_broken``
        fails every pending future (the sender's too) and terminates every worker."""
        world = self.world
        kind, message = unpickling_error(error)
        failed = self._break(lane, cause=SimError(kind, message))
        world.release_gil(lane, "its process was terminated")
        world.set_state(lane, LaneState.KILLED, None)
        lane.gen = None
        world.emit(
            ResultUnpicklingFailed,
            lane=lane.id,
            task=task,
            error=kind,
            message=message,
            failed=tuple(r.name for r in failed),
        )

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

    def _settle_chunk(self, job: Job, results: list[tuple[TaskRun, TaskResult]]) -> None:
        """A chunk's results travel back together; an error fails the whole chunk."""
        error = next((res.error for _, res in results if res.error is not None), None)
        for run in job.runs:
            if error is not None:
                self.runtime.settle(run, error=error)
            else:
                value = next(res.value for r, res in results if r is run)
                self.runtime.settle(run, value=value)

    def kill(self, lane: Lane) -> None:
        """SIGKILL of one worker: it dies at once, and the pool breaks."""
        world = self.world
        run = lane.task
        world.emit(ProcessKilled, lane=lane.id, task=run.name if run else None)
        world.kill(lane)
        if run is not None:
            self.runtime.kill_task(run, "its process was killed", "BrokenProcessPool")
        world.set_state(lane, LaneState.KILLED, run.name if run else None)
        failed = self._break(lane)
        world.emit(PoolBroken, lane=lane.id, failed=tuple(r.name for r in failed))

    def _break(self, dead: Lane, cause: SimError | None = None) -> list[TaskRun]:
        world = self.world
        self.broken = True
        failed: list[TaskRun] = []
        error = SimError("BrokenProcessPool", BROKEN_MESSAGE)
        error.cause = cause  # the manager's _RemoteTraceback: what it could not unpickle
        # terminate_broken(): every other worker is terminated; their tasks die with them.
        for lane in self.workers:
            if lane is dead or lane.ended:
                continue
            run = lane.task
            world.kill(lane)
            if run is not None:
                self.runtime.kill_task(
                    run, "the broken pool terminated its process", "BrokenProcessPool"
                )
            world.set_state(lane, LaneState.KILLED, None)
        for run in self.runtime.tasks:
            if run.submitted and not run.future.is_done:
                failed.append(run)
                self.runtime.settle(run, error=error)
                if not run.started:
                    self.runtime.end(run, Outcome.NEVER_STARTED, "BrokenProcessPool", Cleanup.NONE)
        self.queue.clear()
        self.call_queue.clear()
        return failed

    def finished(self) -> bool:
        return self.broken or super().finished()
