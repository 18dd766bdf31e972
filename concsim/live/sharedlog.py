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

Layout of a file: the records, JSON lines, one after the other from its start; the rest of
the file is zeros (it is created empty). A writer appends a record with one
``mmap.write``: a single C call, done whole while the writing thread holds the GIL, so no
other thread of the process writes between its first byte and its last, and no lock is
needed (a lock let threads queue on it: a thread preempted inside the write made the next
writer wait for the lock and switch, where the program run plainly would have gone on). The
reader takes what lies before the first zero byte, up to its last newline: a record being
copied right now has a zero byte or no newline yet, and is read at the next look (JSON
lines hold no zero byte: the encoder escapes control characters). Each process writes its
own file (``records-PID``; a forked child opens its own at fork, and says so with an empty
line on the pipe: one system call per process). When a file is full the writer falls back
to the pipe.

This module imports only the standard library: it runs inside the program's interpreter.
"""

from __future__ import annotations

import contextlib
import mmap
import os
from collections.abc import Iterator

SIZE = 256 << 20
"""Bytes of one process's file: sparse, so only what is written takes memory."""
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

    @property
    def mapped(self) -> mmap.mmap | None:
        """This process's mapped file (None: there is none, records go to the pipe). Its
        ``write`` appends a record, and raises ``ValueError`` when the file is full."""
        return self._map

    def write(self, line: bytes) -> None:
        """Append one record, a JSON line ending in ``\\n``."""
        mapped = self._map
        if mapped is not None:
            try:
                mapped.write(line)  # at the map's position, which it moves past the line
                return
            except ValueError:  # no room left for it in the file: the pipe takes it
                pass
        with contextlib.suppress(OSError):  # the reader is gone: the run was aborted
            os.write(self.fallback, line)


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
        for name, (mapped, done) in self._files.items():  # values replaced, never added
            end = mapped.find(b"\0", done)
            chunk = mapped[done:] if end < 0 else mapped[done:end]
            complete = chunk.rfind(b"\n") + 1  # a record being written ends the chunk
            if complete:
                self._files[name] = (mapped, done + complete)
                yield from chunk[:complete].splitlines()

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
