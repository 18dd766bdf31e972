"""The main program's wind-down phases, observed live: the calls CPython makes to wind a
program down, wrapped so that each reports where it begins and ends (``phase`` records,
``PhaseBegan``/``PhaseEnded`` once translated; concsim.engine.phases says what each is).

- ``shutdown(wait=True)``: ``Executor.shutdown`` called by the main thread, as leaving
  ``with`` does (``Executor.__exit__``, Lib/concurrent/futures/_base.py);
- ``TaskGroup.__aexit__`` (Lib/asyncio/taskgroups.py): waiting for every child;
- ``asyncio.run() teardown``: ``Runner.close`` (Lib/asyncio/runners.py) cancels the tasks
  still pending, then shuts the default executor down;
- ``interpreter exit``: from ``threading._shutdown``, which ``Py_FinalizeEx`` calls to join
  the non-daemon threads, to the probe's last ``atexit`` handler (the program's handlers and
  multiprocessing's, which joins its children, run in between).

A ``gather()`` cancelled while it waits for its children (``cancelling``) is not observed.
Standard library only: this runs inside the program's interpreter.
"""

from __future__ import annotations

import os
import threading
from types import ModuleType

from concsim.live.probe import Reporter
from concsim.live.recorders import _current_task_name

TYPE_CHECKING = False  # typing costs the program's process ~5 ms to import
if TYPE_CHECKING:
    from typing import Any

SHUTDOWN = ("shutdown", "shutdown(wait=True)")
TASKGROUP = ("shutdown", "TaskGroup.__aexit__")
TEARDOWN = ("teardown", "asyncio.run() teardown")
EXIT = ("exit", "interpreter exit")


class PhaseRecorder:
    """Wraps the calls that wind a program down; reports each phase's begin and end."""

    def __init__(self, out: Reporter) -> None:
        self.out = out
        self.pid = os.getpid()
        self.exiting = False

    def _emit(self, op: str, phase: tuple[str, str]) -> None:
        coro = _current_task_name()
        fields: dict[str, Any] = {"op": op, "phase": phase[0], "step": phase[1]}
        if coro is not None:
            fields["coro"] = coro
        self.out.emit("phase", **fields)

    def patch_executor(self, cls: type) -> None:
        """``cls.shutdown``: a phase when the main thread waits (``wait=True``)."""
        real = cls.__dict__["shutdown"]
        recorder = self

        def recorded_shutdown(executor: Any, wait: bool = True, **kwargs: Any) -> None:
            if not wait or threading.current_thread() is not threading.main_thread():
                return real(executor, wait, **kwargs)  # type: ignore[no-any-return]
            recorder._emit("begin", SHUTDOWN)
            try:
                return real(executor, wait, **kwargs)  # type: ignore[no-any-return]
            finally:
                recorder._emit("end", SHUTDOWN)

        setattr(cls, "shutdown", recorded_shutdown)  # noqa: B010

    def patch_taskgroups(self, module: ModuleType) -> None:
        group = module.TaskGroup
        real = group.__aexit__
        recorder = self

        async def recorded_aexit(taskgroup: Any, et: Any, exc: Any, tb: Any) -> Any:
            recorder._emit("begin", TASKGROUP)
            try:
                return await real(taskgroup, et, exc, tb)
            finally:
                recorder._emit("end", TASKGROUP)

        setattr(group, "__aexit__", recorded_aexit)  # noqa: B010

    def patch_runners(self, module: ModuleType) -> None:
        runner = module.Runner
        real = runner.close
        recorder = self

        def recorded_close(run: Any) -> None:
            if run._state is not module._State.INITIALIZED:
                return real(run)  # type: ignore[no-any-return]  # nothing to tear down
            recorder._emit("begin", TEARDOWN)
            try:
                return real(run)  # type: ignore[no-any-return]
            finally:
                recorder._emit("end", TEARDOWN)

        setattr(runner, "close", recorded_close)  # noqa: B010

    def patch_threading(self) -> None:
        """``threading._shutdown``, looked up by name when the interpreter exits."""
        real = vars(threading)["_shutdown"]
        recorder = self

        def recorded_shutdown() -> None:
            if os.getpid() == recorder.pid and not recorder.exiting:
                recorder.exiting = True
                recorder._emit("begin", EXIT)
            real()

        setattr(threading, "_shutdown", recorded_shutdown)  # noqa: B010

    def exited(self) -> None:
        """The probe's last ``atexit`` handler: the exit phase is over."""
        if self.exiting and os.getpid() == self.pid:
            self.exiting = False
            self._emit("end", EXIT)
