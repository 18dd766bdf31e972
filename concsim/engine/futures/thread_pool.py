"""``ThreadPoolExecutor`` (Lib/concurrent/futures/thread.py), as CPython 3.11 runs it."""

from __future__ import annotations

from dataclasses import dataclass

from concsim.events import LaneKind

from ..runtime import Actor, Lane
from .executor import Executor, Job


@dataclass(eq=False)
class ThreadPool(Executor):
    """Workers are created one per submit while none is idle, up to max_workers; they take
    work in FIFO order and, once shut down, drain the queue before they exit.

    A submit that creates a worker (``_adjust_thread_count``) calls ``Thread.start()``,
    which returns only once the new thread runs (it waits for ``self._started``); the new
    thread holds the GIL from there and takes its work item from the queue before the
    submitting thread runs again. So the item is out of the queue when ``submit`` returns:
    ``shutdown(cancel_futures=True)`` right after the submits cancels only what is still
    queued beyond the first ``max_workers`` (measured on 3.11:
    benchmarks/cpython_facts/pool_startup_cancel.py)."""

    prefix: str = "thread"

    def _enqueue(self, job: Job) -> None:
        self.queue.append(job)
        if self._wake_idle():
            return
        if len(self.workers) < self.max_workers:
            world = self.world
            lane = world.new_lane(self.prefix, LaneKind.THREAD, world.main_proc)
            self.workers.append(lane)
            world.start(lane, self._worker(lane, self.queue.popleft()))

    def started_thread(self, workers: int) -> Lane | None:
        """``_adjust_thread_count()`` started a worker."""
        return self.workers[-1] if len(self.workers) > workers else None

    def _worker(self, lane: Lane, first: Job | None = None) -> Actor:
        yield from self.world.ensure_gil(lane)  # Thread._bootstrap runs Python code
        self.began.add(lane)
        self.runtime.notify()
        while True:
            if first is not None:
                job, first = first, None
            else:
                while not self.queue:
                    if self.is_shutdown:
                        self._exit(lane)
                        return
                    yield from self._wait_for_work(lane)
                job = self.queue.popleft()
            if all(run.future.is_done for run in job.runs) and job.call is None:
                # cancelled while queued: set_running_or_notify_cancel() says no, and
                # notifies the waiters
                for run in job.runs:
                    self.runtime.release_cancelled(run)
                continue
            yield from self.run_job(lane, job)
