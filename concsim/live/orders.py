"""Faults for tasks in worker processes: an order file, then a signal to the worker.

The control pipe reaches the program's main process only. For a task running in a worker
process (a ``ProcessPoolExecutor`` worker or a ``multiprocessing.Process``), the parent
writes the order to ``order-PID`` in the run's directory (in ``marshal``'s format, built
into the interpreter; written whole, then renamed, so the worker never reads half of it)
and sends ``SIGUSR1`` to that worker. Each worker installs a handler right after it is
forked (``os.register_at_fork``). CPython runs a Python signal handler in the main thread,
between two bytecodes, and a blocking call that the signal interrupts (``time.sleep``,
``Lock.acquire``, ``Condition.wait``) first runs the handler (PEP 475): the task of a
worker runs in its main thread, so the handler runs in the task where it stands. ``fail``
raises the error from the handler, so the task raises there; ``hang`` never returns from
the handler, so the task's current wait (or its current instruction) never ends. Standard
library only.
"""

from __future__ import annotations

import marshal
import os
import signal
import threading

from concsim.live.probe import Reporter

TYPE_CHECKING = False  # typing costs the program's process ~5 ms to import
if TYPE_CHECKING:
    from typing import Any

ORDER_SIGNAL = signal.SIGUSR1


def order_path(directory: str, pid: int) -> str:
    return os.path.join(directory, f"order-{pid}")


def write_order(directory: str, pid: int, order: dict[str, Any]) -> None:
    """The parent's side: the order, whole, where the worker will look for it."""
    path = order_path(directory, pid)
    with open(path + ".tmp", "wb") as file:
        marshal.dump(order, file)
    os.replace(path + ".tmp", path)


class Orders:
    """The worker's side: carries out the order it is signalled."""

    def __init__(self, directory: str, running: dict[str, int], out: Reporter) -> None:
        self.directory = directory
        self.running = running  # task instance -> thread ident, in this process
        self.out = out

    def install(self) -> None:
        signal.signal(ORDER_SIGNAL, self._on_signal)

    def _on_signal(self, signum: int, frame: Any) -> None:
        path = order_path(self.directory, os.getpid())
        try:
            with open(path, "rb") as file:
                order = marshal.load(file)
            os.unlink(path)
        except (OSError, EOFError, ValueError):
            return
        target = order["target"]
        if target not in self.running:
            reason = f"{target} is not running in process {os.getpid()}"
            self.out.emit("applied", id=order["id"], reason=reason)
            return
        self.out.emit("applied", id=order["id"], reason=None)
        if order["fault"] == "fail":
            from concsim.live.control import _error

            raise _error(order["error"])
        threading.Event().wait()  # hang: this wait never returns
