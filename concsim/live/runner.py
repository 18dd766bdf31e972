"""Runs a generated program in a child interpreter under the probe and collects its records.

The program is written to a temporary directory and run as ``python -c BOOT PLAN`` (the
probe, ``concsim.live.probe.run``) in a session of its own, so that every process it starts
(pool workers included) can be ended at once with one ``killpg``. Records arrive in shared memory
(``concsim.live.sharedlog``), read by a thread that also watches a pipe every process of
the program holds open, so that it knows when they have all ended; faults go
in on a second pipe (``fail``, ``hang``, ``timeout``, ``cancel``), as an order file and
``SIGUSR1`` for a task in a worker process (``concsim.live.orders``), or as signals
(``kill``: SIGKILL to the worker process; ``interrupt``: SIGINT to the program's main
process, which Python turns into ``KeyboardInterrupt`` in the main thread). ``close()`` —
called on every way out, including an abort at any instant — leaves no process, thread,
pipe or temporary file behind.
"""

from __future__ import annotations

import contextlib
import json
import marshal
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from concsim.live.bytecode import write_probe
from concsim.live.control import command_line
from concsim.live.orders import ORDER_SIGNAL, write_order
from concsim.live.probe import opcodes
from concsim.live.scope import program_code
from concsim.live.sharedlog import SharedLogReader
from concsim.live.split import main_guard

Record = dict[str, Any]

MEMORY_DIR = "/dev/shm"
"""Where the shared logs go when it exists (tmpfs: memory alone)."""

BOOT = "import sys; from concsim.live.probe import run; run(sys.argv[1])"
"""The probe's command (``python -c BOOT PLAN``). ``python -m concsim.live.probe`` would
first import ``runpy`` and find the module through ``importlib.util``, then run the probe's
module twice (as ``__main__``, which imports it again): about 11 million instructions
(a few milliseconds) more at the start of every run, for the same probe."""

POLL = 0.005
"""Seconds between two looks at the shared logs while the program runs."""


@dataclass(frozen=True, slots=True)
class Plan:
    """What the probe needs to know about a program (``concsim.codegen.Program``'s maps)."""

    source: str
    tasks: tuple[tuple[str, str, int | None], ...]  # (instance, function, copy index)
    lines: tuple[int, ...] = ()  # lines that stand for a step
    writes: Mapping[int, str] = field(default_factory=dict)  # line -> shared variable
    helpers: tuple[str, ...] = ()
    actions: tuple[str, ...] = ()  # functions traced as part of the task that calls them
    stop_event: str | None = None
    main_function: str = "main"


class LiveRun:
    """One run of a program on CPython. ``on_record`` is called from the reader thread."""

    def __init__(
        self,
        plan: Plan,
        *,
        on_record: Callable[[Record], None] | None = None,
        python: str = sys.executable,
    ) -> None:
        self.plan = plan
        self.on_record = on_record
        self.python = python
        self.records: list[Record] = []
        self.process: subprocess.Popen[bytes] | None = None
        self.t0: float | None = None
        self._dir: str | None = None
        self._logs: str | None = None  # the shared logs' directory, in memory if it can be
        self._reader: threading.Thread | None = None
        self._control: int | None = None
        self._started = threading.Event()
        self._lock = threading.Lock()
        self._command_id = 0
        self.closed = False

    # --- starting and waiting -----------------------------------------------------------

    def start(self) -> None:
        self._dir = tempfile.mkdtemp(prefix="concsim-live-")
        self._logs = _memory_dir() or self._dir
        program = os.path.join(self._dir, "program.py")
        with open(program, "w", encoding="utf-8") as file:
            file.write(self.plan.source)
        read_end, write_end = os.pipe()
        control_read, control_write = os.pipe()
        plan: dict[str, Any] = {
            "program": program,
            "main_function": self.plan.main_function,
            "tasks": [list(task) for task in self.plan.tasks],
            "lines": list(self.plan.lines),
            "writes": dict(self.plan.writes),
            "helpers": list(self.plan.helpers),
            "actions": list(self.plan.actions),
            "stop_event": self.plan.stop_event,
            "guard": list(main_guard(self.plan.source)),
            "out": write_end,
            "control": control_read,
            "dir": self._dir,
            "logs": self._logs,
        }
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        if self.python == sys.executable:
            write_probe(self._dir)  # imported from there, already compiled
            plan["opcodes"] = opcodes()  # the same interpreter: the same numbers
            plan["code"] = program_code(program, self.plan.source, plan["guard"])
        else:
            # Another CPython imports the probe (standard library only) from this checkout.
            here = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
            env["PYTHONPATH"] = os.pathsep.join(filter(None, [here, env.get("PYTHONPATH")]))
        plan_path = os.path.join(self._dir, "plan")
        with open(plan_path, "wb") as file:
            marshal.dump(plan, file)  # concsim.live.probe.load_plan
        try:
            with open(os.path.join(self._dir, "stderr"), "wb") as stderr:
                self.process = subprocess.Popen(
                    [self.python, "-c", BOOT, plan_path],
                    pass_fds=(write_end, control_read),
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.DEVNULL,
                    stderr=stderr,
                    start_new_session=True,  # its own process group: killpg ends it all
                    env=env,
                    cwd=self._dir,
                )
        finally:
            os.close(write_end)
            os.close(control_read)
        self._control = control_write
        self._reader = threading.Thread(
            target=self._read, args=(read_end,), name="concsim-live-reader", daemon=True
        )
        self._reader.start()

    def _read(self, fd: int) -> None:
        """Read the records as they come: the processes' shared logs, polled every
        ``POLL`` seconds, and the pipe (a new log's announcement, a full log's overflow),
        until every process of the program has closed the pipe, i.e. ended; then what is
        left."""
        assert self._logs is not None
        logs = SharedLogReader(self._logs)
        pending = b""
        poller = select.poll()  # registered once: a look costs one system call, no lists
        poller.register(fd, select.POLLIN)
        timeout = round(POLL * 1000)
        try:
            ended = False
            while not ended:
                ready = poller.poll(timeout)
                lines: list[bytes] = []
                if ready:
                    data = os.read(fd, 65536)
                    ended = not data
                    pending += data
                    *complete, pending = pending.split(b"\n")
                    lines += complete
                lines += logs.read(discover=bool(ready))
                if lines:
                    self._deliver(lines)
        finally:
            os.close(fd)
            logs.close()
        self._started.set()

    def _deliver(self, lines: list[bytes]) -> None:
        """Records from several processes, in the order of their times."""
        records = _parse([line for line in lines if line])  # b"": a new log's announcement
        if not records:
            return
        records.sort(key=lambda record: record.get("t", 0.0))
        with self._lock:
            self.records.extend(records)
        for record in records:
            if self.t0 is None and record.get("k") == "main_begin":
                self.t0 = record["t"]  # time 0: main() starts, as in the simulator
                self._started.set()
            if self.on_record is not None:
                self.on_record(record)

    def wait(self, limit: float) -> bool:
        """Wait until the program exits or ``limit`` seconds pass; True if it exited."""
        assert self.process is not None
        if not _exited(self.process, limit):
            return False
        assert self._reader is not None
        self._reader.join(timeout=5.0)  # pool workers that outlive main keep the pipe open
        return True

    @property
    def now(self) -> float:
        """Seconds since the program started (0 before it did)."""
        return 0.0 if self.t0 is None else time.monotonic() - self.t0

    def wait_started(self, timeout: float = 10.0) -> bool:
        return self._started.wait(timeout)

    @property
    def stderr(self) -> str:
        if self._dir is None:
            return ""
        try:
            with open(os.path.join(self._dir, "stderr"), encoding="utf-8") as file:
                return file.read()
        except OSError:
            return ""

    # --- faults -------------------------------------------------------------------------

    def command(self, fault: str, target: str, error: str = "RuntimeError") -> int:
        """Send a fault to the probe; its ``applied`` record carries the returned id."""
        if self._control is None:
            return -1
        self._command_id += 1
        command = {"id": self._command_id, "fault": fault, "target": target, "error": error}
        try:
            os.write(self._control, command_line(command))
        except OSError:
            return -1
        return self._command_id

    def order(self, pid: int, fault: str, target: str, error: str) -> int:
        """Send ``fail`` or ``hang`` to a task in a worker process (``concsim.live.orders``);
        its ``applied`` record carries the returned id."""
        if self._dir is None:
            return -1
        self._command_id += 1
        order = {"id": self._command_id, "fault": fault, "target": target, "error": error}
        write_order(self._dir, pid, order)
        return self._command_id if self.signal(pid, ORDER_SIGNAL) else -1

    def signal(self, pid: int, signum: int) -> bool:
        """Send a signal to one process of the program (never outside its group)."""
        if self.process is None or self.process.poll() is not None:
            return False
        try:
            if os.getpgid(pid) != self.process.pid:
                return False
            os.kill(pid, signum)
        except ProcessLookupError:
            return False
        return True

    def interrupt(self) -> bool:
        """Ctrl-C as far as the main thread is concerned: SIGINT to the main process."""
        assert self.process is not None
        return self.signal(self.process.pid, signal.SIGINT)

    # --- ending -------------------------------------------------------------------------

    def close(self) -> None:
        """End every process of the program, stop reading, delete the temporary files."""
        if self.closed:
            return
        self.closed = True
        if self.process is not None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        if self._control is not None:
            os.close(self._control)
            self._control = None
        if self._reader is not None:
            self._reader.join(timeout=5.0)
        if self._logs is not None and self._logs != self._dir:
            shutil.rmtree(self._logs, ignore_errors=True)
        self._logs = None
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None

    def __enter__(self) -> LiveRun:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _exited(process: subprocess.Popen[bytes], limit: float) -> bool:
    """Wait until ``process`` exits or ``limit`` seconds pass; True if it exited (and is
    reaped). ``Popen.wait(timeout)`` polls with sleeps that double up to 50 ms, so it sees
    an exit up to 50 ms late; a pidfd (Linux 5.3, ``os.pidfd_open``) becomes readable the
    moment the process ends."""
    if process.returncode is not None:
        return True
    try:
        pidfd = os.pidfd_open(process.pid)
    except (AttributeError, OSError):  # not Linux, an old kernel, or already reaped
        try:
            process.wait(timeout=limit)
        except subprocess.TimeoutExpired:
            return False
        return True
    try:  # no limit (inf, as the app waits) is no timeout: select takes none that long
        ready, _, _ = select.select([pidfd], [], [], limit if limit < 1e9 else None)
    finally:
        os.close(pidfd)
    if not ready:
        return False
    process.wait()  # it has exited: waitpid returns at once
    return True


def _parse(lines: list[bytes]) -> list[Record]:
    """The records of some JSON lines, in one ``json.loads`` of them all (a call per line
    costs the reader more than the decoding); line by line if one of them is not a
    record (a log cut short by a killed process), leaving it out. Their times, written
    in nanoseconds (``time.monotonic_ns()``), in seconds as ``time.monotonic()`` gives
    them."""
    if not lines:
        return []
    try:
        records: list[Record] = json.loads(b"[" + b",".join(lines) + b"]")
        if all(isinstance(record, dict) for record in records):
            return _seconds(records)
    except ValueError:
        pass
    records = []
    for line in lines:
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if isinstance(record, dict):
            records.append(record)
    return _seconds(records)


def _seconds(records: list[Record]) -> list[Record]:
    for record in records:
        t = record.get("t")
        if isinstance(t, int):
            record["t"] = t / 1e9  # the float time.monotonic() rounds to (_PyTime_AsSecondsDouble)
    return records


def _memory_dir() -> str | None:
    """A directory of its own in ``/dev/shm`` (tmpfs): a shared log there is memory alone.
    On a file system on disk a first write to each page of a log can wait for the journal
    (a page fault in ``ext4_page_mkwrite``): measured on a busy machine, a forked
    process's task then started 30-45 ms after main asked, against 10 ms with the pipe."""
    if not os.path.isdir(MEMORY_DIR):
        return None
    try:
        return tempfile.mkdtemp(prefix="concsim-live-", dir=MEMORY_DIR)
    except OSError:
        return None
