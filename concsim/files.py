"""Reading the small text files concsim is given (scenarios, replays, the keymap), safely.

A path may name anything: a FIFO that blocks forever on ``open``, ``/dev/zero`` that never
ends, a file of gigabytes. Only a regular file of a bounded size is read, and anything else
is refused at once with one line, before a byte is read.
"""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path

from concsim.limits import MAX_FILE_BYTES


class FileRefused(OSError):
    """A path that is not a readable regular file of at most ``MAX_FILE_BYTES``; ``reason``
    says why, in words that follow the path (``is a FIFO, not a regular file``)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class NotUtf8(ValueError):
    """Bytes that are not UTF-8, and where: the 1-based line and column of the first bad byte."""

    def __init__(self, byte: int, line: int, col: int) -> None:
        super().__init__(f"byte 0x{byte:02x} is not UTF-8; expected UTF-8 text")
        self.line = line
        self.col = col


def decode_utf8(data: bytes) -> str:
    """The text of ``data`` (a BOM is dropped); raises NotUtf8 at the first bad byte."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        before = data[: error.start]
        line = before.count(b"\n") + 1
        col = len(before[before.rfind(b"\n") + 1 :].decode("utf-8", "replace")) + 1
        raise NotUtf8(data[error.start], line, col) from None


def read_small_file(path: str | Path, limit: int = MAX_FILE_BYTES) -> bytes:
    """The bytes of a regular file of at most ``limit`` bytes; raises FileRefused otherwise."""
    try:
        # O_NONBLOCK: opening a FIFO for reading must not wait for a writer; it is refused
        # below, by what fstat says of the very file opened.
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError:
        raise FileRefused("no such file") from None
    except IsADirectoryError:
        raise FileRefused("is a directory") from None
    except OSError as error:
        raise FileRefused(f"cannot read the file: {_reason(error)}") from None
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise FileRefused("is a directory")
        if not stat.S_ISREG(info.st_mode):
            raise FileRefused(f"is {_kind(info.st_mode)}, not a regular file")
        if info.st_size > limit:
            raise FileRefused(f"is {_size(info.st_size)}, over the limit of {_size(limit)}")
        chunks: list[bytes] = []
        total = 0
        while True:  # the file may grow while it is read: never read past the limit
            chunk = os.read(fd, limit + 1 - total)
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
            if total > limit:
                raise FileRefused(f"is over the limit of {_size(limit)}")
        return b"".join(chunks)
    except FileRefused:
        raise
    except OSError as error:
        raise FileRefused(f"cannot read the file: {_reason(error)}") from None
    finally:
        os.close(fd)


def _reason(error: OSError) -> str:
    return (error.strerror or str(error)).lower()


def _kind(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISCHR(mode):
        return "a character device"
    if stat.S_ISBLK(mode):
        return "a block device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "a special file"


def _size(size: int) -> str:
    """``1 MB``, ``24.3 MB``, ``512 bytes``: decimal units, as ``ls -h --si`` shows them."""
    if size < 1_000:
        return f"{size} bytes"
    if size < 1_000_000:
        return f"{size / 1_000:g} kB"
    return f"{size / 1_000_000:.3g} MB"


def write_atomically(target: Path, text: str, *, overwrite: bool) -> None:
    """Write ``text`` to a temporary file beside ``target``, then give it the name in one
    step: a full disk or a crash never leaves half a file (or truncates an old one). With
    ``overwrite=False`` an existing file is never replaced: FileExistsError."""
    handle, temporary = tempfile.mkstemp(
        dir=target.parent, prefix=f".{target.name}.", suffix=".tmp"
    )
    try:
        umask = os.umask(0)
        os.umask(umask)
        os.fchmod(handle, 0o666 & ~umask)  # as open() would create it, not mkstemp's 0600
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            file.write(text)
            file.flush()
            os.fsync(file.fileno())
        if overwrite:
            os.replace(temporary, target)
        else:
            os.link(temporary, target)  # atomic, and fails if the name is taken
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)
