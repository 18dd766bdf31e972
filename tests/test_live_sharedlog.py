"""The probe's records in shared memory (concsim.live.sharedlog): a record costs no system
call, so it never releases the GIL, and what a process wrote before SIGKILL is read."""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
from pathlib import Path

from concsim.live.probe import Reporter
from concsim.live.sharedlog import SharedLogReader


def _records(directory: Path) -> list[dict[str, object]]:
    reader = SharedLogReader(str(directory))
    try:
        return [json.loads(line) for line in reader.read()]
    finally:
        reader.close()


def test_records_are_read_in_the_order_each_process_wrote_them(tmp_path: Path) -> None:
    read_end, write_end = os.pipe()
    try:
        out = Reporter(write_end, str(tmp_path))
        for i in range(3):
            out.emit("x", i=i)
        assert [r["i"] for r in _records(tmp_path)] == [0, 1, 2]
        assert all(r["pid"] == os.getpid() for r in _records(tmp_path))
    finally:
        os.close(read_end)
        os.close(write_end)


def test_what_a_process_wrote_before_sigkill_is_read(tmp_path: Path) -> None:
    """A forked child writes its own file (records-PID) and dies by SIGKILL mid-run."""
    read_end, write_end = os.pipe()
    out = Reporter(write_end, str(tmp_path))
    pid = os.fork()
    if pid == 0:  # the child: three records, then killed as the kill fault kills a worker
        try:
            for i in range(3):
                out.emit("child", i=i)
            os.kill(os.getpid(), signal.SIGKILL)
        finally:
            os._exit(1)
    _, status = os.waitpid(pid, 0)
    os.close(read_end)
    os.close(write_end)
    assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL
    assert [(r["k"], r["i"], r["pid"]) for r in _records(tmp_path)] == [
        ("child", 0, pid),
        ("child", 1, pid),
        ("child", 2, pid),
    ]


def test_a_record_does_not_release_the_gil(tmp_path: Path) -> None:
    """A thread that wants the GIL gets it only when the writer blocks: with a switch
    interval of 10 s, 300 records in a row let no other thread run (``os.write`` to a pipe
    released the GIL at each one)."""
    read_end, write_end = os.pipe()
    out = Reporter(write_end, str(tmp_path))
    written: list[int] = []
    seen: list[int] = []
    go = threading.Event()

    def other() -> None:
        go.wait()  # woken by go.set(): from then on it waits for the GIL
        seen.append(len(written))

    interval = sys.getswitchinterval()
    sys.setswitchinterval(10.0)
    try:
        thread = threading.Thread(target=other)
        thread.start()
        go.set()
        for i in range(300):
            out.emit("x", i=i)
            written.append(i)
        thread.join()
    finally:
        sys.setswitchinterval(interval)
        os.close(read_end)
        os.close(write_end)
    assert seen == [300]


def test_a_record_being_copied_is_read_once_it_is_whole(tmp_path: Path) -> None:
    """The reader stops at the first zero byte and at the last newline before it: a record
    half copied (its end there, a gap of zeros inside) is left for the next look."""
    path = tmp_path / "records-1"
    first, second = b'{"k": "a"}\n', b'{"k": "b", "i": 12345}\n'
    path.write_bytes(first + second[:5] + bytes(6) + second[11:] + bytes(64))
    reader = SharedLogReader(str(tmp_path))
    try:
        assert list(reader.read()) == [b'{"k": "a"}']
        with open(path, "r+b") as file:  # the copy goes on
            file.seek(len(first) + 5)
            file.write(second[5:11])
        assert list(reader.read()) == [b'{"k": "b", "i": 12345}']
        assert list(reader.read()) == []
    finally:
        reader.close()


def test_threads_switching_at_every_chance_never_mix_their_records(tmp_path: Path) -> None:
    """No lock: each record is one ``mmap.write``, a C call no other thread can enter."""
    read_end, write_end = os.pipe()
    out = Reporter(write_end, str(tmp_path))

    def write(n: int) -> None:
        for i in range(2000):
            out.emit("x", n=n, i=i, text="y" * (i % 50))

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        threads = [threading.Thread(target=write, args=(n,)) for n in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        sys.setswitchinterval(interval)
        os.close(read_end)
        os.close(write_end)
    records = _records(tmp_path)
    assert len(records) == 8000
    for n in range(4):
        assert [r["i"] for r in records if r["n"] == n] == list(range(2000))
