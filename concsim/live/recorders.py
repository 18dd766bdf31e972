"""Recording stand-ins for a lock and a standard stream, used inside the program.

Standard library only: this runs inside the program's interpreter, beside the probe.
"""

from __future__ import annotations

import os
import sys
import threading
import time

from concsim.live.probe import Reporter

TYPE_CHECKING = False  # typing costs the program's process ~5 ms to import
if TYPE_CHECKING:
    from typing import Any

_monotonic_ns = time.monotonic_ns
_ident = threading.get_ident
_SLICE = 0.05  # a lock wait checks for a hang this often
_OPS = ("acquired", "waited", "released")
_PROBE_DIR = os.path.dirname(sys._getframe().f_code.co_filename)
"""The probe's source folder (its code's file names: its ``__file__`` may be a copy)."""
_BOOT_FRAME = '  File "<string>", line 1, in <module>'
"""The frame of ``python -c``'s command, which runs the probe (``concsim.live.runner``)."""


class RecordingLock:
    """A ``threading.Lock`` that reports waits, acquisitions and releases. A blocking wait
    for it goes in slices of 50 ms, so that ``hang`` can reach it: a hung thread never
    returns from ``acquire`` (and never takes the lock)."""

    def __init__(self, lock: Any, out: Reporter, waits: Any) -> None:
        self._lock = lock
        self._out = out
        self._waits = waits  # concsim.live.instruments.Waits: which threads are hung
        self.name = ""
        self._rows: tuple[bytes, bytes, bytes] | None = None  # acquired, waited, released

    def _made(self) -> tuple[bytes, bytes, bytes]:
        """The templates of its records (``Reporter.template``), made once it has a name:
        an acquire costs the program's thread one stamp, not an encoding."""
        name = self._named()
        rows = tuple(self._out.template("lock", op=op, lock=name) for op in _OPS)
        if name:
            self._rows = rows  # type: ignore[assignment]
        return rows  # type: ignore[return-value]

    def _named(self) -> str:
        if not self.name:
            module = sys.modules.get("__main__")
            for key, value in vars(module).items() if module else ():
                if value is self:
                    self.name = key
        return self.name

    def acquire(self, blocking: bool = True, timeout: float = -1) -> bool:
        # Each record is stamped here rather than by ``Reporter.row``: in a traced thread
        # every Python call costs a call to the trace function.
        out = self._out
        if self._lock.acquire(False):
            data = (self._rows or self._made())[0] % (_monotonic_ns(), out.pid, _ident())
            try:
                out.write(data)
            except ValueError:  # the mapped file is full
                out.spill(data)
            return True
        if not blocking:
            return False
        out.row((self._rows or self._made())[1])
        got = self._wait(timeout)
        if got:
            out.row((self._rows or self._made())[0])
        return got

    def _wait(self, timeout: float) -> bool:
        tid = threading.get_ident()
        end = None if timeout < 0 else time.monotonic() + timeout
        while True:
            if self._waits.is_hung(tid):
                self._waits.park()
            left = _SLICE if end is None else min(_SLICE, end - time.monotonic())
            if self._lock.acquire(True, max(0.0, left)):
                if self._waits.is_hung(tid):
                    self._lock.release()  # not taken after all: this wait never returns
                    self._waits.park()
                return True
            if end is not None and time.monotonic() >= end:
                return False

    def release(self, *exc: object) -> None:
        self._lock.release()
        out = self._out
        data = (self._rows or self._made())[2] % (_monotonic_ns(), out.pid, _ident())
        try:
            out.write(data)
        except ValueError:  # the mapped file is full
            out.spill(data)

    def locked(self) -> bool:
        return bool(self._lock.locked())

    __enter__ = acquire  # one Python call for ``with lock:``, not two

    __exit__ = release  # takes and ignores the exception's three


class Tee:
    """A standard stream that also reports what is written to it. A stream that goes to
    ``/dev/null`` (live mode's standard output: what the program prints arrives as
    records) is not written at all: each write to it would be a system call that releases
    the GIL, letting another thread run where ``python program.py`` would not switch."""

    def __init__(self, stream: Any, name: str, out: Reporter) -> None:
        self._stream = stream
        self._name = name
        self._out = out
        self._hiding = threading.local()
        self._echo = not _is_devnull(stream)

    def write(self, text: str) -> int:
        """Report ``text``, with the thread's trace function off: in a traced thread each
        Python call of the recording would cost a call to it, and its code the slower
        tracing path (``concsim.live.scope.untraced``)."""
        trace = sys.gettrace()
        if trace is None:
            return self._record(text)
        sys.settrace(None)
        try:
            return self._record(text)
        finally:
            sys.settrace(trace)  # the caller's frame keeps its own line tracing

    def _record(self, text: str) -> int:
        # CPython's own traceback printer writes a frame's line in pieces: gather it first.
        state = self._hiding
        pieces = getattr(state, "pieces", None)
        if pieces is not None:
            pieces.append(text)
            if not text.endswith("\n"):
                return len(text)
            state.pieces = None
            text = "".join(pieces)
        elif text.startswith('  File "') and not text.endswith("\n"):
            state.pieces = [text]
            return len(text)
        if self._is_probe_frame(text):
            return len(text)
        written = len(text)
        if self._echo:
            written = self._stream.write(text)
            self._stream.flush()
        if text:
            coro = _current_task_name()
            if coro is None:
                self._out.emit("out", stream=self._name, text=text)
            else:
                self._out.emit("out", stream=self._name, text=text, coro=coro)
        return int(written)

    def _is_probe_frame(self, text: str) -> bool:
        """A traceback frame of the probe itself (its wrappers, the ``python -c`` line that
        starts it: ``concsim.live.runner.BOOT``), with
        its source and caret lines: left out, so that a traceback reads as under
        ``python program.py``. ``traceback`` writes a frame's lines in several pieces."""
        state = self._hiding
        if not text:  # the C printer writes empty margins between pieces
            return bool(getattr(state, "on", False))
        if text.startswith('  File "'):
            state.on = _PROBE_DIR in text or text.startswith(_BOOT_FRAME)
        elif getattr(state, "on", False) and getattr(state, "line_start", True):
            state.on = text.startswith(" ") or text == "\n"
        state.line_start = text.endswith("\n")
        return bool(getattr(state, "on", False))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def _is_devnull(stream: Any) -> bool:
    """Whether ``stream`` writes to ``/dev/null`` (the same device and inode)."""
    try:
        own, null = os.fstat(stream.fileno()), os.stat(os.devnull)
    except (AttributeError, OSError, ValueError):  # no file descriptor: a stream in memory
        return False
    return (own.st_dev, own.st_ino) == (null.st_dev, null.st_ino)


def _current_task_name() -> str | None:
    """The name of the asyncio task running in this thread (``asyncio.current_task()``), if
    any: what a coroutine prints is the task's, though its thread is main's."""
    asyncio = sys.modules.get("asyncio")
    if asyncio is None:
        return None
    loop = asyncio.events._get_running_loop()
    if loop is None:
        return None
    task = asyncio.current_task(loop)
    return None if task is None else str(task.get_name())
