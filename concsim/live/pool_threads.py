"""What a pool does in the program's own threads, recorded: the process pool's manager thread
(Lib/concurrent/futures/process.py, ``_ExecutorManagerThread.run``), the done-callbacks of
the program's futures (Lib/concurrent/futures/_base.py, ``Future._invoke_callbacks``) and
who calls ``Future.cancel()``.

Records: ``pool_thread`` (a manager thread runs, with the name CPython gave it) and
``pool_thread_end``; ``callback`` (a program's callback is called, in this thread);
``cancel_call`` (``cancel()`` was called, by this thread, as the simulator shows it: by the
program's own code, by the manager's ``flag_executor_shutting_down`` when it cancels, by
``Executor.map``'s generator on a future not yet done). Standard library only.
"""

from __future__ import annotations

import sys
import threading

from concsim.live.probe import Reporter

TYPE_CHECKING = False  # typing costs the program's process ~5 ms to import
if TYPE_CHECKING:
    from types import ModuleType
    from typing import Any

PROBE_THREAD = "concsim-probe"
"""What the probe's control thread (control.py) is called here: a fault's ``cancel`` is
reported by the fault itself, and callbacks that cancel runs are credited to this name."""


def _thread_name() -> str:
    """The calling thread's name. The control thread is a bare ``_thread``, not in
    ``threading._active``: ``threading.current_thread()`` there would make a
    ``_DummyThread``, which the program's ``threading.enumerate()`` lists and which takes a
    number of the counter the program's unnamed threads share (``Thread-N``)."""
    thread = threading._active.get(threading.get_ident())  # type: ignore[attr-defined]
    return PROBE_THREAD if thread is None else thread.name


def patch_manager(module: ModuleType, out: Reporter) -> None:
    """``_ExecutorManagerThread.run`` reports its thread as it starts and ends."""
    manager = getattr(module, "_ExecutorManagerThread", None)
    if manager is None:
        return
    run = manager.run

    def recorded_run(thread: Any) -> None:
        out.emit("pool_thread", name=thread.name, role="manager")
        try:
            run(thread)
        finally:
            out.emit("pool_thread_end")

    setattr(manager, "run", recorded_run)  # noqa: B010


def patch_future(future: type, file: str, names: dict[int, list[str]], out: Reporter) -> None:
    """``add_done_callback`` and ``cancel`` of ``concurrent.futures.Future``, for the futures
    of the program's tasks (``names``: id of a future -> its task instances)."""
    add, cancel = future.add_done_callback, future.cancel  # type: ignore[attr-defined]

    def recorded_add(self: Any, fn: Any) -> None:
        tasks = names.get(id(self))
        code = getattr(fn, "__code__", None)
        if tasks and code is not None and code.co_filename == file:
            fn = _announced(fn, tasks[0], out)
        add(self, fn)

    def recorded_cancel(self: Any) -> bool:
        tasks = names.get(id(self))
        if not tasks:
            return bool(cancel(self))
        caller = sys._getframe(1).f_code
        if self._state == "FINISHED" and caller.co_filename != file:
            # Executor.map's own cancel() of each future it returns (``_result_or_cancel``):
            # a finished future refuses, and only the program's own call would be shown.
            # Answered here, without ``cancel``'s lock, whose Python calls a traced main
            # would pay the trace function for.
            return False
        if _thread_name() == PROBE_THREAD:
            return bool(cancel(self))
        done = self.done()
        accepted = bool(cancel(self))
        if _shown(caller, file, accepted, done):
            for task in tasks:
                out.emit("cancel_call", task=task, accepted=accepted, by=caller.co_name)
        return accepted

    setattr(future, "add_done_callback", recorded_add)  # noqa: B010
    setattr(future, "cancel", recorded_cancel)  # noqa: B010


def _shown(caller: Any, file: str, accepted: bool, done: bool) -> bool:
    """Whether the simulator shows this ``cancel()`` call too."""
    if caller.co_filename == file:
        return True
    if caller.co_name == "flag_executor_shutting_down":
        return accepted
    return caller.co_name == "result_iterator" and not done


def _announced(fn: Any, task: str, out: Reporter) -> Any:
    """``fn`` reporting each call, in the thread that makes it, before it runs."""

    def announced(future: Any) -> Any:
        thread = _thread_name()
        out.emit("callback", task=task, callback=fn.__name__, thread=thread)
        return fn(future)

    return announced
