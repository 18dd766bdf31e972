"""The probe's records in shared memory: one file per process of the program, mapped by the
process that writes it and by the reader.

A record written with ``os.write`` to a pipe costs a system call that releases the GIL
(``Py_BEGIN_ALLOW_THREADS`` in ``os_write_impl``): every record let another thread of a
CPU-bound program take the GIL, where the program run plainly keeps it until its switch
interval ends, so the probe changed the very interleaving it reported (a racy counter lost
more updates probed than plain). A record copied into a ``MAP_SHARED`` mapping is a
``memcpy`` under the GIL: no system call, no switch. The bytes are in the kernel's page
cache as soon as they are copied, so a process killed by SIGKILL has still reported
everything up to its death, as with the pipe.

Layout of a file: 8 bytes, the length of the records committed so far (little-endian),
then the records, JSON lines. A writer copies a line after the committed ones, then stores
the new length: a reader that sees the length sees the bytes before it (x86-64 keeps stores
in order). Each process writes its own file (``records-PID``; a forked child opens its own
at fork, and says so with an empty line on the pipe: one system call per process) under a
lock of its own, so threads never interleave. When a file is full the writer falls back to
the pipe.

This module imports only the standard library: it runs inside the program's interpreter.
"""

from __future__ import annotations

import _thread
import contextlib
import mmap
import os
from collections.abc import Iterator

SIZE = 256 << 20
"""Bytes of one process's file: sparse, so only what is written takes memory."""
_HEADER = 8
_PREFIX = "records-"


class SharedLog:
    """A process's records: appended to its own mapped file (or to ``fallback``, a pipe)."""

    def __init__(self, directory: str, fallback: int) -> None:
        self.directory = directory
        self.fallback = fallback
        self._open()
        os.register_at_fork(after_in_child=self._open)

    def _open(self) -> None:
        """A file of this process's own: a forked child must not share its parent's."""
        self._lock = _thread.allocate_lock()  # the real lock, never a recording one
        self._length = 0
        self._map: mmap.mmap | None = None  # none (the directory is gone): the pipe
        path = os.path.join(self.directory, f"{_PREFIX}{os.getpid()}")
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o600)
        except OSError:
            return
        try:
            os.ftruncate(fd, SIZE)
            self._map = mmap.mmap(fd, SIZE, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE)
        except OSError:
            return
        finally:
            os.close(fd)
        with contextlib.suppress(OSError):  # the reader looks for new files when told
            os.write(self.fallback, b"\n")

    def write(self, line: bytes) -> None:
        """Append one record, a JSON line ending in ``\\n``."""
        with self._lock:
            start = _HEADER + self._length
            end = start + len(line)
            if self._map is None or end > SIZE:
                with contextlib.suppress(OSError):  # the reader is gone: the run was aborted
                    os.write(self.fallback, line)
                return
            self._map[start:end] = line
            self._length += len(line)
            self._map[0:_HEADER] = self._length.to_bytes(_HEADER, "little")


class SharedLogReader:
    """The reader's side: every process's file in the run's directory, read as it grows."""

    def __init__(self, directory: str) -> None:
        self.directory = directory
        self._files: dict[str, tuple[mmap.mmap, int]] = {}  # name -> (map, bytes read)

    def read(self, discover: bool = True) -> Iterator[bytes]:
        """The lines committed since the last call, file by file; ``discover``: look for
        new files first (a process that opens one says so on the pipe, with an empty
        line)."""
        if discover or not self._files:
            self._discover()
        for name, (mapped, done) in list(self._files.items()):
            length = int.from_bytes(mapped[0:_HEADER], "little")
            if length <= done:
                continue
            chunk = mapped[_HEADER + done : _HEADER + length]
            self._files[name] = (mapped, length)
            yield from chunk.splitlines()

    def _discover(self) -> None:
        try:
            names = [n for n in os.listdir(self.directory) if n.startswith(_PREFIX)]
        except OSError:
            return
        for name in names:
            if name in self._files:
                continue
            try:
                with open(os.path.join(self.directory, name), "rb") as file:
                    mapped = mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ)
            except (OSError, ValueError):
                continue  # not yet sized: seen at the next read
            self._files[name] = (mapped, 0)

    def close(self) -> None:
        for mapped, _ in self._files.values():
            mapped.close()
        self._files.clear()
