"""How a ``multiprocessing.Process`` ends: its ``exitcode`` (Lib/multiprocessing/process.py,
``BaseProcess._bootstrap``) and ``terminate()`` / ``kill()`` from the parent
(Lib/multiprocessing/popen_fork.py, ``Popen._send_signal``)."""

from __future__ import annotations

from enum import IntEnum
from functools import partial

from concsim.events import OutputWritten, ProcessExited
from concsim.scenario.model import StartMethod

from .exits import system_exit_code, traceback_text
from .futures.pickling import pickling_error
from .interpreter import TaskResult
from .runtime import Actor, Lane, TaskRun
from .runtime_core import Runtime


def _ended(run: TaskRun) -> bool:
    return run.ended


class Signal(IntEnum):
    """The signals ``Process.terminate()`` and ``Process.kill()`` send; a child that dies
    of signal N has exitcode -N (``os.waitstatus_to_exitcode``)."""

    SIGKILL = 9
    SIGTERM = 15


def exitcode(result: TaskResult) -> int:
    """``BaseProcess._bootstrap``: 0 when ``run()`` returns (a cooperative stop returns
    too); for ``SystemExit`` its code (``None`` is 0, an int goes to ``os._exit``, which
    keeps its low 8 bits, any other code is printed and gives 1); any other exception 1."""
    error = result.error
    if error is None:
        return 0
    if error.error != "SystemExit":
        return 1
    code = system_exit_code(error.message)
    if code is None:
        return 0
    if isinstance(code, int):
        return code & 0xFF
    return 1


class Processes:
    """The plain ``multiprocessing.Process`` objects of ``main()``, by the task each runs."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.world = runtime.world
        self.lanes: dict[str, Lane] = {}  # task run -> its process's lane, once started

    def started(self, run: TaskRun, lane: Lane) -> None:
        """``Process.start()`` was called for ``run``."""
        self.lanes[run.name] = lane

    def pickle_target(self, lane: Lane, run: TaskRun) -> Actor:
        """``Process.start()`` under ``spawn`` or ``forkserver`` pickles the Process object,
        its target with it, before any child exists (Lib/multiprocessing/popen_spawn_posix.py,
        ``Popen._launch``): a function defined inside ``main()`` cannot be pickled, and
        ``start()`` raises in the parent. Under ``fork`` the child inherits the function
        and nothing is pickled."""
        machine = self.world.machine
        if machine.resolved_start_method is StartMethod.FORK or run.spec.unpicklable is None:
            return
        yield from self.world.ensure_gil(lane)
        error, message = pickling_error(run.spec, machine.python)
        self.runtime.interp.raise_in(lane, None, error, message, "Process.start()")

    def last_words(self, lane: Lane, run: TaskRun, result: TaskResult) -> None:
        """What the child's ``_bootstrap`` writes to stderr before it exits: "Process NAME:"
        and the traceback of an uncaught exception, or a ``SystemExit`` code that is text."""
        error = result.error
        if error is not None and error.error != "SystemExit":
            self.world.emit(
                OutputWritten,
                lane=lane.id,
                task=run.name,
                text=f"Process {run.name}:\n" + traceback_text(error, in_asyncio=False),
            )
        elif error is not None and isinstance(system_exit_code(error.message), str):
            self.world.emit(OutputWritten, lane=lane.id, task=run.name, text=f"{error.message}\n")

    def exited(self, lane: Lane, run: TaskRun, result: TaskResult) -> None:
        """The child's ``_bootstrap`` returned its exitcode; the process is gone."""
        self.world.emit(ProcessExited, lane=lane.id, task=run.name, exitcode=exitcode(result))

    def signal(self, lane: Lane, target: str, signal: Signal, label: str) -> Actor:
        """``process.terminate()`` / ``process.kill()`` from main, for each process running
        ``target`` (a task, every copy of a repeated one, or one copy ``NAME-k``).

        The signal's default action ends the child at once: no ``finally`` block, no
        ``atexit`` handler, nothing flushed. A process that has already ended is left
        alone (its returncode is set, so ``_send_signal`` does nothing); one whose
        ``start()`` was never called has no ``_popen``: AttributeError."""
        world = self.world
        yield from world.ensure_gil(lane)
        method = "terminate" if signal is Signal.SIGTERM else "kill"
        for run in self.runtime.tasks:
            if target not in (run.name, run.spec.name):
                continue
            child = self.lanes.get(run.name)
            if child is None:
                message = f"'NoneType' object has no attribute '{method}'"
                self.runtime.interp.raise_in(lane, None, "AttributeError", message, label)
                return  # raise_in raised
            if child.gen is None:
                continue
            world.kill(child)
            self.runtime.kill_task(
                run, f"Process.{method}() sends {signal.name}: the child dies without its finally"
            )
            world.emit(
                ProcessExited, lane=child.id, task=run.name, exitcode=-signal, signal=signal.name
            )
        self.runtime.notify()

    def join(self, lane: Lane, target: str, timeout: int | None, label: str) -> Actor:
        """``process.join(timeout)`` from main, for each process running ``target`` in
        turn (Lib/multiprocessing/process.py, ``BaseProcess.join``): ``Popen.wait``
        returns when the child has exited or after ``timeout``; a timed-out join returns
        None like any other, the child still running (``exitcode`` None). A process whose
        ``start()`` was never called fails the assert ``self._popen is not None``:
        AssertionError('can only join a started process')."""
        world = self.world
        yield from world.ensure_gil(lane)
        for run in self.runtime.tasks:
            if target not in (run.name, run.spec.name):
                continue
            if run.name not in self.lanes:
                message = "can only join a started process"
                self.runtime.interp.raise_in(lane, None, "AssertionError", message, label)
                return  # raise_in raised
            deadline = None if timeout is None else world.clock.now + timeout
            # The lane says the step as written (``writer.join(0.5)``): the code view finds
            # its line by it (a wait ``join NAME`` is the collect's).
            yield from self.runtime.wait_until(lane, partial(_ended, run), label, deadline)

    def killed(self, lane: Lane, run: TaskRun | None) -> None:
        """A ``kill`` fault ended a plain process: exitcode -9, as ``kill()`` gives."""
        self.world.emit(
            ProcessExited,
            lane=lane.id,
            task=run.name if run is not None else None,
            exitcode=-Signal.SIGKILL,
            signal=Signal.SIGKILL.name,
        )
