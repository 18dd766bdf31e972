"""The probe: runs a generated program unchanged on CPython and reports what it does.

``python -c BOOT PLAN`` (``concsim.live.runner.BOOT``: ``run(PLAN)``) installs its
instruments from outside the shown code, then runs the program as ``__main__``
(``concsim.live.scope.run_program``, the equivalent of ``runpy.run_path``):

- ``sys.settrace`` (CPython: ``sys.settrace``), switched on only inside the program's task
  and main functions (``concsim.live.scope``), sees their calls, their exceptions and the
  lines that stand for steps; the ``cpu`` and ``native`` helpers run untraced;
- ``time.sleep``, ``asyncio.sleep``, ``Executor.submit``, ``Future.result``,
  ``BaseEventLoop.create_task``, ``threading.Lock`` and the standard streams are wrapped, for
  the program's own calls only (the caller's file is the program's);
- ``os.register_at_fork`` makes each worker process report too.

Each record is one JSON line copied into the process's own shared-memory file
(``concsim.live.sharedlog``): no system call, so the GIL is not released and the program's
threads switch where they would unobserved; nothing waits in a buffer (a process killed by
SIGKILL has reported everything up to its death). An inherited pipe stays open in every
process of the program: the reader knows the program has ended when it closes. Times are
``time.monotonic_ns()``, one clock for every process of the machine.

This module imports only the standard library: it runs inside the program's interpreter.
"""

from __future__ import annotations

import contextlib
import gc
import marshal
import os
import sys
import threading
import time

from concsim.live.sharedlog import SharedLog

TYPE_CHECKING = False  # typing costs the program's process ~5 ms to import
if TYPE_CHECKING:
    from typing import Any

_MAX_RECORD = 3800  # below PIPE_BUF (4096) with room for the envelope
_CO_COROUTINE = 0x80


class Reporter:
    """Writes one record at a time to the process's shared log (``concsim.live.sharedlog``),
    or, without a directory, with one ``os.write`` to the pipe (atomic up to PIPE_BUF).

    A record is one JSON line, ``{"k": kind, "t": time, "pid": ..., "tid": ..., fields}``:
    its head is formatted directly and only its fields go through the JSON encoder (the
    bytes are the same as encoding the whole dict, at a third of the cost); a record
    written again and again with the same fields (a step's line, the commonest, or a lock's
    acquire) is encoded once as a template and then only stamped (:meth:`row`). The time is
    ``time.monotonic_ns()``, an integer: writing a float costs four times as much
    (``float.__repr__`` finds its shortest digits); the reader divides it by 1e9, which gives
    the very float ``time.monotonic()`` would have (``_PyTime_AsSecondsDouble``)."""

    def __init__(self, fd: int, directory: str | None = None) -> None:
        self.fd = fd
        self.pid = os.getpid()
        os.register_at_fork(after_in_child=self._forked)  # before the log's: ready for it
        self.log = None if directory is None else SharedLog(directory, fd)
        self._bind()
        os.register_at_fork(after_in_child=self._bind)  # after the log's: its own new file

    def _forked(self) -> None:
        self.pid = os.getpid()

    def _bind(self) -> None:
        """``write``: the mapped file's own ``write``, a C method (no Python frame between
        a record and its copy, and none for a trace function to be called on when a wrapper
        in a traced thread writes); the pipe without one."""
        mapped = None if self.log is None else self.log.mapped
        self.write = self.spill if mapped is None else mapped.write

    def emit(self, kind: str, **fields: Any) -> None:
        t, tid = _monotonic_ns(), _ident()
        if fields:
            line = (
                f'{{"k": "{kind}", "t": {t}, "pid": {self.pid}, "tid": {tid}, {_encode(fields)[1:]}'
            )
        else:
            line = f'{{"k": "{kind}", "t": {t}, "pid": {self.pid}, "tid": {tid}}}'
        if len(line) > _MAX_RECORD:
            record = {"k": kind, "t": t, "pid": self.pid, "tid": tid, **fields}
            for key in ("value", "text", "message"):
                value = record.get(key)
                if isinstance(value, str):
                    record[key] = value[:1000] + "…"
            line = _encode(record)[:_MAX_RECORD]
        data = line.encode() + b"\n"
        try:
            self.write(data)
        except ValueError:  # the mapped file is full: the pipe takes the rest
            self.spill(data)

    def template(self, kind: str, **fields: Any) -> bytes:
        """The bytes of a record whose time, process and thread are left open (three
        ``%d``), for :meth:`row`: a record written again and again with the same fields (a
        step's line, a lock's acquire) is encoded once."""
        tail = ", " + _encode(fields)[1:].replace("%", "%%") if fields else "}"
        return f'{{"k": "{kind}", "t": %d, "pid": %d, "tid": %d{tail}\n'.encode()

    def row(self, template: bytes) -> None:
        """Write the record of a :meth:`template`, stamped now: one ``bytes % (t, pid,
        tid)``, a quarter of what :meth:`emit` costs."""
        data = template % (_monotonic_ns(), self.pid, _ident())
        try:
            self.write(data)
        except ValueError:  # the mapped file is full
            self.spill(data)

    def spill(self, data: bytes) -> None:
        """A record that no mapped file takes: to the pipe, one ``os.write``."""
        if self.log is not None:
            self.log.write(data)  # the map if it has room after all, else the pipe
            return
        with contextlib.suppress(OSError):  # the reader is gone: the run was aborted
            os.write(self.fd, data)


_monotonic_ns = time.monotonic_ns
_ident = threading.get_ident


def _text(value: Any) -> Any:
    """JSON for any value: exceptions as their repr (as ``print(results)`` shows them)."""
    if isinstance(value, tuple | set | frozenset):
        return list(value)
    return repr(value)


def _encoder() -> tuple[Any, Any]:
    """The string quoter and one encoder for every record, from ``_json``, the C half of
    ``json``: the ``json`` package itself imports ``re`` and compiles four patterns, a few
    milliseconds of start-up the probe does not need. ``JSONEncoder.encode`` builds a new
    C encoder (``_json.make_encoder``) at each call, most of its cost: this one is built
    once, with ``JSONEncoder``'s defaults and no check for circular values (``markers``: a
    record's values are the program's results, never circular)."""
    try:
        from _json import encode_basestring_ascii as quote
        from _json import make_encoder
    except ImportError:  # an interpreter without the C accelerator
        import json

        return json.encoder.encode_basestring_ascii, json.JSONEncoder(default=_text).encode
    chunks = make_encoder(None, _text, quote, None, ": ", ", ", False, False, True)

    def encode(value: Any) -> str:
        return "".join(chunks(value, 0))

    return quote, encode


_quote, _encode = _encoder()
"""``_quote``: a string as the record encoder writes it (``ensure_ascii``, the default)."""


def _jsonable(value: Any) -> Any:
    if isinstance(value, BaseException):
        return repr(value)
    if isinstance(value, list | tuple):
        return [_jsonable(item) for item in value]
    return value


class Tracer:
    """The trace functions: task and main frames, and the lines that stand for steps."""

    def __init__(self, plan: dict[str, Any], out: Reporter) -> None:
        self.out = out
        self.file = plan["program"]
        self.main = plan.get("main_function", "main")
        self.helpers = frozenset(plan.get("helpers", ()))
        self.actions = frozenset(plan.get("actions", ()))
        self.lines = frozenset(plan.get("lines", ()))
        self.writes: dict[int, str] = {int(k): v for k, v in plan.get("writes", {}).items()}
        # function name -> {copy index (None: no argument) -> task instance name}
        self.instances: dict[str, dict[int | None, str]] = {}
        for name, function, index in plan.get("tasks", ()):
            self.instances.setdefault(function, {})[index] = name
        self.roles: dict[Any, str | None] = {}  # code object -> "task", "main" or None
        self.frames: dict[Any, dict[str, Any]] = {}  # live task/main frame -> its state
        self.running: dict[str, int] = {}  # task instance -> thread ident (of this process)
        self.main_frame: Any = None
        # task instance -> {line -> its record's template, b"" for a line of no step}
        self.rows: dict[str, dict[int, bytes]] = {}
        self._local = self.local  # one bound method, returned at every event
        self.stop: str | None = plan.get("stop_event")
        returns, yield_value, resume = plan.get("opcodes") or opcodes()
        self.returns = frozenset(returns)
        self.yield_value: int = yield_value
        self.resume: int = resume

    def _role(self, code: Any) -> str | None:
        role: str | None = None
        if code.co_filename == self.file and code.co_name not in self.helpers:
            if code.co_name == self.main:
                role = "main"
            elif code.co_name in self.instances:
                role = "task"
            elif code.co_name in self.actions:
                role = "action"
        self.roles[code] = role
        return role

    def instance(self, frame: Any) -> str | None:
        copies = self.instances[frame.f_code.co_name]
        if None in copies:
            return copies[None]
        return copies.get(frame.f_locals.get("i"))

    def call(self, frame: Any, event: str, arg: Any) -> Any:
        """The global trace function: decides per frame whether to trace it at all."""
        code = frame.f_code
        role = self.roles.get(code, "?")
        if role == "?":
            role = self._role(code)
        if role is None:
            return None
        state = self.frames.get(frame)
        if state is None and role == "action":
            # a barrier's action: its lines belong to the task whose thread trips it
            tid = threading.get_ident()
            name = next((task for task, ident in self.running.items() if ident == tid), None)
            if name is None:
                return None
            self.frames[frame] = {
                "task": name,
                "exc": None,
                "pending": None,
                "action": True,
                "rows": self._rows_of(name),
                "main": False,
            }
            return self._local
        if state is None:
            name = "main" if role == "main" else self.instance(frame)
            if name is None:
                return None
            state = {
                "task": name,
                "exc": None,
                "pending": None,
                "rows": self._rows_of(name),
                "main": role == "main",
            }
            self.frames[frame] = state
            if role == "main":
                if self.main_frame is None:
                    self.out.emit("main_begin")
                self.main_frame = frame
            else:
                self.running[name] = threading.get_ident()
                coro = code.co_flags & _CO_COROUTINE
                current = _current_task() if coro else None
                self.out.emit(
                    "begin",
                    task=name,
                    thread=threading.current_thread().name,
                    coro=current.get_name() if current is not None else None,
                )
        return self._local

    def _rows_of(self, task: str) -> dict[int, bytes]:
        rows = self.rows.get(task)
        if rows is None:
            rows = self.rows[task] = {}
        return rows

    def _row(self, rows: dict[int, bytes], task: str, line: int) -> bytes:
        """The template of a ``line`` record of ``task`` at ``line`` (``Reporter.template``),
        or ``b""`` if no step stands on that line: made once per task and line."""
        row = self.out.template("line", task=task, line=line) if line in self.lines else b""
        rows[line] = row
        return row

    def local(self, frame: Any, event: str, arg: Any) -> Any:
        state = self.frames.get(frame)
        if state is None:
            return None
        if event == "line":  # the commonest event: one stamp of a template, no call
            pending = state["pending"]
            if pending is not None:
                state["pending"] = None
                name = self.writes[pending]
                self.out.emit("shared", task=state["task"], name=name, value=frame.f_globals[name])
            line = frame.f_lineno
            row = state["rows"].get(line)
            if row is None:
                row = self._row(state["rows"], state["task"], line)
            if row:
                out = self.out
                data = row % (_monotonic_ns(), out.pid, _ident())
                try:
                    out.write(data)
                except ValueError:  # the mapped file is full
                    out.spill(data)
                if line in self.writes:
                    state["pending"] = line
                if state["main"]:
                    self._results(frame, state)
            return self._local
        elif event == "exception" and "action" in state:
            return self._local  # the task's own frame reports what it raises
        elif event == "return" and "action" in state:
            if state["pending"] is not None:
                name = self.writes[state["pending"]]
                self.out.emit("shared", task=state["task"], name=name, value=frame.f_globals[name])
            del self.frames[frame]
        elif event == "exception":
            error = arg[1]
            if isinstance(error, _PLUMBING):
                return self._local  # how awaits and generators finish, not an error
            if state["exc"] is not error:
                state["exc"] = error
                self.out.emit(
                    "exc",
                    task=state["task"],
                    error=type(error).__name__,
                    message=str(error),
                    line=frame.f_lineno,
                )
        elif event == "return":
            how = _exit_kind(frame, self.returns, self.yield_value, self.resume)
            if how == "suspended":
                return self._local  # a coroutine suspended at an await
            if how == "returned":
                state["exc"] = None
            elif state["exc"] is None:
                state["exc"] = _UNKNOWN  # e.g. thrown into a suspended coroutine
            if state["pending"] is not None:
                name = self.writes[state["pending"]]
                self.out.emit("shared", task=state["task"], name=name, value=frame.f_globals[name])
            del self.frames[frame]
            self._ended(frame, state, arg)
        return self._local

    def _ended(self, frame: Any, state: dict[str, Any], value: Any) -> None:
        error = state["exc"]
        name = state["task"]
        if name == "main":
            self._results(frame, state)
            cause = getattr(error, "__cause__", None)
            self.out.emit(
                "main_end",
                error=type(error).__name__ if error is not None else None,
                message=str(error) if error is not None else "",
                cause=repr(cause) if cause is not None else None,
            )
            return
        self.running.pop(name, None)
        if error is _UNKNOWN:
            self.out.emit("end", task=name, error="?", message="", value=None)
        elif error is not None:
            self.out.emit(
                "end", task=name, error=type(error).__name__, message=str(error), value=None
            )
        else:
            # a module-level event, or (spawn) the one main passed in as an argument
            stop = None
            if self.stop:
                stop = frame.f_locals.get(self.stop, frame.f_globals.get(self.stop))
            self.out.emit(
                "end",
                task=name,
                error=None,
                message="",
                value=_jsonable(value),
                stopped=bool(stop is not None and stop.is_set()),
            )

    def _results(self, frame: Any, state: dict[str, Any]) -> None:
        """New values in main's ``results`` list: what main received, in order. Looked up
        at each of main's step lines: main may bind it again (``results = []``, then
        ``results = await asyncio.gather(...)``)."""
        results = frame.f_locals.get("results")
        if not isinstance(results, list):
            return
        seen = state.get("seen", 0)
        for value in results[seen:]:
            self.out.emit("received", value=_jsonable(value))
        state["seen"] = len(results)


_PLUMBING = (StopIteration, StopAsyncIteration, GeneratorExit)
_UNKNOWN = object()


def _exit_kind(frame: Any, returns: frozenset[int], yield_value: int, resume: int) -> str:
    """What a ``return`` trace event means, from the last instruction the frame ran
    (CPython 3.11): RETURN_VALUE (3.12: or RETURN_CONST) returned, YIELD_VALUE suspended a
    coroutine at ``await``, anything else (RAISE_VARARGS, RERAISE, a call that raised) lets
    an exception out."""
    code, lasti = frame.f_code.co_code, frame.f_lasti
    op = code[lasti]
    if op in returns:
        return "returned"
    if op == yield_value:
        return "suspended"
    if op == resume and lasti >= 2 and code[lasti - 2] == yield_value:
        return "suspended"  # 3.13 reports the RESUME after the YIELD_VALUE
    return "raised"


def opcodes() -> tuple[list[int], int, int]:
    """This interpreter's RETURN_VALUE and RETURN_CONST (3.12 returns a constant with it:
    ``return "done"``, and ``None`` at the end), YIELD_VALUE and RESUME: worked out by the
    parent for the plan (``plan["opcodes"]``), as the ``opcode`` module costs the program's
    process a millisecond to import; here when the plan does not say (another interpreter)."""
    import opcode

    returns = [
        opcode.opmap[name] for name in ("RETURN_VALUE", "RETURN_CONST") if name in opcode.opmap
    ]
    return returns, opcode.opmap["YIELD_VALUE"], opcode.opmap["RESUME"]


def _current_task() -> Any:
    asyncio = sys.modules.get("asyncio")
    try:
        return asyncio.current_task() if asyncio is not None else None
    except RuntimeError:
        return None


def load_plan(path: str) -> dict[str, Any]:
    """The plan the parent wrote (``concsim.live.runner``): a dict in ``marshal``'s format,
    built into the interpreter, where ``json`` would cost an import."""
    with open(path, "rb") as file:
        plan: dict[str, Any] = marshal.load(file)
    plan["path"] = path
    return plan


def run(plan_path: str) -> None:
    """Install the instruments, then run the program as ``python PROGRAM`` would."""
    import atexit

    from concsim.live.control import Control
    from concsim.live.instruments import Instruments
    from concsim.live.scope import Scope, run_program

    plan = load_plan(plan_path)
    out = Reporter(plan["out"], plan.get("logs") or plan.get("dir"))
    tracer = Tracer(plan, out)
    instruments = Instruments(plan, out, tracer)

    def at_exit() -> None:  # registered first, so it runs after every other exit handler
        instruments.unread()
        instruments.phases.exited()
        out.emit("exit")

    atexit.register(at_exit)
    instruments.install()
    if plan.get("control") is not None:
        Control(plan["control"], instruments, out, plan.get("stop_event")).start()
    program = plan["program"]
    sys.argv = [program]
    sys.path[0] = os.path.dirname(program)
    out.emit("start", main_tid=threading.get_ident())
    traced = frozenset({tracer.main, *tracer.instances})
    scope = Scope(program, traced, tracer.helpers, tracer.call)
    # The probe's own objects, all made by now, leave the collector's generations
    # (``gc.freeze``): the program's collections, and the last one at exit, do not walk
    # them again, and its first starts from an empty youngest generation.
    gc.freeze()
    try:
        run_program(program, scope, plan["guard"], code=plan.get("code"))
    except SystemExit as error:
        out.emit("uncaught", error="SystemExit", message=str(error.code))
        raise
    except BaseException as error:
        out.emit("uncaught", error=type(error).__name__, message=str(error))
        raise
    finally:
        sys.settrace(None)
    out.emit("returned")


if __name__ == "__main__":
    # Run as ``python -m concsim.live.probe``: use the importable module, not this copy, so
    # that the instruments and this entry share one Tracer class.
    import concsim.live.probe as probe

    probe.run(sys.argv[1])
