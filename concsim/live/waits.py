"""Interruptible waits of the program's threads: where ``fail`` and ``hang`` land.

``time.sleep`` called from the program waits on an event instead, so that a fault can land
in a thread while it sleeps; lock and queue waits ask ``is_hung`` between their slices.
Standard library only: this runs inside the program's interpreter.
"""

from __future__ import annotations

import threading
import time

_FOREVER = float("inf")


class Waits:
    """Interruptible sleeps: a fault can land in a thread while it waits (``fail`` raises
    there, ``hang`` makes the wait endless), as the simulator's faults do."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.events: dict[int, threading.Event] = {}
        self.orders: dict[int, tuple[str, BaseException | None]] = {}

    def order(self, tid: int, what: str, error: BaseException | None = None) -> bool:
        """Deliver ``fail`` or ``hang`` to a thread; False if it is not waiting now."""
        with self.lock:
            event = self.events.get(tid)
            if event is None:
                if what == "hang":  # the thread's next wait never returns
                    self.orders[tid] = (what, error)
                    return True
                return False
            self.orders[tid] = (what, error)
        event.set()
        return True

    def is_hung(self, tid: int) -> bool:
        """A ``hang`` is due in this thread: its current wait must never return."""
        order = self.orders.get(tid)
        return order is not None and order[0] == "hang"

    @staticmethod
    def park() -> None:
        """The hung wait: never returns (the run's end kills the process)."""
        threading.Event().wait()

    def sleep(self, seconds: float) -> None:
        tid = threading.get_ident()
        event = threading.Event()
        with self.lock:
            self.events[tid] = event
            if tid in self.orders:
                event.set()
        deadline = time.monotonic() + seconds
        try:
            while True:
                remaining = deadline - time.monotonic()
                if remaining <= 0 and tid not in self.orders:
                    return
                if not event.wait(None if remaining == _FOREVER else max(0.0, remaining)):
                    continue
                with self.lock:
                    what, error = self.orders.pop(tid)
                    event.clear()
                if what == "fail":
                    assert error is not None
                    raise error
                deadline = _FOREVER  # hang: this wait never returns
        finally:
            with self.lock:
                self.events.pop(tid, None)
