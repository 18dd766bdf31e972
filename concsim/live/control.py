"""Faults delivered inside the running program, on the parent's command.

A daemon thread, started before the program and never traced, reads one command per line
from a pipe (a dict in ``marshal``'s format, in hexadecimal: ``command_line``) and acts
on the program's own objects: ``fail`` raises in the target where it stands, ``hang``
makes its wait endless, ``timeout`` makes a timed wait run out now
(``concsim.live.expiry``), ``cancel`` calls ``Future.cancel()`` / ``Task.cancel()`` or sets
the program's stop event. ``kill`` and ``interrupt`` need no help from inside: the parent
sends SIGKILL or SIGINT itself. Standard library only.
"""

from __future__ import annotations

import _thread
import builtins
import marshal
import os
import sys
import threading

from concsim.live.probe import Reporter

TYPE_CHECKING = False  # typing costs the program's process ~5 ms to import
if TYPE_CHECKING:
    from typing import Any

    from concsim.live.instruments import Instruments


def command_line(command: dict[str, Any]) -> bytes:
    """One command as the parent writes it to the pipe: ``marshal``, built into the
    interpreter (``json`` would cost the program's process an import), in hexadecimal so
    that a line is a command."""
    return marshal.dumps(command).hex().encode() + b"\n"


class Control:
    """Carries out the parent's fault commands; reports each as applied or refused."""

    def __init__(self, fd: int, instruments: Instruments, out: Reporter, stop: str | None):
        self.fd = fd
        self.instruments = instruments
        self.out = out
        self.stop = stop
        self.loop: Any = None

    def start(self) -> None:
        """A thread of the interpreter's own (``_thread.start_new_thread``), not a
        ``threading.Thread``: the program's ``threading.enumerate()`` does not list it, and
        starting it does not wait until it runs (``Thread.start`` waits for the new
        thread's first steps, which on a busy machine can take milliseconds)."""
        _thread.start_new_thread(self._serve, ())

    def _serve(self) -> None:
        with os.fdopen(self.fd, "r", encoding="utf-8") as commands:
            for line in commands:
                command = marshal.loads(bytes.fromhex(line))
                try:
                    reason = self.apply(command)
                except Exception as error:  # report, never break the program
                    reason = f"could not apply it live: {type(error).__name__}: {error}"
                self.out.emit("applied", id=command["id"], reason=reason)

    def apply(self, command: dict[str, Any]) -> str | None:
        """Apply one fault; the reason it does not apply, or None."""
        fault, target = command["fault"], command["target"]
        if fault == "cancel":
            return self._cancel(target)
        if fault == "timeout":
            return self.instruments.expiry.expire(target)
        if fault not in ("fail", "hang"):
            return f"{fault} is not applied from inside the program"
        future = self.instruments.futures.get(target)
        if future is not None and hasattr(future, "get_loop"):
            return self._in_coroutine(future, fault, command.get("error", "RuntimeError"))
        tid = self.instruments.tracer.running.get(target)
        if tid is None:
            return f"{target} is not running in the main process"
        if fault == "hang":
            self.instruments.waits.order(tid, "hang")
            return None
        error = _error(command.get("error", "RuntimeError"))
        if self.instruments.waits.order(tid, "fail", error):
            return None
        # Running Python code: raised at its next eval-breaker check (a loop's back edge, a
        # call), as CPython's PyThreadState_SetAsyncExc does.
        import ctypes  # only when needed: its import costs start-up time

        kind = _injected_type(type(error))
        set_async = ctypes.pythonapi.PyThreadState_SetAsyncExc
        set_async(ctypes.c_ulong(tid), ctypes.py_object(kind))
        return None

    def _in_coroutine(self, task: Any, fault: str, error_name: str) -> str | None:
        if task.done():
            return f"{task.get_name()} has already finished"
        waits = self.instruments.async_waits

        def act() -> None:
            wait = waits.get(task)
            if wait is None:
                if fault == "hang":
                    _never_wake(task)
                return
            future, handle = wait
            if fault == "hang":
                handle.cancel()
            elif not future.done():
                future.set_exception(_error(error_name))

        task.get_loop().call_soon_threadsafe(act)
        return None

    def _cancel(self, target: str) -> str | None:
        main_task = self.instruments.expiry.main_task
        if target in ("main", "gather") and main_task is not None:
            return self._cancel_main(main_task, target)
        future = self.instruments.futures.get(target)
        if future is None:
            if self.stop is not None and target in self.instruments.tracer.running:
                event = getattr(sys.modules["__main__"], self.stop, None)
                if event is not None:
                    event.set()
                    return None
            return f"{target} has no future to cancel"
        if hasattr(future, "get_loop"):
            done = threading.Event()
            accepted: list[bool] = []

            def cancel() -> None:
                accepted.append(future.cancel())
                done.set()

            future.get_loop().call_soon_threadsafe(cancel)
            done.wait(1.0)
            self.out.emit("cancel", task=target, accepted=bool(accepted and accepted[0]))
            return None
        self.out.emit("cancel", task=target, accepted=future.cancel())
        return None

    def _cancel_main(self, task: Any, target: str) -> str | None:
        """``cancel`` of main's task (asyncio.run's), or of the gather it awaits right now
        (its ``_fut_waiter``, a ``_GatheringFuture``), in the loop's thread."""
        done = threading.Event()
        reason: list[str | None] = ["the program's event loop did not answer"]

        def cancel() -> None:
            try:
                if task.done():
                    reason[0] = "main() has already returned"
                    return
                if target == "main":
                    reason[0] = None
                    self.out.emit("cancel", task="main", accepted=task.cancel())
                    return
                waiter: Any = getattr(task, "_fut_waiter", None)
                if waiter is None or type(waiter).__name__ != "_GatheringFuture":
                    reason[0] = "main is not awaiting gather() right now"
                    return
                reason[0] = None
                waiter.cancel()
            finally:
                done.set()

        task.get_loop().call_soon_threadsafe(cancel)
        done.wait(5.0)
        return reason[0]


def _never_wake(task: Any) -> None:
    """Hang a task parked at any other await: the future it awaits (``Task._fut_waiter``)
    keeps its result, but the task's wake-up callback is taken off it, so the await never
    returns unless it is cancelled (CPython: ``Task.__step`` adds ``__wakeup`` with
    ``add_done_callback``)."""
    waiter = getattr(task, "_fut_waiter", None)
    if waiter is None:
        return
    for callback, _context in list(getattr(waiter, "_callbacks", None) or ()):
        if getattr(callback, "__self__", None) is task:
            waiter.remove_done_callback(callback)
            # Task.cancel() cancels the awaited future: that still wakes it, as in the
            # simulator, where a hung await can be cancelled and its finally runs.
            waiter.add_done_callback(lambda f, wake=callback: wake(f) if f.cancelled() else None)


def _error(name: str) -> BaseException:
    """``ValueError("injected")``: the type by name (the program's own or a builtin). A class
    of the program's whose ``__init__`` takes more (``def __init__(self, message, code)``)
    is made as ``BaseException.__new__`` makes it, ``args == ("injected",)``, its
    ``__init__`` not called: it pickles as any of its instances does (``__reduce__``: the
    class and ``args``), so a process pool's parent fails to unpickle it just the same."""
    kind = _lookup(name)
    try:
        return kind("injected")
    except TypeError:
        error = kind.__new__(kind, "injected")
        error.args = ("injected",)
        return error


def _lookup(name: str) -> type[BaseException]:
    """The class named: the program's own, a builtin, ``module.Name`` of an imported module,
    or else a new ``Exception`` subclass of that name (``_made``)."""
    module, _, short = name.rpartition(".")
    places = [sys.modules.get(module)] if module else [sys.modules.get("__main__"), builtins]
    for place in places:
        found = getattr(place, short, None)
        if isinstance(found, type) and issubclass(found, BaseException):
            return found
    return _made(short)


_MADE: dict[str, type[BaseException]] = {}


def _made(name: str) -> type[BaseException]:
    """An ``Exception`` subclass called ``name``, one per process, that pickles by name
    (``_rebuild``), so a worker process can send it back and the parent rebuild it."""
    kind = _MADE.get(name)
    if kind is None:
        kind = _MADE[name] = type(name, (Exception,), {"__reduce__": _reduce})
    return kind


def _reduce(error: BaseException) -> tuple[Any, tuple[Any, ...]]:
    return _rebuild, (type(error).__name__, error.args)


def _rebuild(name: str, args: tuple[Any, ...]) -> BaseException:
    return _made(name)(*args)


def _injected_type(kind: type[BaseException]) -> type[BaseException]:
    """An asynchronous exception is raised from its type alone; this subclass, of the same
    name, carries the message ``injected`` (set as ``BaseException`` sets it when the class's
    own ``__init__`` wants other arguments)."""

    def __init__(self: BaseException, *args: object) -> None:
        try:
            kind.__init__(self, "injected")
        except TypeError:
            BaseException.__init__(self, "injected")

    return type(kind.__name__, (kind,), {"__init__": __init__, "__module__": kind.__module__})
