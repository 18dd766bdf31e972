"""``queue.Queue`` put and get, recorded for the program's own calls, and hung on command.

``Queue.put`` and ``Queue.get`` (CPython: ``Lib/queue.py``) are wrapped at class level and
act only when the caller's file is the program's, so the standard library's own queues
report nothing. A ``put`` is reported once the item is in the queue, a ``get`` once the
item is out. A blocking ``get`` waits in slices of 50 ms so that ``hang`` can reach it (a
``Condition.wait`` cannot be interrupted from another thread): once its thread is hung it
never returns, and an item it took at that instant goes back to the head of the queue.
Standard library only.
"""

from __future__ import annotations

import sys
import threading
from types import ModuleType

from concsim.live.probe import Reporter, _jsonable

TYPE_CHECKING = False  # typing costs the program's process ~5 ms to import
if TYPE_CHECKING:
    from typing import Any

_SLICE = 0.05


class QueueRecorder:
    """Patches ``queue.Queue`` when the program imports ``queue``."""

    def __init__(self, file: str, out: Reporter, waits: Any) -> None:
        self.file = file
        self.out = out
        self.waits = waits  # concsim.live.instruments.Waits: which threads are hung
        self.names: dict[int, str] = {}

    def patch(self, module: ModuleType) -> None:
        cls = module.Queue
        put, get, empty = cls.put, cls.get, module.Empty
        recorder = self

        def recorded_put(q: Any, item: Any, block: bool = True, timeout: Any = None) -> None:
            put(q, item, block, timeout)
            if sys._getframe(1).f_code.co_filename == recorder.file:
                recorder.out.emit("queue", op="put", queue=recorder.name(q), value=_jsonable(item))

        def recorded_get(q: Any, block: bool = True, timeout: Any = None) -> Any:
            if sys._getframe(1).f_code.co_filename != recorder.file:
                return get(q, block, timeout)
            if block and timeout is None:
                item = recorder._get_hangable(q, get, empty)
            else:
                item = get(q, block, timeout)
            recorder.out.emit("queue", op="got", queue=recorder.name(q), value=_jsonable(item))
            return item

        setattr(cls, "put", recorded_put)  # noqa: B010
        setattr(cls, "get", recorded_get)  # noqa: B010

    def _get_hangable(self, q: Any, get: Any, empty: type[BaseException]) -> Any:
        tid = threading.get_ident()
        while True:
            if self.waits.is_hung(tid):
                self.waits.park()
            try:
                item = get(q, True, _SLICE)
            except empty:
                continue
            if self.waits.is_hung(tid):
                with q.mutex:  # not taken after all: back to the head, for the next getter
                    q.queue.appendleft(item)
                    q.not_empty.notify()
                self.waits.park()
            return item

    def name(self, q: Any) -> str:
        """The program's global that holds the queue."""
        name = self.names.get(id(q))
        if name is None:
            module = sys.modules.get("__main__")
            found = [k for k, v in vars(module).items() if v is q] if module else []
            name = self.names[id(q)] = found[0] if found else "queue"
        return name
