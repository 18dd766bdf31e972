"""The main program of the sequential, thread and process models, and interpreter exit."""

from __future__ import annotations

import contextlib
from functools import partial
from typing import Any

from concsim.events import (
    CancelRequested,
    ExceptionRaised,
    FutureState,
    LaneKind,
    LaneState,
    OutputWritten,
    Phase,
    PhaseBegan,
    PhaseEnded,
    TaskSubmitted,
)
from concsim.scenario import model as m
from concsim.scenario.pynames import thread_name

from .atexit import run_handlers
from .exits import traceback_text
from .flow import Returned
from .futures import Executor, Job, ProcessPool, ThreadPool
from .futures.callbacks import done_callbacks
from .futures.future import FutureCalls
from .interpreter import TaskResult
from .osexit import OsExit, os_exit
from .phases import in_phase
from .process import Processes, Signal
from .runtime import Actor, Interrupted, Lane, Proc, SimError, TaskRun
from .runtime_core import TIMED_OUT, Progress, Runtime
from .waits import Overhead, StartWait


class MainProgram:
    """``main()`` of a program that uses threads, processes or nothing at all."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.world = runtime.world
        self.program = self.world.program
        self.model = self.program.model
        self.executor: Executor | None = None
        self.plain: list[Lane] = []  # threading.Thread / multiprocessing.Process lanes
        self.began: set[Lane] = set()  # threads that have run their first bytecode
        self.processes = Processes(runtime)  # plain multiprocessing.Process objects
        if self.model in (m.Model.THREADS, m.Model.PROCESSES) and self.program.executor:
            workers = self.program.resolved_max_workers(self.world.machine.cores)
            pool = ProcessPool if self.model is m.Model.PROCESSES else ThreadPool
            self.executor = pool(runtime, workers)
        runtime.interp.main_step = self.main_step  # a submit or collect inside a try or loop
        self.callbacks = done_callbacks(runtime, self.executor)
        self.future_calls = FutureCalls(runtime, self.callbacks)

    # --- main() -------------------------------------------------------------------------

    def main(self, lane: Lane) -> Actor:
        world = self.world
        error: SimError | None = None
        try:
            for step in self.program.main_steps:
                yield from self.main_step(lane, step)
        except Returned:
            pass  # ``return`` ends main() normally
        except OsExit as exit_now:
            workers = self.executor.workers if self.executor is not None else []
            os_exit(self.runtime, lane, [*self.plain, *workers], exit_now.code)
            return
        except SimError as exc:
            error = exc
        if error is not None and self.program.on_error:
            interp = self.runtime.interp
            with interp.handling(lane, None, error):
                error = yield from self._guard(
                    lane, error, interp.run_steps(lane, None, self.program.on_error, [])
                )
        executor = self.executor
        if executor is not None:
            shutdown = self.program.shutdown
            if shutdown is not None:  # try: ... finally: executor.shutdown(...)
                error = yield from self._guard(
                    lane, error, self.shutdown(lane, shutdown.wait, shutdown.cancel_futures)
                )
            if self.program.context_manager:  # leaving ``with``: shutdown(wait=True)
                error = yield from self._guard(lane, error, self.shutdown(lane, True, False))
        world.release_gil(lane, "the main program ended")
        final = self.runtime.end_main(lane, error)
        yield from self.interpreter_exit(lane, final)

    def _guard(self, lane: Lane, error: SimError | None, body: Actor) -> Actor:
        """Run ``body`` as a ``finally`` clause: a new exception replaces the one in flight."""
        try:
            yield from body
        except SimError as exc:
            return exc
        return error

    def main_step(self, lane: Lane, step: Any) -> Actor:
        if isinstance(step, m.SubmitStep):
            yield from self.submit(lane, self._selected(step.submit))
        elif isinstance(step, m.CollectStep):
            yield from self.collect(lane)
        elif isinstance(step, m.ShutdownStep):
            yield from self.shutdown(lane, step.shutdown.wait, step.shutdown.cancel_futures)
        elif isinstance(step, m.TerminateStep):
            label = m.step_label(step)
            yield from self.processes.signal(lane, step.terminate, Signal.SIGTERM, label)
        elif isinstance(step, m.KillStep):
            yield from self.processes.signal(lane, step.kill, Signal.SIGKILL, m.step_label(step))
        elif isinstance(step, m.OsExitStep):
            yield from self.world.ensure_gil(lane)
            raise OsExit(step.os_exit)
        elif isinstance(step, m.AddDoneCallbackStep):
            assert self.callbacks is not None
            runs = self._selected_all(step.add_done_callback)
            yield from self.callbacks.add(lane, runs, self.callbacks.of(step))
        elif isinstance(step, m.FutureStep):
            yield from self.future_calls.run(lane, step)
        elif isinstance(step, m.JoinProcessStep):
            label = m.step_label(step)
            yield from self.processes.join(lane, step.join_process, step.timeout, label)
        else:
            yield from self.runtime.interp.step(lane, None, step, [])

    def _selected(self, names: Any) -> list[TaskRun]:
        if names == "all":
            return [run for run in self.runtime.tasks if not run.submitted]
        wanted = set(names)
        return [
            r
            for r in self.runtime.tasks
            if (r.name in wanted or r.spec.name in wanted) and not r.submitted
        ]

    def _selected_all(self, name: str) -> list[TaskRun]:
        """The runs a name stands for, submitted or not: a task's copies, or one copy."""
        return [r for r in self.runtime.tasks if name in (r.name, r.spec.name)]

    # --- handing work over --------------------------------------------------------------

    def submit(self, lane: Lane, runs: list[TaskRun]) -> Actor:
        world = self.world
        if self.model is m.Model.SEQUENTIAL:
            return  # plain calls happen when the results are collected
        executor = self.executor
        if executor is not None:
            chunk = self.program.chunksize if isinstance(executor, ProcessPool) else 1
            for start in range(0, len(runs), chunk):
                workers = len(executor.workers)
                try:
                    executor.submit(Job(runs[start : start + chunk]))
                except SimError as error:
                    world.emit(
                        ExceptionRaised,
                        lane=lane.id,
                        task=None,
                        error=error.error,
                        message=error.message,
                        step="submit",
                    )
                    raise
                started = executor.started_thread(workers)
                if started is not None:  # Thread.start() waits for the new thread to run
                    yield from self.thread_start(lane, started, executor.began)
            return
        # Plain threads / processes: one each, started in turn. A lane is called by its id
        # everywhere (its row, its events, the GIL row's holder): thread-N is the thread
        # CPython names Thread-N; the task it runs is shown on the row.
        for run in runs:
            if self.model is m.Model.PROCESSES:
                yield from self.processes.pickle_target(lane, run)
            run.submitted = True
            if self.model is m.Model.PROCESSES:
                proc = Proc(f"process-{len(self.plain) + 1}", None)
                worker = world.new_lane("process", LaneKind.PROCESS, proc)
                world.emit(TaskSubmitted, task=run.name, how="Process.start")
                self.processes.started(run, worker)
            else:
                daemon = run.spec.daemon
                worker = world.new_lane("thread", LaneKind.THREAD, world.main_proc, daemon=daemon)
                world.unnamed_thread()  # Thread-N (function), as its lane thread-N says
                worker.daemon = daemon
                world.emit(TaskSubmitted, task=run.name, how="Thread.start")
            self.plain.append(worker)
            world.start(worker, self._plain(worker, run))
            if self.model is m.Model.THREADS:
                yield from self.thread_start(lane, worker, self.began)

    def thread_start(self, lane: Lane, thread: Lane, began: set[Lane]) -> Actor:
        """``Thread.start()`` returns once the new thread runs (``self._started.wait()``,
        Lib/threading.py): the caller blocks with the GIL released, the new thread takes
        the GIL for its first bytecode and keeps it while it runs Python code, and the
        caller then waits for the GIL like any waiting thread, one switch interval when
        the new thread computes. So threads doing CPU work start one after another,
        several milliseconds apart (benchmarks/cpython_facts/thread_start.py)."""
        if self.world.main_proc.gil is None:
            return
        started = StartWait(thread.id)
        yield from self.runtime.wait_until(
            lane, lambda: thread in began, "Thread.start()", wait=started
        )
        yield from self.world.ensure_gil(lane)

    def _plain(self, lane: Lane, run: TaskRun) -> Actor:
        world = self.world
        if self.model is m.Model.PROCESSES:
            world.set_state(lane, LaneState.STARTING, "process start")
            yield Overhead(world.clock.now + world.machine.process_start)
        else:
            yield from world.ensure_gil(lane)  # Thread._bootstrap runs Python code
            self.began.add(lane)
            self.runtime.notify()
        result: TaskResult = yield from self.runtime.execute(lane, run)
        error = result.error
        if error is not None and self.model is m.Model.THREADS and error.error != "SystemExit":
            # threading.excepthook prints it at once: plain threads have no future. It
            # ignores SystemExit (Lib/threading.py, excepthook).
            world.emit(
                OutputWritten,
                lane=lane.id,
                task=run.name,
                text=f"Exception in thread {thread_name(lane.id, run.spec.name)}:\n"
                + traceback_text(error, in_asyncio=False),
            )
        elif self.model is m.Model.PROCESSES:
            self.processes.last_words(lane, run, result)
        world.release_gil(lane, "its thread exited")
        self.runtime.finish(lane, run, result)
        if self.model is m.Model.PROCESSES:
            self.processes.exited(lane, run, result)
        lane.gen = None
        self.runtime.notify()

    # --- collecting results -------------------------------------------------------------

    def collect(self, lane: Lane) -> Actor:
        collect = self.program.collect
        pattern = collect.pattern
        runs = [run for run in self.runtime.tasks]
        if self.model is m.Model.SEQUENTIAL:
            yield from self._sequential(lane, runs, pattern)
            return
        unsubmitted = [run for run in runs if not run.submitted]
        if unsubmitted:
            yield from self.submit(lane, unsubmitted)
        runs = [run for run in runs if run.submitted]
        deadline = None if collect.timeout is None else self.world.clock.now + collect.timeout
        if pattern is m.Pattern.AS_COMPLETED:
            yield from self._as_completed(lane, runs, deadline)
        elif pattern is m.Pattern.MAP:
            yield from self._map(lane, runs, deadline)
        elif pattern is m.Pattern.RESULT:
            for run in runs:
                per_call = (
                    None if collect.timeout is None else self.world.clock.now + collect.timeout
                )
                yield from self._result(lane, run, per_call, "")
        elif pattern is m.Pattern.WAIT:
            yield from self._wait(lane, runs, deadline, collect.return_when)
        elif pattern is m.Pattern.JOIN:
            for run in runs:
                yield from self._join(lane, run, deadline)

    def _join(self, lane: Lane, run: TaskRun, deadline: int | None) -> Actor:
        """``thread.join(timeout)``: returns when the thread ends or the timeout passes."""
        yield from self.runtime.wait_until(lane, lambda: run.ended, f"join {run.name}", deadline)

    def _receive(self, lane: Lane, run: TaskRun) -> Actor:
        yield from self.world.ensure_gil(lane)
        self.runtime.receive(run)
        for step in self.program.on_result:
            yield from self.runtime.interp.step(lane, None, step, [])

    def _result(self, lane: Lane, run: TaskRun, deadline: int | None, message: str) -> Actor:
        got = yield from self.runtime.wait_until(
            lane, lambda: run.future.is_done, f"{run.name}.result()", deadline
        )
        if got is TIMED_OUT:
            raise SimError("TimeoutError", message)
        yield from self._receive(lane, run)

    def _as_completed(self, lane: Lane, runs: list[TaskRun], deadline: int | None) -> Actor:
        progress = Progress(self.runtime, runs)
        total = len(runs)
        taken = 0
        while taken < total:
            if taken == len(progress.update().order):
                got = yield from self.runtime.wait_until(
                    lane,
                    partial(progress.has_more_than, taken),
                    "as_completed()",
                    deadline,
                )
                if got is TIMED_OUT:
                    raise SimError(
                        "TimeoutError", f"{total - taken} (of {total}) futures unfinished"
                    )
                continue
            taken += 1
            yield from self._receive(lane, progress.order[taken - 1])

    def _map(self, lane: Lane, runs: list[TaskRun], deadline: int | None) -> Actor:
        try:
            for run in runs:
                yield from self._result(lane, run, deadline, "")
        except SimError:
            # The map generator's finally: ``for future in fs: future.cancel()``.
            for run in runs:
                if not run.future.is_done:
                    accepted = run.future.state is FutureState.PENDING
                    reason = (
                        "Executor.map cancels the futures it has not returned yet when it "
                        "stops early"
                        if accepted
                        else "it is already running"
                    )
                    self.world.emit(
                        CancelRequested, task=run.name, accepted=accepted, reason=reason, by=lane.id
                    )
                    if accepted:
                        self.runtime.cancel_pending(run, notified=False)
            raise

    def _wait(
        self, lane: Lane, runs: list[TaskRun], deadline: int | None, when: m.ReturnWhen
    ) -> Actor:
        progress = Progress(self.runtime, runs)
        yield from self.runtime.wait_until(
            lane, partial(progress.reached, when), f"wait({when.value})", deadline
        )
        # done, not_done = wait(...); then the program reads each finished future.
        for run in list(progress.update().order):
            yield from self._receive(lane, run)

    def _sequential(self, lane: Lane, runs: list[TaskRun], pattern: m.Pattern) -> Actor:
        """``results = [task() for task in tasks]``: each call runs on the main thread."""
        for run in runs:
            run.submitted = True
            result: TaskResult = yield from self.runtime.execute(lane, run)
            self.runtime.finish(lane, run, result)
            if result.error is not None:
                run.future.retrieved = True  # it propagates: nothing is lost
                raise SimError(result.error.error, result.error.message)
            if pattern is not m.Pattern.NONE:
                yield from self._receive(lane, run)

    # --- shutdown and exit --------------------------------------------------------------

    def shutdown(self, lane: Lane, wait: bool, cancel_futures: bool) -> Actor:
        executor = self.executor
        assert executor is not None
        if executor.is_shutdown and not wait:
            return
        cancelled = executor.shutdown(wait, cancel_futures)
        if self.callbacks is not None:
            for run in cancelled:  # Future.cancel() runs them in the cancelling thread
                yield from self.callbacks.completed(lane, run)
        if wait:
            waiting = self.runtime.wait_until(lane, executor.finished, "shutdown(wait=True)")
            yield from in_phase(self.world, lane, Phase.SHUTDOWN, "shutdown(wait=True)", waiting)

    def interpreter_exit(self, lane: Lane, final: LaneState) -> Actor:
        """threading._shutdown joins non-daemon threads (pool workers drain their queues via
        the executors' atexit hook); the program's atexit handlers run; daemon threads are
        then stopped where they stand (Py_FinalizeEx)."""
        world = self.world
        executor = self.executor
        if executor is not None:
            executor.at_exit()

        def others_done() -> bool:
            plain = all(t.gen is None or t.daemon for t in self.plain)
            return plain and (executor is None or executor.finished())

        world.emit(PhaseBegan, lane=lane.id, phase=Phase.EXIT, step="interpreter exit")
        world.set_state(lane, LaneState.BLOCKED, "interpreter exit: joining threads")
        # A second Ctrl-C at exit: the process goes, whatever is still running.
        with contextlib.suppress(Interrupted):
            yield from self.runtime.wait_until(lane, others_done, "interpreter exit")
        if self.program.atexit:  # daemon threads still run meanwhile: finalizing stops them
            yield from run_handlers(self.runtime.interp, lane, self.program.atexit)
            world.release_gil(lane, "the atexit handlers ran")
        for worker in [*self.plain, *(executor.workers if executor else [])]:
            run = worker.task
            if worker.gen is not None and run is not None:
                world.kill(worker)
                reason = (
                    "daemon threads are stopped abruptly at interpreter exit"
                    if worker.daemon
                    else "the process exited under it"
                )
                self.runtime.kill_task(run, reason)
        world.emit(PhaseEnded, lane=lane.id, phase=Phase.EXIT, step="interpreter exit")
        world.set_state(lane, final, "exited")
