"""What the two pools share (Lib/concurrent/futures/_base.py, ``Executor``): work items,
submitting, idle workers, shutdown, and a worker running its job."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from concsim.events import (
    ExecutorShutdown,
    LaneState,
    TaskSubmitted,
)
from concsim.scenario.pynames import POOL_THREAD

from ..interpreter import TaskResult
from ..runtime import Actor, Lane, SimError, TaskRun
from ..runtime_core import Runtime
from ..waits import WORK_WAIT
from ..world import World

SHUTDOWN_SUBMIT = "cannot schedule new futures after shutdown"


@dataclass(eq=False)
class Job:
    """A work item: one task, a chunk of tasks (``map(chunksize=...)``), or a bare call."""

    runs: list[TaskRun]
    call: Callable[[Lane], Actor] | None = None  # a bare call (asyncio.to_thread)
    done: Callable[[], None] | None = None


@dataclass(eq=False)
class Executor:
    runtime: Runtime
    max_workers: int
    queue: deque[Job] = field(default_factory=deque)
    workers: list[Lane] = field(default_factory=list)
    idle: deque[Lane] = field(default_factory=deque)
    is_shutdown: bool = False
    how: str = "executor.submit"
    # Future._invoke_callbacks in the worker that completed the future (callbacks.py)
    after_done: Callable[[Lane, TaskRun], Actor] | None = None
    began: set[Lane] = field(default_factory=set)  # threads that have run their first bytecode

    @property
    def world(self) -> World:
        return self.runtime.world

    def submit(self, job: Job) -> None:
        if self.is_shutdown:
            raise SimError("RuntimeError", SHUTDOWN_SUBMIT)
        for run in job.runs:
            run.submitted = True
            self.world.emit(TaskSubmitted, task=run.name, how=self.how)
        self._enqueue(job)

    def _enqueue(self, job: Job) -> None:
        raise NotImplementedError

    def started_thread(self, workers: int) -> Lane | None:
        """The thread the last submit started (``workers``: how many there were before),
        whose ``Thread.start()`` the submitting thread waits for; None if none."""
        return None

    def _wake_idle(self) -> bool:
        if not self.idle:
            return False
        lane = self.idle.popleft()
        self.world.clock.soon(self.world.wake, lane, lane.epoch)
        return True

    def shutdown(self, wait: bool, cancel_futures: bool) -> list[TaskRun]:
        """``ThreadPoolExecutor.shutdown``: mark shut down and, if asked, drain the queue
        and ``cancel()`` each future in it, here in the calling thread (which runs their
        callbacks); returns the cancelled runs. ``Future.cancel()`` notifies no ``wait()``
        or ``as_completed()`` waiter, and no worker will ever dequeue (notify) them."""
        cancelled: list[TaskRun] = []
        if cancel_futures:
            for job in self._queued_jobs():
                for run in job.runs:
                    if not run.future.is_done and not run.started:
                        self.runtime.cancel_pending(run, notified=False)
                        cancelled.append(run)
            self.queue.clear()
        self.world.emit(
            ExecutorShutdown,
            wait=wait,
            cancel_futures=cancel_futures,
            cancelled=tuple(r.name for r in cancelled),
        )
        self.is_shutdown = True
        self._on_shutdown()
        return cancelled

    def _on_shutdown(self) -> None:
        """Idle workers wake to see the shutdown (a thread pool puts ``None`` for each)."""
        while self._wake_idle():
            pass

    def at_exit(self) -> None:
        """The interpreter exits with the executor never shut down: its exit hook
        (``_python_exit``) wakes the workers, which finish the queue and exit."""
        if not self.is_shutdown:
            self.is_shutdown = True
            self._on_shutdown()

    def thread_name(self, lane: Lane) -> str:
        """``threading.current_thread().name`` on one of the executor's lanes."""
        return POOL_THREAD.format(self.workers.index(lane))

    def _queued_jobs(self) -> list[Job]:
        return list(self.queue)

    def _wait_for_work(self, lane: Lane) -> Actor:
        """An idle worker blocks in ``queue.get()`` until work (or shutdown) wakes it."""
        self.world.release_gil(lane, "it waits for work")
        self.world.set_state(lane, LaneState.IDLE)
        self.idle.append(lane)
        try:
            yield WORK_WAIT
        finally:
            if lane in self.idle:
                self.idle.remove(lane)

    def _exit(self, lane: Lane) -> None:
        """The worker returns: shutdown(wait=True) and interpreter exit see it gone."""
        self.world.release_gil(lane, "its thread exited")
        self.world.set_state(lane, LaneState.DONE, "exited")
        lane.gen = None
        self.runtime.notify()

    def finished(self) -> bool:
        """Every worker has exited (shutdown(wait=True) and interpreter exit wait for it)."""
        return all(lane.ended or lane.gen is None for lane in self.workers)

    def run_job(self, lane: Lane, job: Job) -> Actor:
        runtime = self.runtime
        if job.call is not None:
            yield from job.call(lane)
            if job.done is not None:
                job.done()
            return
        for run in job.runs:
            if run.future.is_done and not run.started:
                continue
            result: TaskResult = yield from runtime.execute(
                lane, run, during_shutdown=self.is_shutdown
            )
            runtime.finish(lane, run, result)
            if self.after_done is not None:
                yield from self.after_done(lane, run)
            if result.error is not None and len(job.runs) > 1:
                break  # a chunk is [fn(*args) for args in chunk]: the rest never runs
