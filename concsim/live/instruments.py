"""Recording wrappers installed around the standard library before the program runs.

Each wrapper acts only on the program's own objects (a function of the program submitted, a
lock created in the program's file, a sleep called from it), so the standard library's
internal use of the same calls costs nothing and reports nothing. Standard library only:
this runs inside the program's interpreter, beside ``concsim.live.probe``.
"""

from __future__ import annotations

import functools
import os
import sys
import threading
import time
from types import ModuleType

from concsim.live.expiry import Expiry
from concsim.live.hooks import AfterImport
from concsim.live.phases import PhaseRecorder
from concsim.live.probe import Reporter, Tracer, _jsonable
from concsim.live.recorders import RecordingLock, Tee
from concsim.live.scope import untraced
from concsim.live.waits import Waits

TYPE_CHECKING = False  # typing costs the program's process ~5 ms to import
if TYPE_CHECKING:
    from typing import Any


class Instruments:
    """Installs every wrapper; keeps the maps from futures and tasks to task instances."""

    def __init__(self, plan: dict[str, Any], out: Reporter, tracer: Tracer) -> None:
        self.out = out
        self.tracer = tracer
        self.file = plan["program"]
        self.directory: str | None = plan.get("dir")  # where orders for workers are written
        self.plan_path: str | None = plan.get("path")  # read again by a spawned child
        self.helpers = frozenset(plan.get("helpers", ()))
        self.futures: dict[str, Any] = {}  # task instance -> its Future or asyncio.Task
        self.names: dict[int, list[str]] = {}  # id of a concurrent Future -> its instances
        self.read: set[str] = set()  # instances whose future's outcome main read
        self.waits = Waits()
        # an asyncio task -> what its program-level asyncio.sleep waits for, and its timer
        self.async_waits: dict[Any, tuple[Any, Any]] = {}
        self.expiry = Expiry(out, self.futures, self.names)
        self.phases = PhaseRecorder(out)

    def instances_of(self, fn: Any, args: tuple[Any, ...]) -> list[str]:
        """The task instances one submitted call runs: ``request(3)`` is ``request-3``; a
        chunk of ``ProcessPoolExecutor.map`` (``partial(_process_chunk, fn)`` over a list
        of argument tuples) runs one per item."""
        if isinstance(fn, functools.partial) and fn.func.__name__ == "_process_chunk":
            names = [self.instance_of(fn.args[0], tuple(item)) for item in args[0]]
            return [name for name in names if name is not None]
        name = self.instance_of(fn, args)
        return [] if name is None else [name]

    def instance_of(self, fn: Any, args: tuple[Any, ...]) -> str | None:
        """The task instance a call ``fn(*args)`` runs: ``request(3)`` is ``request-3``."""
        if isinstance(fn, functools.partial):  # map(call, [..., partial(c, 3)])
            return self.instance_of(fn.func, (*fn.args, *args))
        fn = getattr(fn, "__wrapped__", fn)  # the function, not the probe's tracing wrapper
        name = getattr(fn, "__name__", None)
        if name in self.helpers and args and callable(args[0]):
            return self.instance_of(args[0], args[1:])
        copies = self.tracer.instances.get(name or "")
        if copies is None or getattr(getattr(fn, "__code__", None), "co_filename", "") != (
            self.file
        ):
            return None
        if None in copies:
            return copies[None]
        return copies.get(args[0]) if args else None

    def install(self) -> None:
        time.sleep = self._sleep  # type: ignore[assignment]  # the same call, recorded
        threading.Lock = self._lock_factory(threading.Lock)
        sys.stdout = Tee(sys.stdout, "stdout", self.out)
        sys.stderr = Tee(sys.stderr, "stderr", self.out)
        os.register_at_fork(after_in_child=self._forked)
        os._exit = self._os_exit(os._exit, os.getpid())
        self.expiry.patch_thread()
        self.phases.patch_threading()
        # Replacing a method of a standard class is the point here, hence setattr; each
        # module is patched when the program imports it, not before.
        AfterImport(
            {
                "concurrent.futures._base": self._patch_futures,
                "concurrent.futures.thread": self._patch_executor,
                "concurrent.futures.process": self._patch_executor,
                "asyncio.base_events": self._patch_loop,
                "asyncio.tasks": self._patch_sleep,
                "queue": self._patch_queue,
                "multiprocessing.process": self._patch_process,
                "asyncio.taskgroups": self.phases.patch_taskgroups,
                "asyncio.runners": self.phases.patch_runners,
                "multiprocessing.util": self._follow_spawned,
            }
        ).install()

    def _patch_futures(self, module: ModuleType) -> None:
        from concsim.live.pool_threads import patch_future  # only if the program uses futures

        future = module.Future
        setattr(future, "result", self._read(future.result))  # noqa: B010
        setattr(future, "exception", self._read(future.exception))  # noqa: B010
        self.expiry.patch_base(module)
        patch_future(future, self.file, self.names, self.out)
        for name in ("result", "exception"):  # the waits of a traced main, untraced
            setattr(future, name, untraced(getattr(future, name)))
        self._patch_executor(module)

    def _patch_executor(self, module: ModuleType) -> None:
        if module.__name__ == "concurrent.futures.process":
            from concsim.live.pool_threads import patch_manager

            patch_manager(module, self.out)
        for cls in vars(module).values():
            own = isinstance(cls, type) and cls.__module__ == module.__name__
            if own and "submit" in cls.__dict__ and cls.__name__.endswith("Executor"):
                submit = untraced(self._submit(cls.__dict__["submit"]))
                setattr(cls, "submit", submit)  # noqa: B010
                if "shutdown" in cls.__dict__:
                    self.phases.patch_executor(cls)

    def _patch_loop(self, module: ModuleType) -> None:
        loop = module.BaseEventLoop
        setattr(loop, "create_task", self._create_task(loop.create_task))  # noqa: B010
        self.expiry.patch_loop(module)

    def _patch_sleep(self, module: ModuleType) -> None:
        global _real_async_sleep
        _real_async_sleep = vars(module)["sleep"]
        setattr(module, "sleep", self._async_sleep)  # noqa: B010  # asyncio copies it next

    def _os_exit(self, real: Any, main_pid: int) -> Any:
        """``os._exit(n)`` called by the program's main process: reported first, as
        nothing else of the process reports after it (a forked child's own exit, from
        multiprocessing's code, is not the program's)."""
        instruments = self

        def recorded_os_exit(status: int) -> None:
            caller = sys._getframe(1).f_code.co_filename
            if os.getpid() == main_pid and caller == instruments.file:
                instruments.out.emit("os_exit", code=status)
            real(status)

        return recorded_os_exit

    def _patch_process(self, module: ModuleType) -> None:
        """``Process.join()`` reports the exitcode of a program's process once it is known
        (the program joins it, or multiprocessing's atexit hook does). ``start()`` drops
        the target in the parent, so the task it runs is noted before."""
        import concsim.live.orders  # noqa: F401  # here once, not in each forked worker

        base = module.BaseProcess
        start, join = base.start, base.join
        instruments = self

        def recorded_start(process: Any) -> None:
            target = getattr(process, "_target", None)
            args = tuple(getattr(process, "_args", ()))
            name = None if target is None else instruments.instance_of(target, args)
            process._concsim_task = name
            method = process._start_method or sys.modules["multiprocessing"].get_start_method()
            if name is not None and method == "fork" and not hasattr(target, "__wrapped__"):
                # a function defined inside main() is no module global the scope wrapped;
                # a forked child inherits it as it is, so it is traced from here
                process._target = instruments.traced(target)
            start(process)

        def recorded_join(process: Any, timeout: float | None = None) -> None:
            join(process, timeout)
            code, name = process.exitcode, getattr(process, "_concsim_task", None)
            if code is not None and name is not None:
                process._concsim_task = None  # reported once
                instruments.out.emit("exited", task=name, child=process.pid, exitcode=code)

        setattr(base, "start", recorded_start)  # noqa: B010
        setattr(base, "join", recorded_join)  # noqa: B010

    def _patch_queue(self, module: ModuleType) -> None:
        from concsim.live.queues import QueueRecorder  # only if the program uses queues

        QueueRecorder(self.file, self.out, self.waits).patch(module)

    def _follow_spawned(self, module: ModuleType) -> None:
        """A child that ``spawn`` or ``forkserver`` starts reports too (live/spawned.py)."""
        path = self.plan_path
        if path is not None:
            from concsim.live.spawned import follow_spawned  # only with multiprocessing

            follow_spawned(module, path, self.out.fd)

    def traced(self, function: Any) -> Any:
        """``function`` run with the tracer on, as the scope's wrappers run the globals."""
        trace = self.tracer.call

        @functools.wraps(function)
        def traced(*args: Any, **kwargs: Any) -> Any:
            sys.settrace(trace)
            try:
                return function(*args, **kwargs)
            finally:
                sys.settrace(None)

        return traced

    def _forked(self) -> None:
        # A worker starts untraced; the task wrapper traces each task it runs.
        sys.settrace(None)
        self.out.emit("fork", ppid=os.getppid())
        if self.directory is not None:
            from concsim.live.orders import Orders  # the parent's, when it has imported it

            Orders(self.directory, self.tracer.running, self.out).install()

    def _sleep(self, seconds: float) -> None:
        caller = sys._getframe(1).f_code.co_filename
        if caller != self.file:
            return _real_sleep(seconds)
        return self.waits.sleep(seconds)

    async def _async_sleep(self, delay: float, result: Any = None) -> Any:
        """``asyncio.sleep`` as CPython writes it (a future and a ``call_later``), with both
        kept so that ``fail`` can fail the future and ``hang`` can drop the timer."""
        caller = sys._getframe(1)
        if caller.f_code.co_filename != self.file or delay <= 0:
            return await _real_async_sleep(delay, result)
        asyncio = sys.modules["asyncio"]
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        handle = loop.call_later(delay, _set_result, future, result)
        task = asyncio.current_task()
        self.async_waits[task] = (future, handle)
        try:
            return await future
        except asyncio.CancelledError:
            # Task.cancel() landed here: the task is resumed with CancelledError thrown in,
            # which the trace function does not see (CPython resumes a thrown-into frame
            # past its exception trace).
            if task is not None:
                self.out.emit("cancel_delivered", coro=task.get_name(), line=caller.f_lineno)
            raise
        finally:
            handle.cancel()
            self.async_waits.pop(task, None)

    def _submit(self, submit: Any) -> Any:
        instruments = self

        def recorded_submit(executor: Any, fn: Any, /, *args: Any, **kwargs: Any) -> Any:
            names = instruments.instances_of(fn, args)
            if not names:
                return submit(executor, fn, *args, **kwargs)
            # Reported first: a pool thread may start the task before submit() returns.
            for name in names:
                instruments.out.emit("submit", task=name, how="executor.submit")
            future = submit(executor, fn, *args, **kwargs)
            for name in names:
                instruments.futures[name] = future
            instruments.names[id(future)] = names
            future.add_done_callback(lambda f: instruments._futures_done(names, f))
            return future

        return recorded_submit

    def _futures_done(self, names: list[str], future: Any) -> None:
        """A concurrent future's done-callback: it is finished or cancelled, so its state
        is read as it lies (``Future.cancelled()`` and ``exception()`` each take its
        condition's lock and pass through the probe's wrappers)."""
        cancelled = future._state != "FINISHED"  # CANCELLED_AND_NOTIFIED
        error = None if cancelled else future._exception
        for name in names:
            self._settled(name, cancelled, error)

    def _future_done(self, name: str, future: Any) -> None:
        cancelled = future.cancelled()
        self._settled(name, cancelled, None if cancelled else future.exception())

    def _settled(self, name: str, cancelled: bool, error: BaseException | None) -> None:
        """The record of a future that is cancelled, failed with ``error`` or done."""
        if cancelled:
            self.out.emit("future", task=name, state="cancelled", error=None, message="")
            return
        self.out.emit(
            "future",
            task=name,
            state="failed" if error is not None else "done",
            error=type(error).__name__ if error is not None else None,
            message=str(error) if error is not None else "",
        )

    def _read(self, method: Any) -> Any:
        instruments = self

        def recorded(future: Any, *args: Any, **kwargs: Any) -> Any:
            names = instruments.names.get(id(future), [])
            if not names or threading.current_thread() is not threading.main_thread():
                return method(future, *args, **kwargs)
            try:
                value = method(future, *args, **kwargs)
            except BaseException as error:
                if future.done():
                    instruments.read.update(names)
                    for name in names:
                        instruments.out.emit("read", task=name, error=type(error).__name__)
                raise
            instruments.read.update(names)
            if isinstance(value, BaseException):  # exception(): an error received
                for name in names:
                    instruments.out.emit("read", task=name, error=type(value).__name__)
            return value  # a value received is reported by the results list (``received``)

        return recorded

    def _create_task(self, create_task: Any) -> Any:
        instruments = self

        def recorded_create_task(loop: Any, coro: Any, **kwargs: Any) -> Any:
            code = getattr(coro, "cr_code", None)
            if code is None or code.co_filename != instruments.file:
                return create_task(loop, coro, **kwargs)
            if code.co_name == instruments.tracer.main:
                task = create_task(loop, instruments.expiry.guarded(coro), **kwargs)
                instruments.expiry.main_task = task
                task.add_done_callback(instruments._main_done)
                return task
            task = create_task(loop, coro, **kwargs)
            frame = coro.cr_frame
            copies = instruments.tracer.instances.get(code.co_name, {})
            name = copies.get(None) or copies.get(frame.f_locals.get("i") if frame else None)
            if name is not None:
                instruments.futures[name] = task
                instruments.out.emit(
                    "submit", task=name, how="asyncio.create_task", coro=task.get_name()
                )
                task.add_done_callback(lambda t: instruments._task_done(name, t))
            return task

        return recorded_create_task

    def _task_done(self, name: str, task: Any) -> None:
        self._future_done(name, task)
        if not task.cancelled() and task.exception() is None:
            self.out.emit("value", task=name, value=_jsonable(task.result()))

    def _main_done(self, task: Any) -> None:
        """asyncio.run's main task is done: report the exceptions nobody retrieved."""
        for name, future in self.futures.items():
            if getattr(future, "_log_traceback", False):
                self.out.emit("unretrieved", task=name, error=type(future.exception()).__name__)

    def unread(self) -> None:
        """At exit: concurrent futures whose exception nobody read."""
        for name, future in self.futures.items():
            if hasattr(future, "get_loop") or name in self.read or not future.done():
                continue
            if not future.cancelled() and future.exception() is not None:
                self.out.emit("unretrieved", task=name, error=type(future.exception()).__name__)

    def _lock_factory(self, real: Any) -> Any:
        instruments = self

        def Lock() -> Any:  # it stands in for threading.Lock
            frame = sys._getframe(1)
            if frame.f_code.co_filename != instruments.file:
                return real()
            return RecordingLock(real(), instruments.out, instruments.waits)

        return Lock


_real_sleep = time.sleep
_real_async_sleep: Any = None  # asyncio.sleep, once the program imports asyncio


def _set_result(future: Any, result: Any) -> None:
    if not future.done():
        future.set_result(result)
